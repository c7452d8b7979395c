"""RTCP (RFC 3550 §6): SR, RR, SDES, BYE and compound packets; minimal but exact.

Other packet types are kept as `RtcpUnknown` so a compound packet survives a
parse/serialize round trip. Padding (only legal on the last packet) is
stripped on parse and not re-added.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SR, RR, SDES, BYE = 200, 201, 202, 203
SDES_CNAME = 1

_HEADER = struct.Struct("!BBH")
_BLOCK = struct.Struct("!IB3sIIII")
_SENDER_INFO = struct.Struct("!IIIIII")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception statistics for one source (RFC 3550 §6.4.1)."""

    ssrc: int
    fraction_lost: int
    packets_lost: int  # cumulative, signed 24-bit
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int

    @classmethod
    def parse(cls, data: bytes, offset: int) -> ReportBlock:
        """Parse the 24-byte block at `offset`."""
        ssrc, fraction, lost, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        return cls(
            ssrc, fraction, int.from_bytes(lost, "big", signed=True), highest, jitter, lsr, dlsr
        )

    def serialize(self) -> bytes:
        """Return the 24 wire bytes."""
        lost = self.packets_lost.to_bytes(3, "big", signed=True)
        return _BLOCK.pack(
            self.ssrc,
            self.fraction_lost,
            lost,
            self.highest_sequence,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        )


@dataclass(frozen=True, slots=True)
class SenderReport:
    """SR: sender info plus report blocks."""

    ssrc: int
    ntp_timestamp: int  # 64-bit NTP format
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()

    def body(self) -> bytes:
        """Wire bytes after the common header."""
        ntp_high, ntp_low = divmod(self.ntp_timestamp, 1 << 32)
        info = _SENDER_INFO.pack(
            self.ssrc, ntp_high, ntp_low, self.rtp_timestamp, self.packet_count, self.octet_count
        )
        return info + b"".join(r.serialize() for r in self.reports)


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    """RR: report blocks from a receiver that is not sending."""

    ssrc: int
    reports: tuple[ReportBlock, ...] = ()

    def body(self) -> bytes:
        """Wire bytes after the common header."""
        return struct.pack("!I", self.ssrc) + b"".join(r.serialize() for r in self.reports)


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """One source's SDES items as (type, value) pairs; type 1 is CNAME."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    @property
    def cname(self) -> str | None:
        """The CNAME item, decoded as UTF-8, if present."""
        for kind, value in self.items:
            if kind == SDES_CNAME:
                return value.decode("utf-8", "replace")
        return None

    def serialize(self) -> bytes:
        """Items, a null terminator, and zero padding to a 32-bit boundary."""
        out = struct.pack("!I", self.ssrc)
        out += b"".join(bytes([kind, len(value)]) + value for kind, value in self.items)
        out += b"\x00"
        return out + bytes(-len(out) % 4)


@dataclass(frozen=True, slots=True)
class SourceDescription:
    """SDES: a list of chunks."""

    chunks: tuple[SdesChunk, ...] = ()

    def body(self) -> bytes:
        """Wire bytes after the common header."""
        return b"".join(chunk.serialize() for chunk in self.chunks)


@dataclass(frozen=True, slots=True)
class Goodbye:
    """BYE: sources leaving, with an optional reason."""

    sources: tuple[int, ...] = ()
    reason: bytes = b""

    def body(self) -> bytes:
        """Wire bytes after the common header."""
        out = struct.pack(f"!{len(self.sources)}I", *self.sources)
        if self.reason:
            out += bytes([len(self.reason)]) + self.reason
        return out + bytes(-len(out) % 4)


@dataclass(frozen=True, slots=True)
class RtcpUnknown:
    """Any other RTCP packet type, kept verbatim."""

    packet_type: int
    count: int
    payload: bytes

    def body(self) -> bytes:
        """Wire bytes after the common header."""
        return self.payload


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | RtcpUnknown


def serialize_compound(packets: list[RtcpPacket]) -> bytes:
    """Serialize packets back to back (a compound RTCP packet)."""
    return b"".join(_serialize_one(p) for p in packets)


def _serialize_one(packet: RtcpPacket) -> bytes:
    packet_type, count = _type_and_count(packet)
    if count > 31:
        raise ValueError(f"RTCP count {count} exceeds 31")
    body = packet.body()
    if len(body) % 4:
        raise ValueError(f"RTCP body must be whole 32-bit words, got {len(body)} bytes")
    return _HEADER.pack(0x80 | count, packet_type, len(body) // 4) + body


def _type_and_count(packet: RtcpPacket) -> tuple[int, int]:
    if isinstance(packet, SenderReport):
        return SR, len(packet.reports)
    if isinstance(packet, ReceiverReport):
        return RR, len(packet.reports)
    if isinstance(packet, SourceDescription):
        return SDES, len(packet.chunks)
    if isinstance(packet, Goodbye):
        return BYE, len(packet.sources)
    return packet.packet_type, packet.count


def parse_compound(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP packet; raise ValueError saying precisely what is wrong."""
    if not data:
        raise ValueError("RTCP packet is empty")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            raise ValueError(f"RTCP header truncated at byte {offset}")
        first, packet_type, words = _HEADER.unpack_from(data, offset)
        if first >> 6 != 2:
            raise ValueError(f"RTCP version must be 2, got {first >> 6} at byte {offset}")
        end = offset + 4 + 4 * words
        if end > len(data):
            raise ValueError(f"RTCP packet at byte {offset} claims {4 * words} bytes, overruns")
        body = data[offset + 4 : end]
        if first & 0x20:
            body = _strip_padding(body)
        packets.append(_parse_body(packet_type, first & 0x1F, body))
        offset = end
    return packets


def _strip_padding(body: bytes) -> bytes:
    if not body or body[-1] == 0 or body[-1] > len(body):
        raise ValueError("RTCP padding length is invalid")
    return body[: -body[-1]]


def _parse_body(packet_type: int, count: int, body: bytes) -> RtcpPacket:
    if packet_type == SR:
        if len(body) < 24 + 24 * count:
            raise ValueError(f"RTCP SR too short for {count} report blocks: {len(body)} bytes")
        ssrc, high, low, rtp_ts, packets, octets = _SENDER_INFO.unpack_from(body)
        return SenderReport(
            ssrc, high << 32 | low, rtp_ts, packets, octets, _blocks(body, 24, count)
        )
    if packet_type == RR:
        if len(body) < 4 + 24 * count:
            raise ValueError(f"RTCP RR too short for {count} report blocks: {len(body)} bytes")
        return ReceiverReport(struct.unpack_from("!I", body)[0], _blocks(body, 4, count))
    if packet_type == SDES:
        return SourceDescription(_sdes_chunks(body, count))
    if packet_type == BYE:
        return _parse_bye(body, count)
    return RtcpUnknown(packet_type, count, bytes(body))


def _blocks(body: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    return tuple(ReportBlock.parse(body, offset + 24 * i) for i in range(count))


def _sdes_chunks(body: bytes, count: int) -> tuple[SdesChunk, ...]:
    chunks = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(body):
            raise ValueError(f"RTCP SDES chunk truncated at byte {offset}")
        ssrc = struct.unpack_from("!I", body, offset)[0]
        offset += 4
        items = []
        while True:
            if offset >= len(body):
                raise ValueError("RTCP SDES item list not terminated")
            kind = body[offset]
            if kind == 0:
                break
            if offset + 2 > len(body) or offset + 2 + body[offset + 1] > len(body):
                raise ValueError(f"RTCP SDES item at byte {offset} overruns the packet")
            length = body[offset + 1]
            items.append((kind, bytes(body[offset + 2 : offset + 2 + length])))
            offset += 2 + length
        offset += 4 - offset % 4  # null terminator plus padding to the next word
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return tuple(chunks)


def _parse_bye(body: bytes, count: int) -> Goodbye:
    if len(body) < 4 * count:
        raise ValueError(f"RTCP BYE too short for {count} sources: {len(body)} bytes")
    sources = struct.unpack_from(f"!{count}I", body)
    reason = b""
    if len(body) > 4 * count:
        length = body[4 * count]
        reason = bytes(body[4 * count + 1 : 4 * count + 1 + length])
        if len(reason) < length:
            raise ValueError(f"RTCP BYE reason of {length} bytes overruns the packet")
    return Goodbye(sources, reason)
