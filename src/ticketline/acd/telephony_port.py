"""`AgentPhones` over the call-control API: offers ring real phones, answers connect them.

The ACD decides; this module does it with `CallControl` and `Channel`s and
reports back what the phones did:

* an offer dials the agent's extension as another leg of the caller's call;
  the first phone to answer is reported with `answered`, a phone that refuses,
  is busy or is not registered with `offer_failed` (a phone that just keeps
  ringing is the router's to time out: it sends `stop_ringing`);
* `connect` bridges the caller and the agent leg and records the call in
  stereo (caller left, agent right) with the call's recordings;
* every caller leg the ACD touches is watched: when it ends the ACD hears
  `caller_hung_up` (an abandon while waiting, a completion once talking); when
  the agent's leg ends first, `call_ended(call_id, "agent")`;
* announcements and the voicemail prompt are spoken in the caller's language
  in the background, so the command worker never waits for audio.

`release_agent(call_id)` hangs up the agent's leg when the call moves on (a
transfer) without reporting a completion: the ACD logged the transfer already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Protocol

from ticketline.acd.ports import NO_KEYS, WaitingKeys
from ticketline.core.clock import Clock
from ticketline.telephony.calls import LegFailed
from ticketline.telephony.control import CallControl
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.telephony.media_player import beep_audio

log = logging.getLogger(__name__)

Speaker = Callable[[str, str, str], Awaitable[Path]]
"""(prompt key, text, language "zh" or "en") -> a playable 8 kHz WAV."""

VOICEMAIL_SECONDS = 120
VOICEMAIL_END_KEYS = "#*"
KEY_LISTEN_SECONDS = 3600.0  # the longest wait collect_digits allows; the listener re-arms
# A callback's customer rings this long, then the agent is freed (a carrier gives up
# after 60-180 s, some never do; the agent should not hear music for minutes).
CALLBACK_RING_SECONDS = 45.0

PROMPTS: dict[str, dict[str, str]] = {
    "acd.position": {
        "zh": "您前面还有{position}位，预计等待{wait}。",
        "en": "You are number {position} in line; about {wait}.",
    },
    "acd.callback_confirm": {
        "zh": "好的，轮到您时我们会给您回电，保留您的排队位置。再见。",
        "en": "We will call you back when it is your turn; you keep your place. Goodbye.",
    },
    "acd.voicemail": {
        "zh": "坐席暂时都忙，请在提示音后留言，按井号键结束。",
        "en": "All our agents are busy. Please leave a message after the tone, "
        "then press the hash key.",
    },
}

KEY_HINTS: dict[str, dict[str, str]] = {
    "message": {"zh": "如需留言，请按{key}。", "en": "To leave a message, press {key}."},
    "callback": {
        "zh": "如需挂机等候回电并保留排队位置，请按{key}。",
        "en": "To hang up and be called back in your turn, press {key}.",
    },
}
KEY_NAMES = {"zh": {"*": "星号键", "#": "井号键"}, "en": {"*": "star", "#": "hash"}}


def key_hints(keys: WaitingKeys, lang: str) -> str:
    """What a waiting caller hears about the keys of their queue."""
    said = []
    for kind, key in (("message", keys.message), ("callback", keys.callback)):
        if key is not None:
            name = KEY_NAMES[lang].get(key, key)
            said.append(KEY_HINTS[kind][lang].format(key=name))
    return ("" if lang == "zh" else " ").join(said)


def _key_name(key: str | None) -> str:
    """A key as it may stand in a prompt recording's file name."""
    return {None: "none", "*": "star", "#": "hash"}.get(key, key or "none")


class AcdCalls(Protocol):
    """What the phones report back to (the ACD runtime)."""

    def answered(self, call_id: str, extension: str) -> bool: ...

    def offer_failed(self, call_id: str, extension: str) -> None: ...

    def caller_hung_up(self, call_id: str) -> None: ...

    def call_ended(self, call_id: str, hung_up_by: str) -> None: ...

    def callback_done(self, call_id: str, reached: bool) -> None: ...

    def key_pressed(self, call_id: str, key: str) -> str | None: ...

    def language_of(self, call_id: str) -> str: ...


def spoken_wait(seconds: str, lang: str) -> str:
    """An estimated wait in words a caller understands (minutes, at least one)."""
    if not seconds.isdigit():
        return "几分钟" if lang == "zh" else "a few minutes"
    minutes = max(1, round(int(seconds) / 60))
    if lang == "zh":
        return f"{minutes}分钟"
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class ControlPhones:
    """The ACD's `AgentPhones` on real calls (see the module docstring)."""

    def __init__(
        self,
        control: CallControl,
        acd: AcdCalls,
        clock: Clock,
        *,
        speak: Speaker | None = None,
        voicemail_dir: Path | None = None,
    ) -> None:
        self.control = control
        self.acd = acd
        self.clock = clock
        self.speak = speak
        self.voicemail_dir = voicemail_dir
        self.callback_ring_seconds = CALLBACK_RING_SECONDS
        self.offers: dict[tuple[str, str], Channel] = {}
        self.agent_legs: dict[str, Channel] = {}
        self._callers: dict[str, Channel] = {}
        self._keys: dict[str, WaitingKeys] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] = set()  # also those a newer one replaced

    # -- the caller ---------------------------------------------------------------------

    def caller(self, call_id: str) -> Channel | None:
        """The customer's leg of `call_id` (the inbound leg), if it is still up."""
        known = self._callers.get(call_id)
        if known is not None and not known.ended:
            return known
        for channel in self.control.channels.values():
            inbound = channel.leg.direction == "inbound"
            if channel.call_id == call_id and inbound and not channel.ended:
                self._watch_caller(call_id, channel)
                return channel
        return None

    def _watch_caller(self, call_id: str, channel: Channel) -> None:
        if self._callers.get(call_id) is channel:
            return
        self._callers[call_id] = channel
        self._spawn((call_id, "caller"), self._caller_gone(call_id, channel))

    async def _caller_gone(self, call_id: str, channel: Channel) -> None:
        await channel.wait_ended()
        if self._callers.get(call_id) is channel:
            del self._callers[call_id]
        self._stop_task((call_id, "announce"))
        self._stop_listening(call_id)
        self.acd.caller_hung_up(call_id)

    # -- offers -------------------------------------------------------------------------

    async def ring(
        self, call_id: str, extensions: Sequence[str], ring_seconds: int, caller_id: str
    ) -> None:
        caller = self.caller(call_id)
        for extension in extensions:
            if (call_id, extension) not in self.offers:
                self._spawn((call_id, extension), self._offer(call_id, extension, caller,
                                                              caller_id))  # fmt: skip

    async def _offer(
        self, call_id: str, extension: str, caller: Channel | None, caller_id: str
    ) -> None:
        key = (call_id, extension)
        try:
            leg = await self.control.dial(
                extension, caller_id or None, call=None if caller is None else caller.leg.call,
                role="agent",
            )  # fmt: skip
        except LegFailed as failure:
            log.info("offer of %s to %s failed: %s", call_id, extension, failure)
            self.acd.offer_failed(call_id, extension)
            return
        self.offers[key] = leg
        try:
            await leg.wait_answered()
        except LegFailed as failure:
            if self.offers.pop(key, None) is leg:
                log.info("offer of %s to %s not taken: %s", call_id, extension, failure)
                self.acd.offer_failed(call_id, extension)
            return
        if self.offers.get(key) is not leg or not self.acd.answered(call_id, extension):
            self.offers.pop(key, None)
            await leg.hangup("offer_withdrawn")

    async def stop_ringing(self, call_id: str, extension: str) -> None:
        leg = self.offers.pop((call_id, extension), None)
        task = self._tasks.pop((call_id, extension), None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if leg is not None and not leg.ended:
            await leg.hangup("originator_cancel")

    # -- connecting ---------------------------------------------------------------------

    async def connect(self, call_id: str, extension: str) -> None:
        self._stop_task((call_id, "announce"))
        agent = self.offers.pop((call_id, extension), None)
        self._tasks.pop((call_id, extension), None)
        caller = self.caller(call_id)
        if agent is None or agent.ended:
            if caller is not None:  # a pickup: ring the agent's phone now
                agent = await self._reach(extension, caller)
            if agent is None:
                self.acd.call_ended(call_id, "agent")
                return
        if caller is None:
            await agent.hangup("caller_gone")
            return
        caller.stop_moh()
        self.control.bridge(caller, agent)
        if caller.recorder is None:
            caller.record()
        self._watch_agent(call_id, agent)

    async def _reach(self, extension: str, caller: Channel) -> Channel | None:
        try:
            agent = await self.control.dial(extension, caller.leg.call.caller or None,
                                            call=caller.leg.call, role="agent")  # fmt: skip
            await agent.wait_answered()
        except LegFailed as failure:
            log.info("could not reach %s for a pickup: %s", extension, failure)
            return None
        return agent

    def _watch_agent(self, call_id: str, agent: Channel) -> None:
        self.agent_legs[call_id] = agent
        self._spawn((call_id, "agent"), self._agent_gone(call_id, agent))

    async def _agent_gone(self, call_id: str, agent: Channel) -> None:
        await agent.wait_ended()
        if self.agent_legs.get(call_id) is not agent:
            return  # detached (transferred away) or replaced
        del self.agent_legs[call_id]
        caller = self._callers.get(call_id)
        if caller is None or caller.ended:
            return  # the caller's end reports the completion
        self.acd.call_ended(call_id, "agent")
        if self.control.bridged_to(caller) is None:  # on hold: nobody else will end it
            await caller.hangup("normal_clearing")

    async def release_agent(self, call_id: str, cause: str) -> None:
        agent = self.agent_legs.pop(call_id, None)
        self._stop_task((call_id, "agent"))
        if agent is not None and not agent.ended:
            self.control.unbridge(agent)
            await agent.hangup(cause)

    async def dial_customer(self, call_id: str, extension: str, number: str) -> None:
        """A callback: the agent answered; call the customer and join them."""
        agent = self.offers.pop((call_id, extension), None)
        self._tasks.pop((call_id, extension), None)
        if agent is None or agent.ended:
            self.acd.call_ended(call_id, "agent")
            return
        self._watch_agent(call_id, agent)
        self._spawn((call_id, "callback"), self._call_back(call_id, agent, number))

    async def _call_back(self, call_id: str, agent: Channel, number: str) -> None:
        agent.start_moh()
        try:
            customer = await self.control.dial(number, call=agent.leg.call, role="callback")
            await self._wait_answered(customer, self.callback_ring_seconds)
        except LegFailed as failure:
            log.info("callback %s to %s failed: %s", call_id, number, failure)
            self.acd.callback_done(call_id, False)
            if not agent.ended:
                await agent.hangup("callback_failed")
            return
        agent.stop_moh()
        self._callers[call_id] = customer
        self.acd.callback_done(call_id, True)
        if agent.ended:
            await customer.hangup("agent_gone")
            return
        self.control.bridge(customer, agent)
        customer.record()
        self._spawn((call_id, "caller"), self._caller_gone(call_id, customer))

    @staticmethod
    async def _wait_answered(leg: Channel, seconds: float) -> None:
        """Like `wait_answered`, but a leg still ringing after `seconds` is cancelled."""
        try:
            await asyncio.wait_for(leg.wait_answered(), seconds)
        except TimeoutError:
            await leg.hangup("no_answer")
            raise LegFailed(480, "no_answer") from None

    # -- what the caller hears ------------------------------------------------------------

    async def start_music(self, call_id: str, music: str, keys: WaitingKeys) -> None:
        caller = self.caller(call_id)
        if caller is None:  # gone before the ACD could watch it: an abandon
            self.acd.caller_hung_up(call_id)
            return
        if caller.answered:
            caller.start_moh()
        if keys and caller.answered:
            self._keys[call_id] = keys
            self._spawn((call_id, "keys"), self._listen_for_keys(call_id, caller))
            await self.play(call_id, "acd.keys", {})

    async def _listen_for_keys(self, call_id: str, caller: Channel) -> None:
        """Wait for the caller's keys while they wait; the ACD says what each means."""
        caller.flush_digits()  # keys pressed in the menu before the queue are not meant here
        while not caller.ended:
            got = await caller.collect_digits(
                1, 1, KEY_LISTEN_SECONDS, KEY_LISTEN_SECONDS, terminator=""
            )
            if got.reason == "hangup":  # the media is gone, maybe before the leg: a closed
                return  # session answers at once, without yielding; looping would spin
            if got.ok and self.acd.key_pressed(call_id, got.digits) is not None:
                return

    def _stop_listening(self, call_id: str) -> None:
        self._keys.pop(call_id, None)
        self._stop_task((call_id, "keys"))

    async def stop_music(self, call_id: str) -> None:
        self._stop_task((call_id, "announce"))
        self._stop_listening(call_id)
        caller = self.caller(call_id)
        if caller is not None:
            caller.stop_moh()

    async def play(self, call_id: str, prompt: str, variables: dict[str, str]) -> None:
        caller = self.caller(call_id)
        if caller is None or (call_id, "announce") in self._tasks:
            return
        self._spawn((call_id, "announce"), self._announce(call_id, caller, prompt, variables))

    async def _announce(
        self, call_id: str, caller: Channel, prompt: str, variables: dict[str, str]
    ) -> None:
        prompts = [prompt] if prompt == "acd.keys" else [prompt, "acd.keys"]
        for key in prompts:
            path = await self._prompt_path(call_id, key, variables)
            if caller.ended:
                return
            if path is not None:
                await caller.play(path)
        if call_id not in self.agent_legs and not caller.ended:
            caller.start_moh()  # back to the music while still waiting

    async def _prompt_path(
        self, call_id: str, prompt: str, variables: dict[str, str]
    ) -> Path | None:
        if self.speak is None:
            return None
        lang = self.acd.language_of(call_id)
        text = self._prompt_text(call_id, prompt, variables, lang)
        if not text:
            return None
        if prompt == "acd.keys":  # a recording made for one queue's keys fits only those
            keys = self._keys.get(call_id, NO_KEYS)
            prompt = f"acd.keys.{_key_name(keys.message)}.{_key_name(keys.callback)}"
        try:
            return await self.speak(prompt, text, lang)
        except Exception:
            log.exception("could not render ACD prompt %s", prompt)
            return None

    def _prompt_text(self, call_id: str, prompt: str, variables: dict[str, str], lang: str) -> str:
        if prompt == "acd.keys":
            return key_hints(self._keys.get(call_id, NO_KEYS), lang)
        texts = PROMPTS.get(prompt)
        if texts is None:
            return ""
        values = dict(variables)
        message = values.pop("message", "")
        if "wait" in values:
            values["wait"] = spoken_wait(values["wait"], lang)
        text = texts[lang].format(**values)
        return f"{text} {message}" if message else text

    async def to_voicemail(self, call_id: str, queue_id: str) -> None:
        caller = self.caller(call_id)
        if caller is not None:
            self._spawn((call_id, "voicemail"), self._voicemail(call_id, caller, queue_id))

    async def _voicemail(self, call_id: str, caller: Channel, queue_id: str) -> None:
        """The queue's message box: a prompt, a beep, the message until '#', goodbye."""
        self._stop_task((call_id, "announce"))
        self._stop_listening(call_id)
        caller.stop_moh()
        path = await self._prompt_path(call_id, "acd.voicemail", {})
        with contextlib.suppress(ChannelError):
            if path is not None:
                await caller.play(path)
            if self.voicemail_dir is not None and not caller.ended:
                day = self.clock.now().strftime("%Y/%m/%d")
                folder = self.voicemail_dir / queue_id / day
                folder.mkdir(parents=True, exist_ok=True)
                await self._record_message(caller, folder / f"{call_id}.wav")
        if not caller.ended:
            await caller.hangup("voicemail_done")

    async def _record_message(self, caller: Channel, path: Path) -> None:
        await caller.play(beep_audio())
        caller.flush_digits()
        if caller.recorder is None:
            caller.record(path, channels=1)
        seconds = float(VOICEMAIL_SECONDS)
        await caller.collect_digits(0, 1, seconds, seconds, VOICEMAIL_END_KEYS)
        await caller.stop_recording()

    async def hang_up(self, call_id: str, cause: str) -> None:
        caller = self.caller(call_id)
        if caller is not None:
            self._spawn((call_id, "hangup"), self._hang_up_after_prompt(call_id, caller, cause))

    async def _hang_up_after_prompt(self, call_id: str, caller: Channel, cause: str) -> None:
        await self._drain((call_id, "announce"))  # e.g. the callback confirmation
        if not caller.ended:
            await caller.hangup(cause)

    # -- tasks ----------------------------------------------------------------------------

    def _spawn(self, key: tuple[str, str], work: Coroutine[Any, Any, None]) -> None:
        # The coroutine is the task itself (no wrapper): a task cancelled before its
        # first step then closes it, instead of leaving it "never awaited".
        task = asyncio.get_running_loop().create_task(work, name=f"acd-{key[1]}-{key[0]}")
        self._tasks[key] = task
        self._running.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._running.discard(finished)
            if self._tasks.get(key) is finished:
                del self._tasks[key]
            if not finished.cancelled() and finished.exception() is not None:
                log.error("ACD phone work %s failed", key, exc_info=finished.exception())

        task.add_done_callback(done)

    def _stop_task(self, key: tuple[str, str]) -> None:
        task = self._tasks.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _drain(self, key: tuple[str, str]) -> None:
        task = self._tasks.get(key)
        if task is not None and task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def close(self) -> None:
        """Stop every watcher and offer (at shutdown, after the calls were hung up)."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
