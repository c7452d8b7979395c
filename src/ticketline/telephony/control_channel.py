"""A `Channel`: one SIP leg with its media anchored at our engine, driven by async methods.

The IVR, the ACD and the desktop hold channels, never legs or RTP sessions.
Every leg terminates its RTP at a `MediaSession` of ours (media anchoring),
so any channel can be played to, recorded, held, bridged, conferenced or
snooped on, whatever the phones at either end can do. A channel answers the
peer's re-INVITEs itself (new address, codec, hold from the phone), turns SIP
INFO digits into the same `DtmfReceived` as RFC 4733 and in-band tones, and
on hang-up closes its media, stores its recordings and announces `CallEnded`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from os import PathLike
from typing import TYPE_CHECKING

from ticketline.media.tones import Cadence
from ticketline.sip.offer_answer import NoCommonCodec
from ticketline.sip.sdp import SessionDescription
from ticketline.telephony import control_sdp, media_ops
from ticketline.telephony.calls import Leg, LegFailed
from ticketline.telephony.control_events import (
    CallAnswered,
    CallEnded,
    CallHeld,
    CallResumed,
    DtmfReceived,
    PlaybackFinished,
    RecordingFinished,
)
from ticketline.telephony.events import (
    LegAnswered,
    LegDtmf,
    LegEnded,
    LegEvent,
    LegSdpChanged,
)
from ticketline.telephony.media_ops import DigitsResult
from ticketline.telephony.media_plane import RecordingHandle
from ticketline.telephony.media_player import Audio, tone_audio
from ticketline.telephony.media_recorder import RecordingResult
from ticketline.telephony.media_session import MediaSession, PlayOutcome
from ticketline.telephony.recordings import RecordingInfo

if TYPE_CHECKING:
    from ticketline.telephony.control import CallControl

log = logging.getLogger(__name__)

Playable = str | PathLike[str] | Audio | Cadence


class ChannelError(Exception):
    """A channel operation cannot be done in the channel's state."""


class Channel:
    """One leg of a call, with its media session (see the module docstring)."""

    def __init__(self, control: CallControl, leg: Leg, session: MediaSession) -> None:
        self.control = control
        self.leg = leg
        self.session = session
        self.held = False
        self.muted = False
        self.recorder: RecordingHandle | None = None
        self._recording_started: datetime | None = None
        self._ended = asyncio.Event()
        session.digit_listeners.append(self._digit)
        leg.add_listener(self._on_leg_event)
        leg.on_reinvite = self._answer_reinvite
        if leg.ended:
            self._leg_ended(leg.end_cause or "failed", leg.ended_by or "local")

    @property
    def id(self) -> str:
        """The leg id (as in the call_leg table)."""
        return self.leg.id

    @property
    def call_id(self) -> str:
        """The call id (as in the call_record table)."""
        return self.leg.call.id

    @property
    def answered(self) -> bool:
        """True once answered and until it ends."""
        return self.leg.answered

    @property
    def ended(self) -> bool:
        """True once the leg is over."""
        return self._ended.is_set()

    # -- answering ------------------------------------------------------------------

    async def ring(self) -> None:
        """Tell an inbound caller we are ringing (180)."""
        await self.leg.ring()

    async def answer(self) -> None:
        """Answer an inbound leg with our media address; 488 if no common codec."""
        offer = self.leg.remote_sdp
        try:
            sdp = (
                control_sdp.answer_offer(self.session, offer)
                if offer is not None
                else control_sdp.offer(self.session)  # late offer: answer comes in the ACK
            )
        except NoCommonCodec:
            await self.reject(488)
            raise
        await self.leg.answer(sdp)
        self.control.publish(CallAnswered(self.call_id, self.id))

    async def reject(self, status: int = 486, reason: str | None = None) -> None:
        """Refuse an inbound leg that is not answered yet."""
        await self.leg.reject(status, reason)

    async def wait_answered(self) -> None:
        """Return once an outbound leg is answered; raise LegFailed if it never is."""
        await self.leg.wait_answered()

    async def wait_ended(self) -> None:
        """Return once the leg has ended."""
        await self._ended.wait()

    # -- media operations -------------------------------------------------------------

    async def play(self, what: Playable, *, interruptible_by_dtmf: bool = False) -> PlayOutcome:
        """Play a prompt file, a tone or audio; a missing file plays a default tone."""
        audio, error = self._audio(what)
        outcome = await media_ops.play(
            self.session, audio, interruptible_by_dtmf=interruptible_by_dtmf, error=error
        )
        self.control.publish(
            PlaybackFinished(
                self.call_id,
                self.id,
                audio.name,
                outcome.reason,
                outcome.played_ms,
                outcome.digit,
                outcome.error,
            )
        )
        return outcome

    def _audio(self, what: Playable) -> tuple[Audio, str | None]:
        if isinstance(what, Audio):
            return what, None
        if isinstance(what, Cadence):
            return tone_audio(what, loop=False), None
        return self.control.engine.prompts.load_or_default(what)

    async def collect_digits(
        self,
        min_digits: int = 1,
        max_digits: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the call-control API names it so
        inter_digit_timeout: float = 3.0,
        terminator: str = "#",
    ) -> DigitsResult:
        """Collect keys (RFC 4733, in-band or SIP INFO) with the usual limits."""
        return await media_ops.collect_digits(
            self.session, min_digits, max_digits, timeout, inter_digit_timeout, terminator
        )

    def flush_digits(self) -> None:
        """Forget keys pressed before now (type-ahead)."""
        self.session.digits.clear()

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send keys to the peer (RFC 4733 when negotiated, else in-band tones)."""
        await media_ops.send_dtmf(self.session, digits, duration_ms)

    def start_moh(self) -> None:
        """Play hold music to this leg until `stop_moh` (or another playback)."""
        self.session.start_playing(self.control.engine.moh.audio)

    def stop_moh(self) -> None:
        """Stop the hold music (if it is what plays)."""
        playing = self.session.playing
        if playing is not None and playing.cursor.audio is self.control.engine.moh.audio:
            self.session.stop_playing("stopped")

    # -- recording ----------------------------------------------------------------------

    def record(self, path: str | PathLike[str] | None = None, channels: int = 2) -> RecordingHandle:
        """Record this leg: stereo has this leg's voice left and what it hears right."""
        if self.ended:
            raise ChannelError(f"leg {self.id} has ended")
        if self.recorder is not None:
            raise ChannelError(f"leg {self.id} is already recording")
        target = path or self.control.recordings.new_path(self.call_id, self.id)
        self.recorder = self.control.engine.start_recording(self.session, target, channels)
        self._recording_started = self.control.clock.now()
        return self.recorder

    def pause_recording(self) -> None:
        """Record silence (and mark it) until `resume_recording`, e.g. for card numbers."""
        if self.recorder is not None:
            self.recorder.pause()

    def resume_recording(self) -> None:
        """Record audio again after a pause."""
        if self.recorder is not None:
            self.recorder.resume()

    async def stop_recording(self) -> RecordingInfo | None:
        """Close the recording, store it with the call, announce RecordingFinished."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        result = await self.control.engine.end_recording(recorder)
        return await self._store(result)

    async def _store(self, result: RecordingResult) -> RecordingInfo:
        started = self._recording_started or self.control.clock.now()
        info = await self.control.recordings.add(result, self.call_id, started, self.id)
        self.control.publish(
            RecordingFinished(self.call_id, self.id, info.id, info.path, info.duration_ms)
        )
        return info

    # -- hold ---------------------------------------------------------------------------

    async def hold(self) -> None:
        """Put this leg on hold: it hears music, nobody hears it; re-INVITE sendonly."""
        if self.held:
            return
        self.held = True
        self.sync_voice()
        self.start_moh()
        await self._reinvite("sendonly")
        self.control.publish(CallHeld(self.call_id, self.id))

    async def resume(self) -> None:
        """Take this leg off hold (re-INVITE sendrecv)."""
        if not self.held:
            return
        self.held = False
        self.stop_moh()
        self.sync_voice()
        await self._reinvite("sendrecv")
        self.control.publish(CallResumed(self.call_id, self.id))

    # -- mute -----------------------------------------------------------------------------

    def mute(self) -> None:
        """Nobody hears this leg (it still hears them), across later bridges too."""
        self.muted = True
        self.sync_voice()

    def unmute(self) -> None:
        self.muted = False
        self.sync_voice()

    def sync_voice(self) -> None:
        """Whether the others hear this leg: not while it is held or muted."""
        group = self.control.engine.group_of(self.session)
        if group is not None:
            group.set_muted(self.session, self.held or self.muted)

    async def _reinvite(self, direction: str) -> None:
        if not self.leg.answered:
            return
        try:
            answer = await self.leg.reinvite(control_sdp.offer(self.session, direction))
        except LegFailed as failure:
            log.info("re-INVITE %s on leg %s refused: %s", direction, self.id, failure)
            return
        remote = None if answer is None else control_sdp.remote_media(answer)
        if remote is not None:
            control_sdp.apply(self.session, remote)
        self.session.sending = True  # we keep sending: music while held

    # -- ending ---------------------------------------------------------------------------

    async def hangup(self, cause: str = "normal_clearing") -> None:
        """End the leg (BYE, CANCEL or a refusal, as its state requires)."""
        await self.leg.hangup(cause)
        self._leg_ended(cause, "local")

    # -- leg events ---------------------------------------------------------------------

    def _digit(self, session: MediaSession, digit: str, via: str) -> None:
        self.control.publish(DtmfReceived(self.call_id, self.id, digit, via))

    def _on_leg_event(self, event: LegEvent) -> None:
        match event:
            case LegDtmf(digit=digit):
                self.session.digit_received(digit, "info")
            case LegAnswered(sdp=sdp) if self.leg.direction == "outbound":
                self._apply_remote(sdp)
                self.control.publish(CallAnswered(self.call_id, self.id))
            case LegSdpChanged(sdp=sdp):
                self._apply_remote(sdp)
            case LegEnded(cause=cause, by=by):
                self._leg_ended(cause, by)
            case _:
                pass

    def _apply_remote(self, sdp: SessionDescription | None) -> None:
        remote = None if sdp is None else control_sdp.remote_media(sdp)
        if remote is not None:
            control_sdp.apply(self.session, remote)
            if self.held:
                self.session.sending = True

    async def _answer_reinvite(
        self, leg: Leg, offer: SessionDescription | None
    ) -> SessionDescription | None:
        if offer is None:
            return control_sdp.offer(self.session)
        try:
            return control_sdp.answer_offer(self.session, offer)
        except NoCommonCodec:
            return None

    def _leg_ended(self, cause: str, by: str) -> None:
        if self._ended.is_set():
            return
        self._ended.set()
        self.leg.remove_listener(self._on_leg_event)
        self.leg.on_reinvite = None
        self.control.channel_ended(self, cause, by)

    async def finish(self, cause: str, by: str) -> None:
        """Release media, store an open recording, announce the end (called once)."""
        recorder, self.recorder = self.recorder, None
        results = await self.control.engine.end_session(self.session)
        for result in results:
            if recorder is not None and result.path == recorder.path:
                try:
                    await self._store(result)
                except Exception:
                    log.exception("recording %s could not be stored", result.path)
        self.control.publish(CallEnded(self.call_id, self.id, cause, by))
