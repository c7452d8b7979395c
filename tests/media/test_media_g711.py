import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media import g711

ALL_PCM = np.arange(-32768, 32768, dtype=np.int16)
ALL_CODES = bytes(range(256))


def test_ulaw_reference_values() -> None:
    # ITU G.711 µ-law: 0xFF and 0x7F are ±0, 0x80/0x00 the largest magnitudes.
    assert g711.ULAW_DECODE[[0xFF, 0x7F, 0x80, 0x00]].tolist() == [0, 0, 32124, -32124]
    assert g711.ulaw_encode_array(np.array([0, 32767, -32768], np.int16)).tolist() == [
        0xFF,
        0x80,
        0x00,
    ]


def test_alaw_reference_values() -> None:
    # A-law codes alternate bits (XOR 0x55); 0xD5/0x55 are the smallest ±8.
    assert g711.ALAW_DECODE[[0xD5, 0x55, 0xAA, 0x2A]].tolist() == [8, -8, 32256, -32256]
    assert g711.alaw_encode_array(np.array([0, 32767, -32768], np.int16)).tolist() == [
        0xD5,
        0xAA,
        0x2A,
    ]


@pytest.mark.parametrize(
    ("encode", "decode"),
    [
        (g711.ulaw_encode_array, g711.ulaw_decode_array),
        (g711.alaw_encode_array, g711.alaw_decode_array),
    ],
)
def test_every_code_decodes_and_reencodes_to_itself(encode, decode) -> None:  # type: ignore[no-untyped-def]
    codes = np.arange(256, dtype=np.uint8)
    reencoded = encode(decode(codes))
    # µ-law has two zeros (0x7F, 0xFF); both decode to 0 which encodes as 0xFF.
    differing = set(np.flatnonzero(reencoded != codes).tolist())
    assert differing <= {0x7F}


def test_decoding_is_monotonic_in_magnitude() -> None:
    positive_ulaw = g711.ULAW_DECODE[np.arange(0xFF, 0x7F, -1)]
    assert np.all(np.diff(positive_ulaw.astype(int)) >= 0)
    quantisation_error = np.abs(
        g711.ulaw_decode_array(g711.ulaw_encode_array(ALL_PCM)).astype(int) - ALL_PCM
    )
    assert quantisation_error.max() <= 1024  # half the widest segment step (plus clip)


def test_bytes_api_matches_array_api() -> None:
    pcm = ALL_PCM.astype("<i2").tobytes()
    assert g711.ulaw_encode(pcm) == g711.ulaw_encode_array(ALL_PCM).tobytes()
    assert g711.alaw_encode(pcm) == g711.alaw_encode_array(ALL_PCM).tobytes()
    assert g711.ulaw_decode(ALL_CODES) == g711.ULAW_DECODE.astype("<i2").tobytes()
    assert g711.alaw_decode(ALL_CODES) == g711.ALAW_DECODE.astype("<i2").tobytes()


def test_odd_pcm_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="even"):
        g711.ulaw_encode(b"\x00\x01\x02")


def test_transcoding_goes_through_linear() -> None:
    assert g711.transcode_ulaw_to_alaw(ALL_CODES) == g711.alaw_encode(g711.ulaw_decode(ALL_CODES))
    assert g711.transcode_alaw_to_ulaw(ALL_CODES) == g711.ulaw_encode(g711.alaw_decode(ALL_CODES))
    assert g711.transcode_ulaw_to_alaw(bytes([g711.ULAW_SILENCE])) == bytes([g711.ALAW_SILENCE])


def test_matches_audioop_bit_for_bit() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    pcm = ALL_PCM.astype("<i2").tobytes()
    assert g711.ulaw_encode(pcm) == audioop.lin2ulaw(pcm, 2)
    assert g711.alaw_encode(pcm) == audioop.lin2alaw(pcm, 2)
    assert g711.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert g711.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


@given(st.binary(max_size=400))
def test_decode_encode_is_stable(codes: bytes) -> None:
    once = g711.alaw_encode(g711.alaw_decode(codes))
    assert once == codes
