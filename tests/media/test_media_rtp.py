import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media.rtp import (
    RtpHeaderExtension,
    RtpPacket,
    extend_seq,
    seq_add,
    seq_diff,
    seq_newer,
    timestamp_diff,
)

# RFC 3550 §5.1 layout: V=2 P=0 X=0 CC=0 | M=0 PT=0 (PCMU) | seq | ts | ssrc | 160 µ-law bytes
PCMU_PACKET = bytes.fromhex("8000123411223344deadbeef") + b"\xff" * 160

# V=2 P=1 X=1 CC=2 | M=1 PT=101 | seq 65535 | ts | ssrc | 2 CSRC | ext profile 0xBEDE, 1 word
# | RFC 4733 payload | 4 padding octets ending in the count 4
FULL_PACKET = (
    bytes([0b1011_0010, 0x80 | 101])
    + struct.pack("!HII", 0xFFFF, 0xFFFFFFFF, 0x01020304)
    + struct.pack("!II", 7, 8)
    + bytes.fromhex("bede000110ab0000")
    + bytes.fromhex("058a0320")
    + bytes([0, 0, 0, 4])
)


def test_parse_plain_pcmu_packet() -> None:
    packet = RtpPacket.parse(PCMU_PACKET)
    assert packet == RtpPacket(
        payload_type=0,
        sequence=0x1234,
        timestamp=0x11223344,
        ssrc=0xDEADBEEF,
        payload=b"\xff" * 160,
    )
    assert packet.serialize() == PCMU_PACKET


def test_parse_packet_with_every_optional_part() -> None:
    packet = RtpPacket.parse(FULL_PACKET)
    assert packet.marker
    assert packet.payload_type == 101
    assert packet.sequence == 0xFFFF
    assert packet.timestamp == 0xFFFFFFFF
    assert packet.csrc == (7, 8)
    assert packet.extension == RtpHeaderExtension(0xBEDE, bytes.fromhex("10ab0000"))
    assert packet.payload == bytes.fromhex("058a0320")
    assert packet.padding == bytes([0, 0, 0, 4])
    assert packet.serialize() == FULL_PACKET


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00\x00", "too short: 3 bytes"),
        (bytes([0x40]) + bytes(11), "version must be 2, got 1"),
        (bytes([0xA0]) + bytes(11), "padding length is 0"),
        (bytes([0xA0]) + bytes(10) + b"\x09", "padding length 9 exceeds the 0 bytes"),
        (bytes([0x82]) + bytes(15), "CSRC list of 2 entries overruns"),
        (bytes([0x90]) + bytes(13), "extension header overruns"),
        (bytes([0x90]) + bytes(11) + b"\x00\x00\x00\x02" + bytes(4), "extension of 2 words"),
    ],
)
def test_parse_rejects_bad_packets_precisely(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RtpPacket.parse(data)


def test_padding_counts_against_csrc_room() -> None:
    # One CSRC fits the bytes, but not once the 4 padding octets are removed.
    data = bytes([0xA1]) + bytes(11) + bytes([0, 0, 0, 4])
    with pytest.raises(ValueError, match="CSRC list of 1 entries overruns"):
        RtpPacket.parse(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"payload_type": 128},
        {"sequence": 65536},
        {"timestamp": -1},
        {"ssrc": 1 << 32},
        {"csrc": tuple(range(16))},
        {"padding": b"\x00\x03"},
    ],
)
def test_constructor_validates_fields(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"payload_type": 0, "sequence": 0, "timestamp": 0, "ssrc": 0}
    fields.update(kwargs)
    with pytest.raises(ValueError, match=r"must be|at most 15|padding"):
        RtpPacket(**fields)  # type: ignore[arg-type]


def test_extension_data_must_be_whole_words() -> None:
    with pytest.raises(ValueError, match="whole 32-bit words"):
        RtpHeaderExtension(1, b"abc")


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
    extension=st.none()
    | st.builds(
        RtpHeaderExtension,
        profile=st.integers(0, 0xFFFF),
        data=st.binary(max_size=40).map(lambda b: b[: len(b) // 4 * 4]),
    ),
    padding=st.integers(0, 255).map(lambda n: bytes(max(n - 1, 0)) + bytes([n]) if n else b""),
)


@given(packets)
def test_round_trip_of_any_packet(packet: RtpPacket) -> None:
    assert RtpPacket.parse(packet.serialize()) == packet


@given(st.binary(max_size=120))
def test_random_bytes_only_raise_value_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except ValueError:
        return
    assert packet.serialize() == data


@given(st.binary(min_size=12, max_size=120))
def test_random_version_2_bytes_round_trip_or_value_error(data: bytes) -> None:
    data = bytes([0x80 | (data[0] & 0x3F)]) + data[1:]
    try:
        packet = RtpPacket.parse(data)
    except ValueError:
        return
    assert packet.serialize() == data


def test_sequence_arithmetic_across_wraparound() -> None:
    assert seq_newer(0, 65535)
    assert not seq_newer(65535, 0)
    assert not seq_newer(5, 5)
    assert seq_diff(2, 65534) == 4
    assert seq_diff(65534, 2) == -4
    assert seq_add(65535, 2) == 1
    assert timestamp_diff(10, 0xFFFFFFF0) == 26


def test_extended_sequence_counts_cycles() -> None:
    extended = 65530
    seen = []
    for seq in [65531, 65535, 0, 3, 65534, 4, 100]:
        extended = extend_seq(seq, extended)
        seen.append(extended)
    assert seen == [65531, 65535, 65536, 65539, 65534, 65540, 65636]


@given(st.integers(0, 10**9), st.integers(-30000, 30000))
def test_extend_seq_inverts_wrapping(reference: int, delta: int) -> None:
    target = reference + delta
    assert extend_seq(target % 65536, reference) == target
