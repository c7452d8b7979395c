"""Read WAV files of common formats into 8 kHz int16; write 8 kHz 16-bit WAV incrementally.

Reading parses the RIFF chunks itself because Python 3.11's `wave` module
rejects float and WAVE_FORMAT_EXTENSIBLE files. Supported: integer PCM of
8/16/24/32 bits, IEEE float of 32/64 bits, any channel count and rate.
Writing uses `wave`, which re-patches the header after every write on a
seekable file, so a recording cut short by a crash is still a valid WAV.
"""

from __future__ import annotations

import os
import struct
import wave
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from ticketline.media.frames import SAMPLE_RATE, Pcm
from ticketline.media.resample import Float, resample

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_SECONDS = 30 * 60

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True, slots=True)
class WavFormat:
    """The parts of a WAV `fmt ` chunk we need."""

    encoding: int
    channels: int
    rate: int
    bits: int

    @property
    def frame_bytes(self) -> int:
        """Bytes per sample frame (all channels)."""
        return self.channels * self.bits // 8


def read_wav(
    path: str | os.PathLike[str],
    *,
    stereo: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
) -> Pcm:
    """Read a WAV file as 8 kHz int16: shape (n,) mono, or (n, 2) if `stereo`.

    Refuses files over `max_bytes` before reading them and audio longer than
    `max_seconds`; raises ValueError for anything that is not a supported WAV.
    """
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise ValueError(f"WAV file is {size} bytes, over the limit of {max_bytes}")
    return decode_wav(Path(path).read_bytes(), stereo=stereo, max_seconds=max_seconds)


def decode_wav(
    data: bytes, *, stereo: bool = False, max_seconds: float = DEFAULT_MAX_SECONDS
) -> Pcm:
    """Decode WAV bytes like `read_wav`."""
    fmt, payload = parse_wav(data)
    seconds = len(payload) / fmt.frame_bytes / fmt.rate
    if seconds > max_seconds:
        raise ValueError(f"WAV audio lasts {seconds:.0f} s, over the limit of {max_seconds:.0f} s")
    channels = _to_float_channels(payload, fmt)
    chosen = _choose_channels(channels, stereo)
    converted = [_to_int16(resample(channel, fmt.rate, SAMPLE_RATE)) for channel in chosen]
    return np.stack(converted, axis=1) if stereo else converted[0]


def parse_wav(data: bytes) -> tuple[WavFormat, bytes]:
    """Split WAV bytes into their format and raw sample bytes (whole frames only)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file: missing RIFF/WAVE header")
    chunks = _chunks(data)
    if b"fmt " not in chunks:
        raise ValueError("WAV file has no fmt chunk")
    if b"data" not in chunks:
        raise ValueError("WAV file has no data chunk (truncated?)")
    fmt = _parse_fmt(chunks[b"fmt "])
    payload = chunks[b"data"]
    return fmt, payload[: len(payload) - len(payload) % fmt.frame_bytes]


def _chunks(data: bytes) -> dict[bytes, bytes]:
    chunks: dict[bytes, bytes] = {}
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8 : offset + 8 + size]
        if len(body) < size:
            raise ValueError(f"WAV chunk {chunk_id!r} truncated: {len(body)} of {size} bytes")
        chunks.setdefault(chunk_id, body)
        offset += 8 + size + (size & 1)  # chunks are padded to even length
    return chunks


def _parse_fmt(body: bytes) -> WavFormat:
    if len(body) < 16:
        raise ValueError(f"WAV fmt chunk too short: {len(body)} bytes")
    encoding, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == _EXTENSIBLE:
        if len(body) < 26:
            raise ValueError("WAVE_FORMAT_EXTENSIBLE fmt chunk lacks its sub-format")
        encoding = struct.unpack_from("<H", body, 24)[0]
    fmt = WavFormat(encoding, channels, rate, bits)
    _check_supported(fmt)
    return fmt


def _check_supported(fmt: WavFormat) -> None:
    supported = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64)}
    if fmt.encoding not in supported:
        raise ValueError(f"unsupported WAV encoding {fmt.encoding} (need PCM or IEEE float)")
    if fmt.bits not in supported[fmt.encoding]:
        raise ValueError(f"unsupported WAV sample size {fmt.bits} bits for encoding {fmt.encoding}")
    if fmt.channels < 1 or fmt.rate < 1000 or fmt.rate > 384000:
        raise ValueError(f"unsupported WAV layout: {fmt.channels} channels at {fmt.rate} Hz")


def _to_float_channels(payload: bytes, fmt: WavFormat) -> Float:
    """Samples scaled to int16 range, shape (frames, channels)."""
    samples: Float
    if fmt.encoding == _FLOAT:
        dtype = "<f4" if fmt.bits == 32 else "<f8"
        samples = np.frombuffer(payload, dtype=dtype).astype(np.float64) * 32768.0
    elif fmt.bits == 8:
        samples = (np.frombuffer(payload, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif fmt.bits == 24:
        raw = np.frombuffer(payload, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = (raw[:, 0] << 8 | raw[:, 1] << 16 | raw[:, 2] << 24) >> 8
        samples = value.astype(np.float64) / 256.0
    else:
        dtype = "<i2" if fmt.bits == 16 else "<i4"
        samples = np.frombuffer(payload, dtype=dtype).astype(np.float64)
        samples /= 1 << (fmt.bits - 16)
    return samples.reshape(-1, fmt.channels)


def _choose_channels(channels: Float, stereo: bool) -> list[Float]:
    if not stereo:
        return [channels.mean(axis=1)]
    if channels.shape[1] == 1:
        return [channels[:, 0], channels[:, 0]]
    return [channels[:, 0], channels[:, 1]]


def _to_int16(samples: Float) -> Pcm:
    result: Pcm = np.clip(np.rint(samples), -32768, 32767).astype(np.int16)
    return result


class WavWriter:
    """Append 16-bit 8 kHz frames to a mono or stereo WAV file; close() finalises it.

    For call recording, stereo puts the caller on the left and the agent on the right.
    """

    def __init__(self, path: str | os.PathLike[str], channels: int = 1) -> None:
        if channels not in (1, 2):
            raise ValueError(f"WavWriter supports 1 or 2 channels, got {channels}")
        self.channels = channels
        self.frames_written = 0
        self._wave = wave.open(os.fspath(path), "wb")  # noqa: SIM115 - closed in close()
        self._wave.setnchannels(channels)
        self._wave.setsampwidth(2)
        self._wave.setframerate(SAMPLE_RATE)

    def write(self, pcm: bytes | npt.NDArray[np.int16]) -> None:
        """Append interleaved int16 samples (bytes little-endian, or an array)."""
        data = pcm if isinstance(pcm, bytes) else np.asarray(pcm, dtype="<i2").tobytes()
        if len(data) % (2 * self.channels):
            raise ValueError(
                f"{len(data)} bytes is not a whole number of {self.channels}-ch frames"
            )
        self._wave.writeframes(data)
        self.frames_written += len(data) // (2 * self.channels)

    def write_stereo(self, left: bytes, right: bytes) -> None:
        """Append one frame of left (caller) and right (agent) mono PCM."""
        if self.channels != 2:
            raise ValueError("write_stereo needs a 2-channel WavWriter")
        if len(left) != len(right):
            raise ValueError(f"left and right differ in length: {len(left)} != {len(right)}")
        pair = np.empty((len(left) // 2, 2), dtype="<i2")
        pair[:, 0] = np.frombuffer(left, dtype="<i2")
        pair[:, 1] = np.frombuffer(right, dtype="<i2")
        self.write(pair.tobytes())

    @property
    def duration_seconds(self) -> float:
        """Audio written so far, in seconds."""
        return self.frames_written / SAMPLE_RATE

    def close(self) -> None:
        """Fix the header and close the file (idempotent)."""
        self._wave.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
