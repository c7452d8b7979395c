"""The ACD at run time: feeds the router, carries out its commands, keeps the log.

The router is synchronous and fast; every input (a call handed in, an agent's
button, a phone answering) is one router step, run to the end without awaiting,
so steps never interleave. Its outputs are then handled in order: log lines go
to the writer, the live figures and the bus; commands go to one worker task that
drives the phones through the `AgentPhones` port, in the order they were decided.
A ticker task sleeps until the router's next deadline (offer timeouts, widening,
wrap-up ends) and runs `tick`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from ticketline.acd.actions import (
    Announce,
    Command,
    Output,
    RingAgents,
    SendOverflow,
    StopAlwaysRing,
    StopRinging,
)
from ticketline.acd.agents import AgentStateChanged
from ticketline.acd.config import AgentProfile, Membership, OverflowKind, QueueConfig, SkillNeed
from ticketline.acd.errors import CallNotFound, NotRinging, UnknownQueue
from ticketline.acd.events import CallConnected, CallOffered
from ticketline.acd.ports import (
    NO_KEYS,
    AgentPhones,
    CallerInfo,
    CallHandle,
    EnqueueOutcome,
    EnqueueStatus,
    WaitingKeys,
)
from ticketline.acd.queuelog import QueueEvent, QueueLogEntry, QueueLogWriter, agent_entry
from ticketline.acd.router import Router
from ticketline.acd.stats import LiveStats
from ticketline.acd.waiting import CallRequest, Phase
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartMusic:
    call_id: str
    music: str
    keys: WaitingKeys = NO_KEYS


@dataclass(frozen=True)
class Connect:
    call_id: str
    extension: str
    callback_number: str | None


@dataclass(frozen=True)
class GiveBack:
    """The caller leaves the ACD alive (overflow): stop the music, tell whoever waits."""

    call_id: str
    queue_id: str
    outcome: str
    kind: OverflowKind | None = None
    to_ivr: bool = False


Work = Command | StartMusic | Connect | GiveBack

PUBLISH_GRACE = 5.0  # seconds subscribers get at shutdown

# How an overflow is named to the IVR's queue node.
OVERFLOW_OUTCOMES = {"max_wait": "timeout", "no_agents": "no_agents", "max_length": "overflow"}


class AcdRuntime:
    """One process's ACD (see the module docstring)."""

    def __init__(
        self,
        router: Router,
        clock: Clock,
        bus: EventBus,
        writer: QueueLogWriter,
        stats: LiveStats,
        phones: AgentPhones | None = None,
    ) -> None:
        self.router = router
        self.clock = clock
        self.bus = bus
        self.writer = writer
        self.stats = stats
        self.phones = phones
        self.reasons: set[str] = set()
        self._work: asyncio.Queue[Work] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._waiters: dict[str, asyncio.Future[tuple[str, str | None]]] = {}
        self._published: set[asyncio.Task[object]] = set()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        await self.writer.start()
        self._tasks = [
            asyncio.create_task(self._ticker(), name="acd-ticker"),
            asyncio.create_task(self._worker(), name="acd-phones"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._finish_publishing()
        await self.writer.stop()

    async def _finish_publishing(self) -> None:
        """Let subscribers (the desk's screen pop reads the database) finish, briefly."""
        if not self._published:
            return
        _, late = await asyncio.wait(set(self._published), timeout=PUBLISH_GRACE)
        for task in late:
            log.warning("ACD event still being handled at shutdown: %s", task.get_name())
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def settle(self) -> None:
        """Wait until every phone command decided so far was carried out (tests)."""
        await self._work.join()

    # -- configuration (from AcdAdmin) -----------------------------------------------

    def set_queue(self, config: QueueConfig) -> None:
        self.router.set_queue(config)

    def set_agent(self, profile: AgentProfile) -> None:
        self.router.set_agent(profile)

    def set_membership(self, member: Membership) -> None:
        self._step(self.router.set_membership(member, self.clock.now()))

    def remove_membership(self, queue: str, agent: str) -> None:
        self._step(self.router.remove_membership(queue, agent, self.clock.now()))

    # -- agents (from the desktop) -------------------------------------------------

    def login(self, agent: str, paused_reason: str | None = None) -> None:
        if paused_reason is not None:
            self._check_reason(paused_reason)
        self._step(self.router.login(agent, self.clock.now(), paused_reason))

    def logout(self, agent: str) -> None:
        self._step(self.router.logout(agent, self.clock.now()))

    def ready(self, agent: str) -> None:
        self._step(self.router.ready(agent, self.clock.now()))

    def pause(self, agent: str, reason: str) -> None:
        self._check_reason(reason)
        self._step(self.router.pause(agent, reason, self.clock.now()))

    def start_outbound(self, agent: str) -> None:
        self._step(self.router.start_outbound(agent, self.clock.now()))

    def end_outbound(self, agent: str, wrap_up: int = 0) -> None:
        self._step(self.router.end_outbound(agent, self.clock.now(), wrap_up))

    def pickup(self, agent: str, call_id: str) -> None:
        """An agent takes a call waiting or ringing elsewhere; their phone is connected."""
        callback = (
            self.router.calls[call_id].callback_number if call_id in self.router.calls else None
        )
        self._step(self.router.pickup(agent, call_id, self.clock.now()))
        self._do(Connect(call_id, self.router.agents[agent].extension, callback))

    def _check_reason(self, reason: str) -> None:
        if reason not in self.reasons and reason != self.router.settings.auto_pause_reason:
            raise InvalidInput("reason", f"no enabled reason code {reason!r}")

    # -- calls (from the IVR and telephony) ------------------------------------------

    async def enqueue(
        self,
        call: CallHandle,
        queue: str,
        skills: Sequence[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> EnqueueOutcome:
        """Hand a call to the ACD (ports.QueueEntry)."""
        request = CallRequest(
            call.call_id,
            queue,
            caller=caller.number,
            priority=priority,
            skills=tuple(skills),
            first_time=caller.first_time,
            customer_id=caller.customer_id,
            language="en" if caller.language.startswith("en") else "zh",
        )
        state = self.router.queues.get(queue)
        if state is None:
            self._do(StartMusic(call.call_id, ""))
        else:
            keys = WaitingKeys(state.config.message_key, state.config.callback_key)
            self._do(StartMusic(call.call_id, state.config.music, keys))
        outputs = self.router.enqueue(request, self.clock.now())
        self._step(outputs)
        overflow = next((o for o in outputs if isinstance(o, SendOverflow)), None)
        return self._outcome_of(call.call_id, queue, overflow)

    async def enqueue_and_wait(
        self,
        call: CallHandle,
        queue: str,
        skills: Sequence[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> tuple[str, str | None]:
        """Hand a call in and wait: ('connected', agent) or (how it was given back, None).

        Given back: 'timeout', 'no_agents', 'overflow' (the queue's overflow went to
        voicemail: the caller is the IVR's again), 'callback', 'abandoned'.
        """
        future: asyncio.Future[tuple[str, str | None]] = asyncio.get_running_loop().create_future()
        self._waiters[call.call_id] = future
        try:
            await self.enqueue(call, queue, skills, priority, caller)
            return await future
        finally:
            self._waiters.pop(call.call_id, None)

    def answered(self, call_id: str, extension: str) -> bool:
        """The phone at `extension` answered an offer; False if the offer was withdrawn."""
        call = self.router.calls.get(call_id)
        if call is None:
            return False
        now = self.clock.now()
        callback = call.callback_number
        try:
            if extension in call.also_ringing:
                self._step(self.router.answered_by_channel(call_id, extension, now))
            else:
                agent = self._agent_at(call.ringing, extension)
                self._step(self.router.answered(call_id, agent, now))
        except NotRinging:
            return False
        self._do(Connect(call_id, extension, callback))
        return True

    def offer_failed(self, call_id: str, extension: str) -> None:
        """The phone at `extension` declined, was busy or could not be reached."""
        call = self.router.calls.get(call_id)
        if call is not None and extension in call.ringing.values():
            agent = self._agent_at(call.ringing, extension)
            self._step(self.router.no_answer(call_id, agent, self.clock.now()))

    def caller_hung_up(self, call_id: str) -> None:
        """The caller's leg ended: an abandon while waiting, a completion once connected."""
        self._step(self.router.abandon(call_id, self.clock.now()))
        self._resolve(call_id, "abandoned", None)

    def call_ended(self, call_id: str, hung_up_by: str) -> None:
        """A connected call ended; `hung_up_by` is 'caller' or 'agent'."""
        if call_id in self.router.calls:
            self._step(self.router.complete(call_id, hung_up_by, self.clock.now()))

    def transferred(self, call_id: str, target: str) -> CallRequest:
        """The agent sent a connected call elsewhere (logged; the agent goes to wrap-up)."""
        call = self.router.calls.get(call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id} in the ACD")
        self._step(self.router.transfer(call_id, target, self.clock.now()))
        return call.request

    async def transfer_to_queue(self, call: CallHandle, queue: str) -> EnqueueOutcome:
        """The agent sends the caller to another queue, keeping their priority."""
        if queue not in self.router.queues:
            raise UnknownQueue(f"no queue {queue!r}", details={"field": "target"})
        request = self.transferred(call.call_id, f"queue:{queue}")
        if self.phones is not None:
            await self.phones.release_agent(call.call_id, "transferred")
        return await self.requeue(call, queue, request)

    async def transfer_to_agent(self, call: CallHandle, agent: str) -> None:
        """The agent hands the caller to another agent, whose phone rings now.

        The call re-enters the queue it came from and is picked up at once for
        `agent`, so the ACD counts the second agent as on a call and offers
        them nothing else meanwhile.
        """
        current = self.router.calls.get(call.call_id)
        if current is None:
            raise CallNotFound(f"no call {call.call_id} in the ACD")
        self.router.check_may_pick_up(agent)
        queue = current.queue_id
        request = self.transferred(call.call_id, f"agent:{agent}")
        if self.phones is not None:
            await self.phones.release_agent(call.call_id, "transferred")
        await self.requeue(call, queue, request)
        waiting = self.router.calls.get(call.call_id)  # None: it overflowed on entry
        if waiting is not None and agent not in waiting.ringing:  # else it rings them already
            self.pickup(agent, call.call_id)

    async def requeue(self, call: CallHandle, queue: str, request: CallRequest) -> EnqueueOutcome:
        """Queue a call again with what was known of its caller (after a transfer)."""
        caller = CallerInfo(
            request.caller, request.customer_id, request.first_time, request.language
        )
        return await self.enqueue(call, queue, (), request.priority, caller)

    def request_callback(self, call_id: str, number: str) -> None:
        """The caller pressed the key to be called back: they keep their place."""
        self._step(self.router.request_callback(call_id, number, self.clock.now()))
        self._resolve(call_id, "callback", None)

    def key_pressed(self, call_id: str, key: str) -> str | None:
        """A waiting caller pressed `key`: 'voicemail', 'callback', or None (no meaning).

        The message key takes the caller out of the line to the queue's message
        box (the IVR's voicemail when the IVR waits for the call). The callback
        key keeps their place as a callback to their number and says goodbye.
        """
        call = self.router.calls.get(call_id)
        if call is None or call.phase is Phase.CONNECTED or call.callback_number is not None:
            return None
        config = self.router.queues[call.queue_id].config
        to_ivr = call_id in self._waiters
        if key == config.message_key:
            self._step(self.router.leave_with_key(call_id, key, self.clock.now()))
            self._do(GiveBack(call_id, call.queue_id, "voicemail", OverflowKind.VOICEMAIL, to_ivr))
            self._resolve(call_id, "voicemail", None)
            return "voicemail"
        if key == config.callback_key and call.request.caller:
            self._do(GiveBack(call_id, call.queue_id, "callback", OverflowKind.CALLBACK, to_ivr))
            self.request_callback(call_id, call.request.caller)
            return "callback"
        return None

    def callback_done(self, call_id: str, reached: bool) -> None:
        self._step(self.router.callback_done(call_id, reached, self.clock.now()))

    def language_of(self, call_id: str) -> str:
        """The language the caller chose in the IVR (zh when the call is unknown)."""
        call = self.router.calls.get(call_id)
        return call.request.language if call is not None else "zh"

    def tick(self, now: datetime | None = None) -> None:
        self._step(self.router.tick(now or self.clock.now()))

    # -- outputs -------------------------------------------------------------------

    def _step(self, outputs: list[Output]) -> None:
        for output in outputs:
            if isinstance(output, QueueLogEntry):
                self._logged(output)
            elif isinstance(output, AgentStateChanged):
                self.writer.record(agent_entry(output))
                self.stats.apply_agent(output)
                self._publish(output)
            elif isinstance(output, SendOverflow):
                self._overflowed(output)
            else:
                self._do(output)
        self._wake.set()

    def _logged(self, entry: QueueLogEntry) -> None:
        self.writer.record(entry)
        self.stats.apply(entry)
        self._publish(entry)
        call = self.router.calls.get(entry.call_id or "")
        caller = call.request.caller if call else ""
        if entry.event is QueueEvent.OFFER and entry.agent_id:
            for agent in entry.data.get("agents", [entry.agent_id]):
                self._publish(CallOffered(entry.call_id or "", entry.queue_id or "", agent, caller))
        elif entry.event is QueueEvent.CONNECT:
            self._publish(
                CallConnected(
                    entry.call_id or "",
                    entry.queue_id or "",
                    entry.agent_id or "",
                    caller,
                    entry.wait or 0.0,
                )
            )
            self._resolve(entry.call_id or "", "connected", entry.agent_id)

    def _overflowed(self, command: SendOverflow) -> None:
        to_ivr = command.call_id in self._waiters
        if command.kind is OverflowKind.CALLBACK:
            outcome = "callback"
        elif to_ivr:
            outcome = OVERFLOW_OUTCOMES.get(command.reason.value, "overflow")
        else:
            outcome = "voicemail"
        self._do(GiveBack(command.call_id, command.queue_id, outcome, command.kind, to_ivr))
        self._resolve(command.call_id, outcome, None)

    def _resolve(self, call_id: str, outcome: str, agent: str | None) -> None:
        future = self._waiters.pop(call_id, None)
        if future is not None and not future.done():
            future.set_result((outcome, agent))

    def _outcome_of(
        self, call_id: str, queue: str, overflow: SendOverflow | None
    ) -> EnqueueOutcome:
        call = self.router.calls.get(call_id)
        if call is None or call.callback_number is not None:
            kind = overflow.kind if overflow else None
            return EnqueueOutcome(EnqueueStatus.OVERFLOWED, queue, overflow=kind)
        if call.phase is Phase.RINGING:
            return EnqueueOutcome(EnqueueStatus.RINGING, call.queue_id, 1)
        return EnqueueOutcome(
            EnqueueStatus.QUEUED,
            call.queue_id,
            self.router.position(call_id),
            self.router.estimated_wait(call_id),
        )

    def _agent_at(self, ringing: dict[str, str], extension: str) -> str:
        for agent, ext in ringing.items():
            if ext == extension:
                return agent
        raise NotRinging(f"extension {extension} is not ringing")

    def _publish(self, event: object) -> None:
        task = asyncio.get_running_loop().create_task(
            self.bus.publish(event), name=f"acd-publish-{type(event).__name__}"
        )
        self._published.add(task)
        task.add_done_callback(self._published.discard)

    def _do(self, work: Work) -> None:
        self._work.put_nowait(work)

    # -- tasks ---------------------------------------------------------------------

    async def _ticker(self) -> None:
        while True:
            deadline = self.router.next_deadline()
            delay = None if deadline is None else (deadline - self.clock.now()).total_seconds()
            self._wake.clear()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            try:
                self.tick()
            except Exception:
                log.exception("ACD tick failed")

    async def _worker(self) -> None:
        while True:
            work = await self._work.get()
            try:
                if self.phones is not None:
                    await self._carry_out(self.phones, work)
            except Exception:
                log.exception("ACD could not carry out %s", work)
                self._failed(work)
            finally:
                self._work.task_done()

    def _failed(self, work: Work) -> None:
        if isinstance(work, RingAgents):
            for _, extension in work.agents:
                with contextlib.suppress(Exception):
                    self.offer_failed(work.call_id, extension)

    async def _carry_out(self, phones: AgentPhones, work: Work) -> None:
        if isinstance(work, RingAgents):
            call = self.router.calls.get(work.call_id)
            caller = call.request.caller if call else ""
            extensions = [ext for _, ext in work.agents] + list(work.also_ring)
            await phones.ring(work.call_id, extensions, work.timeout, caller)
        elif isinstance(work, StopRinging):
            await phones.stop_ringing(work.call_id, work.extension)
        elif isinstance(work, StopAlwaysRing):
            for extension in work.extensions:
                await phones.stop_ringing(work.call_id, extension)
        elif isinstance(work, Announce):
            variables = {"position": str(work.position), "wait": str(work.estimated_wait or "")}
            message = self._periodic_message(work.call_id, work.queue_id)
            if message:
                variables["message"] = message
            await phones.play(work.call_id, "acd.position", variables)
        elif isinstance(work, StartMusic):
            await phones.start_music(work.call_id, work.music, work.keys)
        elif isinstance(work, Connect):
            await self._connect(phones, work)
        elif isinstance(work, GiveBack):
            await self._give_back(phones, work)

    def _periodic_message(self, call_id: str, queue_id: str) -> str:
        state = self.router.queues.get(queue_id)
        if state is None:
            return ""
        config = state.config
        zh = self.language_of(call_id) == "zh"
        return config.periodic_message_zh if zh else config.periodic_message_en

    async def _connect(self, phones: AgentPhones, work: Connect) -> None:
        if work.callback_number is not None:
            await phones.dial_customer(work.call_id, work.extension, work.callback_number)
        else:
            await phones.stop_music(work.call_id)
            await phones.connect(work.call_id, work.extension)

    async def _give_back(self, phones: AgentPhones, work: GiveBack) -> None:
        await phones.stop_music(work.call_id)
        if work.to_ivr:
            return  # the IVR's queue node takes the call back (and says goodbye)
        if work.kind is OverflowKind.CALLBACK:
            await phones.play(work.call_id, "acd.callback_confirm", {})
            await phones.hang_up(work.call_id, "callback_requested")
        else:
            await phones.to_voicemail(work.call_id, work.queue_id)


def build_runtime(
    db: Database, clock: Clock, bus: EventBus, zone: ZoneInfo, phones: AgentPhones | None = None
) -> AcdRuntime:
    """A runtime with its router, queue log writer and live figures."""
    router = Router(zone=zone)

    def threshold(queue: str) -> int:
        state = router.queues.get(queue)
        return state.config.service_level if state else 20

    return AcdRuntime(router, clock, bus, QueueLogWriter(db), LiveStats(zone, threshold), phones)
