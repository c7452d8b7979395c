"""The call-control API: channels for inbound and outbound legs, and what joins them.

`CallControl` turns the SIP server's legs into `Channel`s (media anchored at
our engine) and offers the operations that involve more than one leg:
`bridge`/`unbridge`, `blind_transfer`, `attended_transfer`, conferences and
supervisor `snoop` (listen, whisper, barge). It publishes the events of
`control_events.py` on the bus. The IVR and the ACD use only this module and
`Channel`; they never see SIP messages or RTP.

Which code handles a new inbound call is set with `set_incoming_handler`;
until one is set the SIP server's default B2BUA keeps relaying calls.
A REFER from a phone (its transfer button) becomes a blind transfer of the
leg bridged to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.media.mixer import PartyMode
from ticketline.media.tones import RINGBACK_CN
from ticketline.sip.uri import Uri
from ticketline.telephony import control_sdp
from ticketline.telephony.calls import Call, Leg, LegFailed
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.telephony.control_events import (
    CallRinging,
    CallTransferred,
    ConferenceChanged,
    LegBridged,
    LegUnbridged,
    SnoopStarted,
)
from ticketline.telephony.media_client import MediaUnavailable
from ticketline.telephony.media_plane import MediaPlane
from ticketline.telephony.media_player import tone_audio
from ticketline.telephony.media_ports import NoPortsAvailable
from ticketline.telephony.recordings import RecordingStore
from ticketline.telephony.server import IncomingCall, SipServer

log = logging.getLogger(__name__)

IncomingHandler = Callable[[Channel, IncomingCall], Awaitable[None]]
MEDIA_FAILURE = "media_failure"
SHUTDOWN_CAUSE = "system_shutdown"
SHUTDOWN_GRACE = 4.0  # seconds: a BYE's retransmissions at 0.5, 1 and 2 s have gone out
SNOOP_MODES = {"listen": PartyMode.LISTEN, "whisper": PartyMode.WHISPER, "barge": PartyMode.NORMAL}


class TransferFailed(Exception):
    """The transfer target could not be reached; `status` is the SIP status."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(f"transfer failed: {status} {reason}".strip())
        self.status = status


@dataclass
class _Bridge:
    a: Channel
    b: Channel

    def other(self, channel: Channel) -> Channel:
        return self.b if channel is self.a else self.a


class CallControl:
    """The call-control API of one process (see the module docstring)."""

    def __init__(
        self,
        engine: MediaPlane,
        sip: SipServer,
        bus: EventBus,
        recordings: RecordingStore,
        clock: Clock,
    ) -> None:
        self.engine = engine
        self.sip = sip
        self.bus = bus
        self.recordings = recordings
        self.clock = clock
        self.channels: dict[str, Channel] = {}
        self._bridges: dict[str, _Bridge] = {}
        self._handler: IncomingHandler | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        engine.failure_listeners.append(self._media_failed)

    # -- plumbing -----------------------------------------------------------------------

    def publish(self, event: object) -> None:
        """Put an event on the bus without making the media or signalling wait."""
        self._spawn(self.bus.publish(event))

    def _spawn(self, work: Awaitable[object]) -> None:
        async def run() -> object:
            return await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _media_failed(self) -> None:
        """The media process died: its calls cannot go on, end them (CDR: media_failure)."""
        for channel in list(self.channels.values()):
            self._spawn(channel.hangup(MEDIA_FAILURE))

    async def close(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Hang up every channel and wait for the events to go out.

        The BYEs go out together, and a peer that has not answered its BYE within
        `grace` is not waited for (its transaction would take 32 s to time out, one
        call after another). A leg ends before its BYE is sent; finishing it (media,
        recording, CallEnded for the CDR) takes milliseconds, well inside `grace`.
        """
        for channel in list(self.channels.values()):
            self._spawn(channel.hangup(SHUTDOWN_CAUSE))
        deadline = asyncio.get_running_loop().time() + grace
        while self._tasks:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            await asyncio.wait(list(self._tasks), timeout=remaining)
        late = list(self._tasks)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # -- channels -----------------------------------------------------------------------

    def set_incoming_handler(self, handler: IncomingHandler) -> None:
        """Route every new inbound call to `handler(channel, incoming)`."""
        self._handler = handler
        self.sip.incoming_handler = self._incoming

    async def _incoming(self, incoming: IncomingCall) -> None:
        try:
            channel = await self.adopt(incoming.leg)
        except (NoPortsAvailable, MediaUnavailable) as exc:
            log.warning("refusing a call: %s", exc)
            await incoming.leg.reject(503)
            return
        self.publish(CallRinging(channel.call_id, channel.id, incoming.caller, incoming.did))
        if self._handler is not None:
            await self._handler(channel, incoming)

    async def adopt(self, leg: Leg) -> Channel:
        """Anchor an existing leg's media here and wrap it in a channel."""
        session = await self.engine.open_session()
        channel = Channel(self, leg, session)
        if not channel.ended:
            self.channels[channel.id] = channel
        leg.on_refer = self._refer
        return channel

    async def dial(
        self,
        target: str | Uri,
        caller_id: str | None = None,
        *,
        call: Call | None = None,
        role: str = "callee",
        trunk: str | None = None,
    ) -> Channel:
        """Call `target` with our media; returns at once (ringing): `await wait_answered()`.

        No media for the call (ports exhausted, media process down) fails like an
        unreachable target: LegFailed 503, which every caller of dial handles.
        """
        try:
            session = await self.engine.open_session()
        except (NoPortsAvailable, MediaUnavailable) as exc:
            raise LegFailed(503, f"no media: {exc}") from exc
        try:
            leg = await self.sip.dial(
                target, control_sdp.offer(session), caller_id, call=call, role=role, trunk=trunk
            )
        except BaseException:
            await self.engine.end_session(session)
            raise
        channel = Channel(self, leg, session)
        self.channels[channel.id] = channel
        leg.on_refer = self._refer
        return channel

    def channel_ended(self, channel: Channel, cause: str, by: str) -> None:
        """A channel's leg ended: forget it, leave its bridge, finish it."""
        self.channels.pop(channel.id, None)
        bridge = self._bridges.pop(channel.id, None)
        if bridge is not None:
            other = bridge.other(channel)
            self._bridges.pop(other.id, None)
            if not other.ended:  # a bridged call ends for both sides, as a B2BUA does
                self._spawn(other.hangup(cause))
        self._spawn(channel.finish(cause, by))

    def bridged_to(self, channel: Channel) -> Channel | None:
        """The channel this one is bridged with, if any."""
        bridge = self._bridges.get(channel.id)
        return None if bridge is None else bridge.other(channel)

    # -- bridging -----------------------------------------------------------------------

    def bridge(self, a: Channel, b: Channel) -> None:
        """Let two answered channels hear each other (leaving any bridge they were in)."""
        for channel in (a, b):
            if channel.ended:
                raise ChannelError(f"leg {channel.id} has ended")
            self.unbridge(channel)
        self.engine.bridge(a.session, b.session)
        a.sync_voice()
        b.sync_voice()
        self._bridges[a.id] = self._bridges[b.id] = _Bridge(a, b)
        self.publish(LegBridged(a.call_id, a.id, b.id))
        self.publish(LegBridged(b.call_id, b.id, a.id))

    def unbridge(self, channel: Channel) -> None:
        """Take a channel out of its bridge, conference or snoop (the others stay)."""
        bridge = self._bridges.pop(channel.id, None)
        if bridge is not None:
            self._bridges.pop(bridge.other(channel).id, None)
        if self.engine.group_of(channel.session) is not None:
            self.engine.leave(channel.session)
            self.publish(LegUnbridged(channel.call_id, channel.id))

    # -- transfers ----------------------------------------------------------------------

    async def blind_transfer(
        self,
        channel: Channel,
        target: str | Uri,
        caller_id: str | None = None,
        *,
        hangup_previous: bool = True,
    ) -> Channel:
        """Connect `channel` to `target`; whoever it was bridged to is hung up.

        The caller hears ringback meanwhile. If the target does not answer the
        caller stays (hearing nothing) and TransferFailed says why.
        """
        previous = self.bridged_to(channel)
        self.unbridge(channel)
        if previous is not None and hangup_previous:
            await previous.hangup("transferred")
        await channel.resume()
        ringing = channel.session.start_playing(tone_audio(RINGBACK_CN))
        try:
            new = await self._reach(target, caller_id, channel)
        finally:
            if not ringing.done():
                channel.session.stop_playing("stopped")
        self.bridge(channel, new)
        self.publish(CallTransferred(channel.call_id, channel.id, new.id, "blind"))
        return new

    async def _reach(self, target: str | Uri, caller_id: str | None, for_: Channel) -> Channel:
        try:
            new = await self.dial(target, caller_id, call=for_.leg.call, role="transfer")
            await new.wait_answered()
        except LegFailed as failure:
            raise TransferFailed(failure.status, failure.reason) from failure
        return new

    async def attended_transfer(
        self, channel: Channel, target: Channel, transferor: Channel | None = None
    ) -> None:
        """Connect a (held) `channel` to an answered consultation `target`.

        The `transferor` (the agent who consulted) is hung up.
        """
        if not target.answered:
            raise ChannelError(f"transfer target {target.id} is not answered")
        for other in (channel, target):
            self.unbridge(other)
        if transferor is not None and not transferor.ended:
            await transferor.hangup("transferred")
        await channel.resume()
        self.bridge(channel, target)
        self.publish(CallTransferred(channel.call_id, channel.id, target.id, "attended"))

    async def _refer(self, leg: Leg, target: Uri) -> None:
        """A phone pressed transfer: move whoever it talks to onto `target`."""
        referrer = self.channels.get(leg.id)
        other = None if referrer is None else self.bridged_to(referrer)
        if referrer is None or other is None:
            await leg.notify_refer(603)
            return
        try:
            await self.blind_transfer(other, target, hangup_previous=False)
        except TransferFailed as failure:
            await leg.notify_refer(failure.status)
            return
        await leg.notify_refer(200)
        await referrer.hangup("transferred")

    # -- conferences and supervision ------------------------------------------------------

    def conference_add(self, room: str, channel: Channel) -> None:
        """Put a channel in conference `room` (created on first use)."""
        if channel.ended:
            raise ChannelError(f"leg {channel.id} has ended")
        self._bridges.pop(channel.id, None)
        self.engine.join(f"conf-{room}", channel.session)
        channel.sync_voice()
        self.publish(ConferenceChanged(room, channel.call_id, channel.id, True))

    def conference_remove(self, room: str, channel: Channel) -> None:
        """Take a channel out of conference `room`."""
        group = self.engine.group_of(channel.session)
        if group is not None and group.id == f"conf-{room}":
            self.engine.leave(channel.session)
            self.publish(ConferenceChanged(room, channel.call_id, channel.id, False))

    def snoop(self, supervisor: Channel, target: Channel, mode: str = "listen") -> None:
        """Supervisor hears `target` and whoever it talks to; whisper: `target` hears the
        supervisor too; barge: everybody does."""
        party_mode = SNOOP_MODES.get(mode)
        if party_mode is None:
            raise ValueError(f"mode must be listen, whisper or barge, got {mode!r}")
        if target.ended or supervisor.ended:
            raise ChannelError("both legs must be up to snoop")
        group = self.engine.group_of(target.session)
        group_id = group.id if group is not None else f"snoop-{target.id}"
        if group is None:
            self.engine.join(group_id, target.session)
        self.engine.leave(supervisor.session)
        whisper_to = target.session if party_mode is PartyMode.WHISPER else None
        self.engine.join(group_id, supervisor.session, party_mode, whisper_to)
        self.publish(SnoopStarted(target.call_id, supervisor.id, target.id, mode))
