"""A small reorder/jitter buffer for RTP packets; pure, the caller owns the clock.

The buffer holds up to `target_depth` packets of sequence span and releases the
oldest when a newer packet pushes the span beyond it, so in steady state one
packet in gives one packet out, `target_depth` packets (x 20 ms) late. A gap
still missing when it must be released is counted as lost and skipped.
A new SSRC, or a sequence jump beyond `max_jump`, is a new stream: what was
buffered is released first, then the buffer restarts from the new packet.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketline.media.rtp import RtpPacket, extend_seq


@dataclass(slots=True)
class JitterStats:
    """Counters since creation (not reset by stream changes)."""

    released: int = 0
    lost: int = 0
    late: int = 0
    duplicates: int = 0
    resets: int = 0


class JitterBuffer:
    """Reorder packets by sequence number; `add` returns the packets that became ready."""

    def __init__(self, target_depth: int = 3, max_jump: int = 500) -> None:
        if target_depth < 1:
            raise ValueError(f"target_depth must be at least 1, got {target_depth}")
        self.target_depth = target_depth
        self.max_jump = max_jump
        self.stats = JitterStats()
        self._ssrc: int | None = None
        self._next: int = 0  # extended sequence number due next
        self._held: dict[int, RtpPacket] = {}
        self._released_in_stream = False

    def add(self, packet: RtpPacket) -> list[RtpPacket]:
        """Insert a packet; return packets now ready, in sequence order."""
        if self._ssrc is None:
            return self._start(packet, [])
        extended = extend_seq(packet.sequence, self._next)
        if packet.ssrc != self._ssrc or abs(extended - self._next) > self.max_jump:
            self.stats.resets += 1
            return self._start(packet, self.flush())
        if extended < self._next:
            if self._released_in_stream:
                self.stats.late += 1
                return []
            self._next = extended  # the stream's first packets arrived out of order
        if extended in self._held:
            self.stats.duplicates += 1
            return []
        self._held[extended] = packet
        return self._release(max(self._held))

    def flush(self) -> list[RtpPacket]:
        """Release everything held, in order, skipping gaps (e.g. at the end of a call)."""
        out = [self._held[key] for key in sorted(self._held)]
        if self._held:
            end = max(self._held) + 1
            self.stats.lost += end - self._next - len(self._held)
            self._next = end
            self._released_in_stream = True
        self._held.clear()
        self.stats.released += len(out)
        return out

    def __len__(self) -> int:
        return len(self._held)

    def _start(self, packet: RtpPacket, released: list[RtpPacket]) -> list[RtpPacket]:
        self._ssrc = packet.ssrc
        self._next = packet.sequence
        self._held = {packet.sequence: packet}
        self._released_in_stream = False
        return released + self._release(packet.sequence)

    def _release(self, newest: int) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        while self._held and newest - self._next + 1 > self.target_depth:
            if self._next not in self._held:
                # Jump over a gap to the oldest packet we do hold.
                skip_to = min(min(self._held), newest - self.target_depth + 1)
                self.stats.lost += skip_to - self._next
                self._next = skip_to
                continue
            out.append(self._held.pop(self._next))
            self._next += 1
            self._released_in_stream = True
        self.stats.released += len(out)
        return out
