"""RFC 4733 telephone-event payloads, a de-duplicating receiver and a sender.

Receiver rules (RFC 4733 §2.5.2): one key press is identified by the RTP
timestamp of its packets, so all updates, retransmitted starts and the three
redundant end packets share it; the same digit pressed twice arrives with a new
timestamp. An event whose end packets are all lost is closed when a newer event
starts or when `poll(now)` sees no packet for `end_timeout` seconds.
A long event that the sender splits into segments (duration > 65535 units)
would be reported as a repeated digit; at 8 kHz that is 8 s of one key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ticketline.media.rtp import RtpPacket, seq_add, timestamp_diff

DTMF_DIGITS = "0123456789*#ABCD"
DEFAULT_PAYLOAD_TYPE = 101
_PAYLOAD = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """The 4-octet RFC 4733 §2.3 payload: event code, end bit, volume (-dBm0), duration."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 0xFF:
            raise ValueError(f"event must be in 0..255, got {self.event}")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume must be in 0..63, got {self.volume}")
        if not 0 <= self.duration <= 0xFFFF:
            raise ValueError(f"duration must be in 0..65535, got {self.duration}")

    @classmethod
    def parse(cls, data: bytes) -> TelephoneEvent:
        """Parse a telephone-event payload; the reserved bit is ignored as RFC 4733 asks."""
        if len(data) != 4:
            raise ValueError(f"telephone-event payload must be 4 bytes, got {len(data)}")
        event, flags, duration = _PAYLOAD.unpack(data)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def serialize(self) -> bytes:
        """Return the 4 payload bytes."""
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)

    @property
    def digit(self) -> str | None:
        """The DTMF digit for events 0-15, else None."""
        return DTMF_DIGITS[self.event] if self.event < len(DTMF_DIGITS) else None


def event_for_digit(digit: str) -> int:
    """RFC 4733 event code of a DTMF digit (0-9 * # A-D, case-insensitive)."""
    index = DTMF_DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return index


@dataclass(frozen=True, slots=True)
class DigitStarted:
    """A key press began (reported once per press)."""

    digit: str


@dataclass(frozen=True, slots=True)
class DigitEnded:
    """A key press ended after `duration_ms` (reported once per press)."""

    digit: str
    duration_ms: int


DtmfEvent = DigitStarted | DigitEnded


@dataclass(slots=True)
class _Press:
    digit: str
    timestamp: int
    duration: int
    last_seen: float


class DtmfReceiver:
    """Turn telephone-event packets into DigitStarted/DigitEnded exactly once per press."""

    def __init__(self, clock_rate: int = 8000, end_timeout: float = 0.3) -> None:
        self._clock_rate = clock_rate
        self._end_timeout = end_timeout
        self._last_timestamp: int | None = None
        self._active: _Press | None = None

    def feed(self, timestamp: int, marker: bool, payload: bytes, now: float) -> list[DtmfEvent]:
        """Process one packet received at `now` (seconds); return the new events.

        `marker` is accepted for completeness but not relied upon, because the
        start packet carrying it may be lost.
        """
        del marker
        event = TelephoneEvent.parse(payload)
        out = self.poll(now)
        if event.digit is None or self._is_stale(timestamp):
            return out
        if self._active is None or self._active.timestamp != timestamp:
            out += self._close()
            self._active = _Press(event.digit, timestamp, event.duration, now)
            self._last_timestamp = timestamp
            out.append(DigitStarted(event.digit))
        active = self._active
        active.duration = max(active.duration, event.duration)
        active.last_seen = now
        if event.end:
            out += self._close()
        return out

    def poll(self, now: float) -> list[DtmfEvent]:
        """Close a press whose end packets never came; call it every tick."""
        if self._active is not None and now - self._active.last_seen >= self._end_timeout:
            return self._close()
        return []

    def _is_stale(self, timestamp: int) -> bool:
        # Same timestamp with no active press = duplicate end of a finished press.
        if self._last_timestamp is None:
            return False
        age = timestamp_diff(timestamp, self._last_timestamp)
        return age < 0 or (age == 0 and self._active is None)

    def _close(self) -> list[DtmfEvent]:
        press, self._active = self._active, None
        if press is None:
            return []
        return [DigitEnded(press.digit, press.duration * 1000 // self._clock_rate)]


@dataclass(frozen=True, slots=True)
class DtmfSender:
    """Build the RFC 4733 packet train for one digit; the caller sends one per 20 ms."""

    ssrc: int
    payload_type: int = DEFAULT_PAYLOAD_TYPE
    duration_ms: int = 100
    interval_ms: int = 20
    volume: int = 10
    clock_rate: int = 8000
    end_repeats: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.duration_ms * self.clock_rate // 1000 <= 0xFFFF:
            raise ValueError(f"duration_ms {self.duration_ms} does not fit one event segment")
        if self.interval_ms <= 0 or self.end_repeats < 1:
            raise ValueError("interval_ms must be positive and end_repeats at least 1")

    def packets(self, digit: str, sequence: int, timestamp: int) -> list[RtpPacket]:
        """Start (marker) and updates every interval, then the end packet repeated.

        All share `timestamp`; sequence numbers increase by one per packet, so
        the next free sequence number is `sequence + len(result)` (mod 2**16).
        """
        event = event_for_digit(digit)
        step = self.clock_rate * self.interval_ms // 1000
        total = max(step, self.clock_rate * self.duration_ms // 1000)
        durations = list(range(step, total, step))
        payloads = [TelephoneEvent(event, False, self.volume, d) for d in durations]
        payloads += [TelephoneEvent(event, True, self.volume, total)] * self.end_repeats
        return [
            RtpPacket(
                payload_type=self.payload_type,
                sequence=seq_add(sequence, index),
                timestamp=timestamp,
                ssrc=self.ssrc,
                payload=payload.serialize(),
                marker=index == 0,
            )
            for index, payload in enumerate(payloads)
        ]
