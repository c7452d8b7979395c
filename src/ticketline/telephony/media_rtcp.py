"""RTCP bookkeeping of one session: reception statistics in, SR/RR + SDES out.

Statistics follow RFC 3550 appendix A: extended highest sequence number,
cumulative and interval loss (A.3) and interarrival jitter (A.8) in timestamp
units. `on_rtp` runs for every packet, so it is a handful of integer and float
operations; everything else runs once per report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ticketline.media.rtcp import (
    SDES_CNAME,
    ReceiverReport,
    ReportBlock,
    RtcpPacket,
    SdesChunk,
    SenderReport,
    SourceDescription,
    parse_compound,
    serialize_compound,
)

NTP_EPOCH_OFFSET = 2208988800
CLOCK_RATE = 8000


@dataclass(frozen=True, slots=True)
class RemoteReport:
    """What the peer last said about the stream we send it."""

    fraction_lost: int
    packets_lost: int
    jitter_ms: float


class RtcpState:
    """Counts what one session receives and answers/sends RTCP reports."""

    def __init__(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self.cname = f"ticketline-{ssrc:08x}@ticketline".encode()
        self.remote_ssrc = 0
        self.received = 0
        self.jitter = 0.0
        self.remote_report: RemoteReport | None = None
        self._base = -1
        self._max = -1
        self._last_transit: float | None = None
        self._expected_prior = 0
        self._received_prior = 0
        self._last_sr = 0
        self._last_sr_at = 0.0

    def on_rtp(self, seq: int, timestamp: int, arrival: float) -> None:
        """Account one received audio packet."""
        self.received += 1
        top = self._max
        if top >= 0 and (seq - top) & 0xFFFF == 1:
            self._max = top + 1  # the next packet in order: the usual case, kept short
        elif self._base < 0:
            self._base = self._max = seq
        else:
            extended = top + ((seq - top + 0x8000) & 0xFFFF) - 0x8000
            if extended > top:
                self._max = extended
        transit = arrival * 8000 - timestamp  # CLOCK_RATE, written out: runs per packet
        last = self._last_transit
        self._last_transit = transit
        if last is not None:
            delta = transit - last
            if delta < 0:
                delta = -delta
            if delta < 80000:  # 10 s: a timestamp jump is a new talk spurt, not jitter
                self.jitter += (delta - self.jitter) / 16

    @property
    def expected(self) -> int:
        """Packets expected from the sequence numbers seen."""
        return 0 if self._base < 0 else self._max - self._base + 1

    @property
    def lost(self) -> int:
        """Cumulative packets lost (negative with duplicates, as RFC 3550 allows)."""
        return self.expected - self.received

    def on_rtcp(self, data: bytes, now: float) -> bool:
        """Take in a compound RTCP packet; False if it does not parse."""
        try:
            packets = parse_compound(data)
        except ValueError:
            return False
        for packet in packets:
            if isinstance(packet, SenderReport):
                self._last_sr = (packet.ntp_timestamp >> 16) & 0xFFFFFFFF
                self._last_sr_at = now
            if isinstance(packet, SenderReport | ReceiverReport):
                self._take_blocks(packet.reports)
        return True

    def _take_blocks(self, blocks: tuple[ReportBlock, ...]) -> None:
        for block in blocks:
            if block.ssrc == self.ssrc:
                jitter_ms = block.jitter * 1000 / CLOCK_RATE
                self.remote_report = RemoteReport(
                    block.fraction_lost, block.packets_lost, jitter_ms
                )

    def report(self, packets_sent: int, octets_sent: int, rtp_timestamp: int) -> bytes:
        """A compound SR (or RR if nothing was sent) with SDES CNAME."""
        blocks = self._blocks(time.monotonic())
        first: RtcpPacket
        if packets_sent:
            ntp = int((time.time() + NTP_EPOCH_OFFSET) * (1 << 32))
            first = SenderReport(
                self.ssrc,
                ntp & 0xFFFFFFFFFFFFFFFF,
                rtp_timestamp,
                packets_sent & 0xFFFFFFFF,
                octets_sent & 0xFFFFFFFF,
                blocks,
            )
        else:
            first = ReceiverReport(self.ssrc, blocks)
        sdes = SourceDescription((SdesChunk(self.ssrc, ((SDES_CNAME, self.cname),)),))
        return serialize_compound([first, sdes])

    def _blocks(self, now: float) -> tuple[ReportBlock, ...]:
        if self._base < 0:
            return ()
        expected = self.expected
        interval_expected = expected - self._expected_prior
        interval_received = self.received - self._received_prior
        self._expected_prior, self._received_prior = expected, self.received
        interval_lost = interval_expected - interval_received
        fraction = 0
        if interval_expected > 0 and interval_lost > 0:
            fraction = min(255, (interval_lost << 8) // interval_expected)
        delay = 0
        if self._last_sr_at:
            delay = int((now - self._last_sr_at) * 65536) & 0xFFFFFFFF
        lost = max(-(1 << 23), min(self.lost, (1 << 23) - 1))
        block = ReportBlock(
            self.remote_ssrc,
            fraction,
            lost,
            self._max & 0xFFFFFFFF,
            int(self.jitter) & 0xFFFFFFFF,
            self._last_sr,
            delay,
        )
        return (block,)
