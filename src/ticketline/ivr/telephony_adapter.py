"""A real call as a `CallSession`: the IVR over the call-control API's `Channel`.

`install` makes the IVR the handler of inbound calls: a call from a trunk, or
to a number a flow lists, walks its flow; a call from one extension to another
is connected straight through (ring, answer, bridge), as the default B2BUA did.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from ticketline.ivr.service import IvrService
from ticketline.ivr.session import CallerHungUp, Digits, Prompt
from ticketline.media.wav import read_wav
from ticketline.telephony.calls import LegFailed
from ticketline.telephony.control import CallControl, TransferFailed
from ticketline.telephony.control_channel import Channel
from ticketline.telephony.media_player import beep_audio
from ticketline.telephony.server import IncomingCall

log = logging.getLogger(__name__)

RECORD_END_KEYS = "#*"


class ChannelSession:
    """`CallSession` over one inbound channel (see `session.py` for the contract)."""

    def __init__(self, control: CallControl, channel: Channel, incoming: IncomingCall) -> None:
        self.control = control
        self.channel = channel
        self.incoming = incoming

    @property
    def call_id(self) -> str:
        return self.channel.call_id

    @property
    def caller(self) -> str:
        return self.incoming.caller

    @property
    def called(self) -> str:
        return self.incoming.did

    def _check(self) -> None:
        if self.channel.ended:
            raise CallerHungUp

    async def answer(self) -> None:
        self._check()
        if not self.channel.answered:
            await self.channel.answer()

    async def play(self, prompt: Prompt, *, barge_in: bool) -> bool:
        self._check()
        what = prompt.path if prompt.path is not None else beep_audio()
        outcome = await self.channel.play(what, interruptible_by_dtmf=barge_in)
        if outcome.reason == "hangup" or self.channel.ended:
            raise CallerHungUp
        return outcome.reason == "interrupted"

    async def collect_digits(
        self,
        *,
        min_digits: int,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - a DTMF wait, not a cancellation deadline
        inter_digit_timeout: float,
        terminator: str,
    ) -> Digits:
        self._check()
        result = await self.channel.collect_digits(
            min_digits, max_digits, timeout, inter_digit_timeout, terminator
        )
        if result.reason == "hangup":
            raise CallerHungUp
        return Digits(
            result.digits,
            terminated=result.reason == "terminator",
            timed_out=result.reason == "timeout",
        )

    async def record(self, path: Path, *, max_seconds: int) -> float:
        """A beep, then the caller's voice until '#' (or '*'), hang-up or `max_seconds`."""
        self._check()
        await self.channel.play(beep_audio())
        self.channel.flush_digits()
        self.channel.record(path, channels=1)
        try:
            await self.channel.collect_digits(
                0, 1, float(max_seconds), float(max_seconds), RECORD_END_KEYS
            )
        finally:
            info = await self.channel.stop_recording()
        return 0.0 if info is None else info.duration_ms / 1000

    async def listen(self, *, seconds: float) -> bytes:
        """What the caller says in the next `seconds` (8 kHz PCM), for speech input.

        Taps the call's media with a recorder of the engine that is not stored
        with the call's recordings; a key pressed meanwhile ends it early.
        """
        self._check()
        engine = self.control.engine
        with tempfile.TemporaryDirectory(prefix="ivr-listen-") as folder:
            recorder = engine.start_recording(self.channel.session, Path(folder) / "u.wav", 1)
            try:
                await self.channel.collect_digits(0, 1, seconds, seconds, "")
            finally:
                result = await engine.end_recording(recorder)
            self._check()
            pcm = await asyncio.to_thread(read_wav, result.path)
        return pcm.astype("<i2").tobytes()

    async def transfer(self, target: str) -> bool:
        self._check()
        try:
            await self.control.blind_transfer(self.channel, target, self.caller)
        except (TransferFailed, LegFailed) as failure:
            log.info("IVR transfer of %s to %s failed: %s", self.call_id, target, failure)
            return False
        return True

    async def wait_ended(self) -> None:
        """Return when the caller has gone (the ACD's wait races this)."""
        await self.channel.wait_ended()

    async def hangup(self) -> None:
        if not self.channel.ended:
            await self.channel.hangup()


class IncomingRouter:
    """Decides, per inbound call, between the IVR and a straight extension call."""

    def __init__(self, control: CallControl, ivr: IvrService) -> None:
        self.control = control
        self.ivr = ivr
        self.calls: set[asyncio.Task[object]] = set()

    def install(self) -> None:
        self.control.set_incoming_handler(self.handle)

    def wants(self, incoming: IncomingCall) -> bool:
        """Calls from carriers, and calls to a number some flow lists, go to the IVR."""
        if incoming.trunk is not None:
            return True
        digits = incoming.did.lstrip("+")
        flows = (self.ivr.flows.get(name) for name in self.ivr.flows.names())
        return any(digits in (n.lstrip("+") for n in f.definition.numbers) for f in flows)

    async def handle(self, channel: Channel, incoming: IncomingCall) -> None:
        if self.wants(incoming):
            await self.ivr.handle_call(ChannelSession(self.control, channel, incoming))
        else:
            await self.connect(channel, incoming)

    async def connect(self, channel: Channel, incoming: IncomingCall) -> None:
        """Ring the dialled extension; on answer, answer the caller and bridge the two."""
        await channel.ring()
        try:
            callee = await self.control.dial(incoming.did, incoming.caller, call=incoming.call)
            await callee.wait_answered()
        except LegFailed as failure:
            if not channel.ended:
                await channel.reject(failure.status if failure.status >= 400 else 480)
            return
        if channel.ended:
            await callee.hangup("originator_cancel")
            return
        await channel.answer()
        self.control.bridge(channel, callee)


def install(control: CallControl, ivr: IvrService) -> IncomingRouter:
    """Make the IVR answer inbound calls (the composition root calls this at start-up)."""
    router = IncomingRouter(control, ivr)
    router.install()
    return router
