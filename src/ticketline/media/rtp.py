"""RTP packets (RFC 3550 §5.1) and sequence-number arithmetic with wraparound.

An `RtpPacket` keeps every header field, the header extension and the raw
padding octets, so `RtpPacket.parse(data).serialize() == data` byte for byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

RTP_VERSION = 2
RTP_HEADER_SIZE = 12
SEQ_MODULO = 1 << 16
TIMESTAMP_MODULO = 1 << 32

_HEADER = struct.Struct("!BBHII")
_EXTENSION_HEADER = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class RtpHeaderExtension:
    """The single RFC 3550 §5.3.1 header extension: a 16-bit profile and 32-bit words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_range("extension profile", self.profile, 0xFFFF)
        if len(self.data) % 4:
            raise ValueError(f"extension data must be whole 32-bit words, got {len(self.data)}")
        if len(self.data) // 4 > 0xFFFF:
            raise ValueError("extension data longer than 65535 words")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet; `padding` holds the raw padding octets, the last being their count."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: RtpHeaderExtension | None = None
    padding: bytes = field(default=b"")

    def __post_init__(self) -> None:
        _check_range("payload_type", self.payload_type, 0x7F)
        _check_range("sequence", self.sequence, 0xFFFF)
        _check_range("timestamp", self.timestamp, 0xFFFFFFFF)
        _check_range("ssrc", self.ssrc, 0xFFFFFFFF)
        if len(self.csrc) > 15:
            raise ValueError(f"at most 15 CSRCs allowed, got {len(self.csrc)}")
        for source in self.csrc:
            _check_range("csrc", source, 0xFFFFFFFF)
        if self.padding and self.padding[-1] != len(self.padding):
            raise ValueError(
                f"last padding octet must be the padding length {len(self.padding)}, "
                f"got {self.padding[-1]}"
            )

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one RTP packet; raise ValueError saying precisely what is wrong."""
        if len(data) < RTP_HEADER_SIZE:
            raise ValueError(f"RTP packet too short: {len(data)} bytes, header needs 12")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        version = first >> 6
        if version != RTP_VERSION:
            raise ValueError(f"RTP version must be 2, got {version}")
        end = len(data)
        padding = b""
        if first & 0x20:
            padding = _padding_of(data, RTP_HEADER_SIZE)
            end -= len(padding)
        offset, csrc = _parse_csrc(data, first & 0x0F, end)
        extension = None
        if first & 0x10:
            offset, extension = _parse_extension(data, offset, end)
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding=padding,
        )

    def serialize(self) -> bytes:
        """Return the wire bytes of this packet."""
        first = RTP_VERSION << 6 | len(self.csrc)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        second = self.payload_type | (0x80 if self.marker else 0)
        parts = [_HEADER.pack(first, second, self.sequence, self.timestamp, self.ssrc)]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            ext = self.extension
            parts.append(_EXTENSION_HEADER.pack(ext.profile, len(ext.data) // 4))
            parts.append(ext.data)
        parts.append(self.payload)
        parts.append(self.padding)
        return b"".join(parts)


def _check_range(name: str, value: int, maximum: int) -> None:
    if not 0 <= value <= maximum:
        raise ValueError(f"{name} must be in 0..{maximum}, got {value}")


def _padding_of(data: bytes, header_end: int) -> bytes:
    count = data[-1]
    if count == 0:
        raise ValueError("RTP padding bit set but padding length is 0")
    if count > len(data) - header_end:
        room = len(data) - header_end
        raise ValueError(f"RTP padding length {count} exceeds the {room} bytes after the header")
    return bytes(data[-count:])


def _parse_csrc(data: bytes, count: int, end: int) -> tuple[int, tuple[int, ...]]:
    offset = RTP_HEADER_SIZE + 4 * count
    if offset > end:
        raise ValueError(f"RTP CSRC list of {count} entries overruns the {len(data)}-byte packet")
    return offset, struct.unpack_from(f"!{count}I", data, RTP_HEADER_SIZE)


def _parse_extension(data: bytes, offset: int, end: int) -> tuple[int, RtpHeaderExtension]:
    if offset + 4 > end:
        raise ValueError("RTP header extension header overruns the packet")
    profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
    start = offset + 4
    stop = start + 4 * words
    if stop > end:
        raise ValueError(f"RTP header extension of {words} words overruns the packet")
    return stop, RtpHeaderExtension(profile, bytes(data[start:stop]))


def seq_diff(a: int, b: int) -> int:
    """Signed distance from sequence number b to a, in -32768..32767, across wraparound."""
    return (a - b + 0x8000) % SEQ_MODULO - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """True if sequence number a comes after b (RFC 1982 serial arithmetic, 16 bits)."""
    return seq_diff(a, b) > 0


def seq_add(seq: int, delta: int) -> int:
    """Advance a sequence number by delta, wrapping at 2**16."""
    return (seq + delta) % SEQ_MODULO


def extend_seq(seq: int, reference: int) -> int:
    """Extended (unwrapped) sequence number of `seq` closest to the extended `reference`.

    Feed the previous result back in as `reference` to count wraparound cycles
    like RFC 3550 A.1; the first packet can use its own 16-bit number.
    """
    return reference + seq_diff(seq, reference % SEQ_MODULO)


def timestamp_diff(a: int, b: int) -> int:
    """Signed distance from RTP timestamp b to a, across 32-bit wraparound."""
    return (a - b + 0x80000000) % TIMESTAMP_MODULO - 0x80000000


def timestamp_add(timestamp: int, delta: int) -> int:
    """Advance an RTP timestamp by delta, wrapping at 2**32."""
    return (timestamp + delta) % TIMESTAMP_MODULO
