"""One RTP endpoint: its sockets, what it receives, what it sends each 20 ms tick.

Receiving (`rtp_received`, called by the socket): the first valid RTP packet
latches the peer's address (symmetric RTP: we send back to where packets come
from, whatever the SDP said); later packets from any other address are counted
and ignored until the signalling sets a new remote. In-order packets take a
fast path (header read in place, payload appended to the playout buffer); a
gap, reordering or a new SSRC go through `media.jitter.JitterBuffer` until it
drains. Telephone-events go to `media.dtmf.DtmfReceiver`, which reports each
press once however many end packets arrive.

Sending (`tick_tx`, called by the engine's clock): a queued RFC 4733 digit
first, else the playing audio, else what the session's mix gave it, else
silence, so the peer gets a packet every 20 ms with a steady timestamp.
Operations that take time (`play`, `collect_digits`, `send_dtmf`) live in
`media_ops.py`; this file only keeps the state they use.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticketline.media.dtmf import DigitStarted, DtmfReceiver, DtmfSender, event_for_digit
from ticketline.media.goertzel import DtmfDetector
from ticketline.media.jitter import JitterBuffer
from ticketline.media.rtp import RtpPacket
from ticketline.telephony.media_player import (
    SILENCE_PAYLOAD,
    Audio,
    Cursor,
    check_codec,
    decode,
)
from ticketline.telephony.media_rtcp import RtcpState

if TYPE_CHECKING:
    from ticketline.telephony.media_recorder import Recorder

log = logging.getLogger(__name__)

FRAME = 160
MAX_PLAYOUT = FRAME * 6  # beyond 120 ms of backlog, drop the oldest audio
KEEP_PLAYOUT = FRAME * 2
DIGIT_GAP_TICKS = 3  # 60 ms of audio between two sent digits
_HEADER = struct.Struct("!BBHII")

Address = tuple[str, int]
DigitListener = Callable[["MediaSession", str, str], None]


@dataclass(slots=True)
class SessionStats:
    """Counters a test or a metrics page can read."""

    rx_packets: int = 0
    rx_bytes: int = 0
    rx_malformed: int = 0
    rx_foreign: int = 0
    rx_wrong_type: int = 0
    rx_late: int = 0
    rx_dropped: int = 0
    underruns: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    tx_errors: int = 0
    digits: int = 0


@dataclass(frozen=True, slots=True)
class PlayOutcome:
    """How a playback ended: finished, interrupted (by `digit`), stopped or hangup."""

    reason: str
    played_ms: int
    digit: str | None = None
    error: str | None = None


class _Playing:
    __slots__ = ("cursor", "error", "future", "interruptible")

    def __init__(
        self,
        cursor: Cursor,
        future: asyncio.Future[PlayOutcome],
        interruptible: bool,
        error: str | None,
    ) -> None:
        self.cursor = cursor
        self.future = future
        self.interruptible = interruptible
        self.error = error


class MediaSession:
    """RTP in and out for one call leg; created and driven by `MediaEngine`."""

    def __init__(
        self,
        session_id: str,
        local_host: str,
        port: int,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
    ) -> None:
        self.id = session_id
        self.local_host = local_host
        self.port = port
        self.payload_type = check_codec(payload_type)
        self.dtmf_payload_type = dtmf_payload_type
        self.inband_dtmf = dtmf_payload_type is None
        self.stats = SessionStats()
        self.closed = False
        self.sending = True
        self.remote: Address | None = None
        self.digit_listeners: list[DigitListener] = []
        self.recorders: list[Recorder] = []
        # Filled by the engine each tick: the frame received, the frame sent, the mix's output.
        self.rx_frame: bytes | None = None
        self.tx_frame: bytes = SILENCE_PAYLOAD[self.payload_type]
        self.mix_out: bytes | None = None
        self.ssrc = random.getrandbits(32)
        self.rtcp = RtcpState(self.ssrc)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._marker = True
        self._latched = False
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._rtcp_remote: Address | None = None
        self._rx_ssrc = -1
        self._rx_next = -1
        self._jitter: JitterBuffer | None = None
        self._playout = bytearray()
        self._dtmf_rx = DtmfReceiver()
        self._detector: DtmfDetector | None = None
        self._dtmf_queue: deque[tuple[str, int, asyncio.Future[None]]] = deque()
        self._dtmf_train: list[RtpPacket] = []
        self._dtmf_gap = 0
        self.digits: deque[str] = deque()
        self.digit_waiter: asyncio.Future[None] | None = None
        self.playing: _Playing | None = None

    # -- wiring ---------------------------------------------------------------

    def attach(
        self,
        rtp: asyncio.DatagramTransport,
        rtcp: asyncio.DatagramTransport,
        rtp_socket: socket.socket,
    ) -> None:
        """Give the session its transports (done by the engine).

        Packets are sent on the raw socket: a non-blocking `sendto` straight from
        the tick costs a third less than going through the transport, and a
        datagram the kernel cannot take now is better dropped than sent late.
        """
        self._rtp, self._rtcp_transport = rtp, rtcp
        self._sendto = rtp_socket.sendto

    def set_remote(self, host: str, port: int) -> None:
        """Where to send until the peer's first packet says otherwise (from SDP)."""
        if not 0 < port < 65536:
            raise ValueError(f"remote port must be in 1..65535, got {port}")
        self.remote = (host, port) if host else None
        self._rtcp_remote = (host, port + 1) if host else None
        self._latched = False

    def set_codec(self, payload_type: int, dtmf_payload_type: int | None) -> None:
        """Change codec after a re-INVITE; playing audio restarts in the new codec."""
        self.payload_type = check_codec(payload_type)
        self.dtmf_payload_type = dtmf_payload_type
        self.inband_dtmf = dtmf_payload_type is None
        self._playout.clear()
        if self.playing is not None:
            self.playing.cursor = Cursor(self.playing.cursor.audio, payload_type)

    @property
    def local_address(self) -> Address:
        """The (host, RTP port) to put in our SDP."""
        return (self.local_host, self.port)

    # -- receiving ------------------------------------------------------------

    def rtp_received(self, data: bytes, addr: Address) -> None:
        """Handle one datagram from the RTP socket."""
        stats = self.stats
        if addr != self.remote or not self._latched:
            if self._latched or self.closed:
                stats.rx_foreign += 1
                return
            if len(data) < 12 or data[0] >> 6 != 2:
                stats.rx_malformed += 1
                return
            self.remote, self._rtcp_remote = addr, (addr[0], addr[1] + 1)
            self._latched = True
        stats.rx_packets += 1
        stats.rx_bytes += len(data)
        if len(data) < 13 or data[0] != 0x80:
            self._slow_path(data)
            return
        # One C call reads the whole fixed header; a fraction of slicing it field by field.
        _, payload_type, seq, timestamp, ssrc = _HEADER.unpack_from(data)
        if payload_type != self.payload_type:  # the marker bit set, or another type
            payload_type &= 0x7F
            if payload_type != self.payload_type:
                self._other_type(payload_type, data)
                return
        self.rtcp.on_rtp(seq, timestamp, time.monotonic())
        if seq != self._rx_next or self._jitter is not None or ssrc != self._rx_ssrc:
            self._slow_path(data)
            return
        self._rx_next = (seq + 1) & 0xFFFF
        playout = self._playout
        playout += data[12:]
        if len(playout) > MAX_PLAYOUT:
            self._trim_playout()

    def _other_type(self, payload_type: int, data: bytes) -> None:
        if payload_type == self.dtmf_payload_type and self.dtmf_payload_type is not None:
            self._event_packet(data)
        elif 72 <= payload_type <= 76:
            self.stats.rx_malformed += 1  # RTCP sent to the RTP port (RFC 5761 range)
        else:
            self.stats.rx_wrong_type += 1

    def _event_packet(self, data: bytes) -> None:
        try:
            packet = RtpPacket.parse(data)
            events = self._dtmf_rx.feed(
                packet.timestamp, packet.marker, packet.payload, time.monotonic()
            )
        except ValueError:
            self.stats.rx_malformed += 1
            return
        for event in events:
            if isinstance(event, DigitStarted):
                self.digit_received(event.digit, "rfc4733")

    def _slow_path(self, data: bytes) -> None:
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            self.stats.rx_malformed += 1
            return
        if packet.payload_type != self.payload_type:
            self._other_type(packet.payload_type, data)
            return
        if self._jitter is None:
            self._jitter = JitterBuffer(target_depth=3)
            late_before = 0
        else:
            late_before = self._jitter.stats.late
        for ready in self._jitter.add(packet):
            self._release(ready)
        self.stats.rx_late += self._jitter.stats.late - late_before

    def _release(self, packet: RtpPacket) -> None:
        self._rx_ssrc = packet.ssrc
        self.rtcp.remote_ssrc = packet.ssrc
        self._rx_next = (packet.sequence + 1) & 0xFFFF
        self._queue_audio(packet.payload)

    def _queue_audio(self, payload: bytes) -> None:
        self._playout += payload
        if len(self._playout) > MAX_PLAYOUT:
            self._trim_playout()

    def _trim_playout(self) -> None:
        playout = self._playout
        drop = len(playout) - KEEP_PLAYOUT
        del playout[:drop]
        self.stats.rx_dropped += drop

    def rtcp_received(self, data: bytes, addr: Address) -> None:
        """Handle one datagram from the RTCP socket (only from the latched peer's host)."""
        if self.remote is None or addr[0] != self.remote[0]:
            self.stats.rx_foreign += 1
            return
        if not self.rtcp.on_rtcp(data, time.monotonic()):
            self.stats.rx_malformed += 1

    def digit_received(self, digit: str, via: str) -> None:
        """A digit arrived (RFC 4733, in-band tone, or SIP INFO through the signalling)."""
        self.stats.digits += 1
        self.digits.append(digit)
        waiter = self.digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        playing = self.playing
        if playing is not None and playing.interruptible:
            self.stop_playing("interrupted", digit)
        for listener in self.digit_listeners:
            listener(self, digit, via)

    # -- the tick -------------------------------------------------------------

    def tick_rx(self) -> None:
        """Take this tick's received frame (or None) from the playout buffer."""
        playout = self._playout
        if self._jitter is not None and len(playout) < FRAME:
            for ready in self._jitter.flush():  # stop waiting for what has not come
                self._release(ready)
            self._jitter = None
        queued = len(playout)
        if queued >= FRAME:
            if queued == FRAME:  # the usual case: one packet in, one frame out
                self.rx_frame = bytes(playout)
                playout.clear()
            else:
                self.rx_frame = bytes(playout[:FRAME])
                del playout[:FRAME]
            if self.inband_dtmf:
                self._detect_inband(self.rx_frame)
        else:
            self.rx_frame = None
            if self._latched:
                self.stats.underruns += 1

    def _detect_inband(self, frame: bytes) -> None:
        if self._detector is None:
            self._detector = DtmfDetector()
        digit = self._detector.feed(decode(frame, self.payload_type))
        if digit is not None:
            self.digit_received(digit, "inband")

    def tick_tx(self) -> None:
        """Send this tick's packet and advance the RTP clock by one frame."""
        if self._dtmf_gap:
            self._dtmf_gap -= 1
        elif self._dtmf_queue:
            self._send_event_tick()
            return
        payload: bytes | None = None
        playing = self.playing
        if playing is not None:
            payload = playing.cursor.next_payload()
            if payload is None:
                self.stop_playing("finished")
        if payload is None:
            payload = self.mix_out or SILENCE_PAYLOAD[self.payload_type]
        self.tx_frame = payload
        second = self.payload_type
        if self._marker:
            second |= 0x80
            self._marker = False
        # pack + concatenation is cheaper here than pack_into a reused bytearray (measured).
        self._send(_HEADER.pack(0x80, second, self._seq, self._ts, self.ssrc) + payload)
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + FRAME) & 0xFFFFFFFF

    def _send_event_tick(self) -> None:
        train = self._dtmf_train
        if not train:
            digit, duration_ms, _ = self._dtmf_queue[0]
            assert self.dtmf_payload_type is not None
            sender = DtmfSender(self.ssrc, self.dtmf_payload_type, duration_ms)
            train += sender.packets(digit, self._seq, self._ts)
        # One update per tick; the repeated end packets go out together in the last tick.
        batch = [train.pop(0)]
        if batch[0].payload[1] & 0x80:
            batch += train
            train.clear()
        for packet in batch:
            self._send(packet.serialize())
        self._seq = (batch[-1].sequence + 1) & 0xFFFF
        self._ts = (self._ts + FRAME) & 0xFFFFFFFF
        self.tx_frame = SILENCE_PAYLOAD[self.payload_type]
        if not train:
            _, _, done = self._dtmf_queue.popleft()
            self._dtmf_gap = DIGIT_GAP_TICKS
            if not done.done():
                done.set_result(None)

    def _send(self, data: bytes) -> None:
        if self.sending and self.remote is not None and self._rtp is not None:
            try:
                self._sendto(data, self.remote)
            except OSError:  # buffer full, or ICMP unreachable reported back
                self.stats.tx_errors += 1
                return
            self.stats.tx_packets += 1
            self.stats.tx_bytes += len(data) - 12

    def check_event(self, digit: str, duration_ms: int) -> None:
        """Raise ValueError if this session cannot send that digit for that long."""
        if self.dtmf_payload_type is None:
            raise ValueError("the peer did not negotiate telephone-event")
        event_for_digit(digit)
        if not 40 <= duration_ms <= 2000:
            raise ValueError(f"duration_ms must be in 40..2000, got {duration_ms}")

    def queue_event(self, digit: str, duration_ms: int) -> asyncio.Future[None]:
        """Queue one RFC 4733 digit; the future resolves when its last packet is sent."""
        self.check_event(digit, duration_ms)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._dtmf_queue.append((digit, duration_ms, future))
        return future

    def tick_rtcp(self) -> None:
        """Send a compound SR/RR + SDES (the engine calls this every few seconds)."""
        if self._rtcp_transport is None or self._rtcp_remote is None or not self.sending:
            return
        data = self.rtcp.report(self.stats.tx_packets, self.stats.tx_bytes, self._ts)
        self._rtcp_transport.sendto(data, self._rtcp_remote)

    # -- playback state (driven by media_ops) ---------------------------------

    def start_playing(
        self, audio: Audio, *, interruptible: bool = False, error: str | None = None
    ) -> asyncio.Future[PlayOutcome]:
        """Start audio now, stopping what was playing; the future says how it ended."""
        self.stop_playing("stopped")
        future: asyncio.Future[PlayOutcome] = asyncio.get_running_loop().create_future()
        if self.closed:
            future.set_result(PlayOutcome("hangup", 0, error=error))
            return future
        self.playing = _Playing(Cursor(audio, self.payload_type), future, interruptible, error)
        return future

    def stop_playing(self, reason: str, digit: str | None = None) -> None:
        """End the current playback (if any) with `reason`."""
        playing, self.playing = self.playing, None
        if playing is not None and not playing.future.done():
            outcome = PlayOutcome(reason, playing.cursor.played_ms, digit, playing.error)
            playing.future.set_result(outcome)

    # -- closing --------------------------------------------------------------

    def close(self) -> None:
        """Close the sockets and end every pending operation with 'hangup'."""
        if self.closed:
            return
        self.closed = True
        self.stop_playing("hangup")
        waiter = self.digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        for _, _, done in self._dtmf_queue:
            if not done.done():
                done.set_result(None)
        self._dtmf_queue.clear()
        for transport in (self._rtp, self._rtcp_transport):
            if transport is not None:
                transport.close()
        self._rtp = self._rtcp_transport = None


class SessionProtocol(asyncio.DatagramProtocol):
    """Forwards the datagrams of one socket to the session; reports when it is closed."""

    def __init__(
        self, handler: Callable[[bytes, Address], None], on_lost: Callable[[], None]
    ) -> None:
        self.datagram_received = handler  # type: ignore[method-assign, assignment]
        self._on_lost = on_lost

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the peer is not yet (or no longer) listening.
        log.debug("RTP socket error: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        # Only now is the socket really closed and its port free to bind again.
        self._on_lost()
