"""The dispatcher: the router's state and the steps every routing decision is made of.

Invariant after every public router method: no READY agent may take a WAITING
call (otherwise it would have been offered). So a new call only needs the free
agents, and an agent who becomes free only needs the best call it may take
(lowest key across its queues); the call's own strategy then chooses among all
free candidates. Due timers run at the start of every method (see timed.py).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ticketline.acd import agents as machine
from ticketline.acd import overflow, timed
from ticketline.acd.actions import Output, RingAgents, StopAlwaysRing, StopRinging
from ticketline.acd.agents import Agent, AgentState, Trigger
from ticketline.acd.config import OverflowReason, QueueConfig, RouterSettings, Strategy
from ticketline.acd.errors import CallNotFound, UnknownAgent, UnknownQueue
from ticketline.acd.estimates import estimate_wait
from ticketline.acd.matching import (
    Moment,
    QueueState,
    agent_may_take,
    free_candidates,
)
from ticketline.acd.queuelog import QueueEvent, QueueLogEntry
from ticketline.acd.strategies import Candidate, PickContext, order
from ticketline.acd.timers import TimerKind, Timers
from ticketline.acd.waiting import Phase, QueuedCall, merge_needs
from ticketline.core.errors import Conflict

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")


class Dispatcher:
    """Queues, agents and calls of one ACD, and the steps that move them."""

    def __init__(
        self,
        settings: RouterSettings | None = None,
        *,
        zone: ZoneInfo = DEFAULT_ZONE,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or RouterSettings()
        self.zone = zone
        self.rng = rng or random.Random()
        self.queues: dict[str, QueueState] = {}
        self.agents: dict[str, Agent] = {}
        self.agent_queues: dict[str, set[str]] = {}
        self.borrowers: dict[str, set[str]] = {}
        self.calls: dict[str, QueuedCall] = {}
        self.timers = Timers()
        self._seq = 0
        self._last_agent: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._out: list[Output] = []
        self._freed: list[Agent] = []
        self._now = datetime.fromtimestamp(0, UTC)
        self._moment = Moment(0.0, 0)
        self._today = self._now.date()
        self._local_minute = -1
        self._minute_of_day = 0
        self._stamped: tuple[float, datetime] = (0.0, self._now)

    # -- queries -------------------------------------------------------------------

    def position(self, call_id: str) -> int:
        call = self._call(call_id)
        return self.queues[call.queue_id].line.position(call)

    def estimated_wait(self, call_id: str) -> int | None:
        call = self._call(call_id)
        queue = self.queues[call.queue_id]
        return estimate_wait(
            queue.line.position(call),
            queue.serving,
            queue.handle_times.average(queue.config.default_handle_time),
        )

    # -- the steps -----------------------------------------------------------------

    def _admit(self, call: QueuedCall, queue: QueueState) -> None:
        """Put `call` in `queue`'s line (on entry or overflow) and try to offer it."""
        config, ts = queue.config, self._moment.ts
        request = call.request
        call.queue_id, call.queue_entered = config.id, ts
        call.key = call.entered - request.priority * config.priority_credit
        call.needs = merge_needs(config.skills, request.skills)
        call.reach, call.step, call.drop = frozenset({config.id}), 0, 0
        call.generation += 1
        call.tried.clear()
        call.extra_needs.clear()
        call.visited = (*call.visited, config.id)
        call.entry_position = queue.line.add(call)
        data = {"priority": request.priority, "caller": request.caller}
        self._log(QueueEvent.ENTER, call, position=call.entry_position, data=data)
        if overflow.on_entry(self, call, queue):
            return
        self._set_call_timers(call, config)
        self._dispatch_call(call)

    def _set_call_timers(self, call: QueuedCall, config: QueueConfig) -> None:
        start, gen = call.queue_entered, call.generation
        if config.steps:
            self.timers.set(
                start + config.steps[0].after_seconds, TimerKind.WIDEN, call.call_id, gen
            )
        if config.max_wait:
            self.timers.set(start + config.max_wait, TimerKind.MAX_WAIT, call.call_id, gen)
        if config.announce_every:
            self.timers.set(start + config.announce_every, TimerKind.ANNOUNCE, call.call_id, gen)

    def _dispatch_call(self, call: QueuedCall) -> None:
        """Offer a waiting call to the free agents its queue's strategy picks."""
        if call.phase is not Phase.WAITING:
            return
        cands = free_candidates(call, self.queues, self.agents, self._moment)
        if not cands:
            self._retry_later(call)
            return
        self._offer(call, order(self.queues[call.queue_id].config.strategy, cands, self._ctx(call)))

    def _retry_later(self, call: QueuedCall) -> None:
        later = [t for t in call.tried.values() if t > self._moment.ts]
        if later:
            self.timers.set(min(later), TimerKind.RETRY, call.call_id, call.generation)

    def _ctx(self, call: QueuedCall) -> PickContext:
        last = self._last_agent.get(call.request.caller) if call.request.caller else None
        window = self.queues[call.queue_id].config.last_agent_window
        last_id = last[0] if last and self._moment.ts - last[1] <= window else None
        return PickContext(
            self.rng, self._today, self.queues[call.queue_id].memory, call.needs, last_id
        )

    def _offer(self, call: QueuedCall, ordered: list[Candidate]) -> None:
        queue = self.queues[call.queue_id]
        config = queue.config
        ring = ordered if config.strategy is Strategy.RING_ALL else ordered[:1]
        queue.memory.remember(ring[0])
        call.phase = Phase.RINGING
        call.offer_token += 1
        call.offer_started = self._moment.ts
        call.single_offer = config.strategy not in (Strategy.RING_ALL, Strategy.RING_PROGRESSIVE)
        call.also_ringing = config.always_ring
        self._ring(call, [c.agent for c in ring], config.always_ring)
        when = self._moment.ts + config.ring_timeout
        self.timers.set(when, TimerKind.OFFER_TIMEOUT, call.call_id, call.offer_token)
        if config.strategy is Strategy.RING_PROGRESSIVE:
            step = self._moment.ts + config.ring_step
            self.timers.set(step, TimerKind.RING_STEP, call.call_id, call.offer_token)

    def _ring(self, call: QueuedCall, agents: list[Agent], also: tuple[str, ...]) -> None:
        for agent in agents:
            self._change(agent, Trigger.OFFER)
            agent.call_id = call.call_id
            call.ringing[agent.agent_id] = agent.extension
        config = self.queues[call.queue_id].config
        pairs = tuple((a.agent_id, a.extension) for a in agents)
        self._out.append(
            RingAgents(
                call.call_id, call.queue_id, pairs, also, config.ring_timeout, call.callback_number
            )
        )
        ids = [a.agent_id for a in agents]
        self._log(QueueEvent.OFFER, call, agent=ids[0], data={"agents": ids})

    def _offer_failed(self, call: QueuedCall, agent_id: str, *, stop: bool) -> None:
        """One ringing agent did not answer: count the miss, maybe try the next one."""
        extension = call.ringing.pop(agent_id)
        agent = self.agents[agent_id]
        if stop:
            self._out.append(StopRinging(call.call_id, agent_id, extension))
        agent.call_id = None
        self._change(
            agent,
            Trigger.MISS if call.single_offer else Trigger.CANCEL,
            max_missed=self.settings.max_missed_offers,
            auto_pause_reason=self.settings.auto_pause_reason,
        )
        config = self.queues[call.queue_id].config
        call.tried[agent_id] = self._moment.ts + config.retry_after
        self._log(QueueEvent.NO_ANSWER, call, agent=agent_id, wait=self._waited(call))
        if not call.ringing:
            self._back_to_line(call)

    def _back_to_line(self, call: QueuedCall) -> None:
        if call.also_ringing:
            self._out.append(StopAlwaysRing(call.call_id, call.also_ringing))
            call.also_ringing = ()
        call.phase = Phase.WAITING
        config = self.queues[call.queue_id].config
        overdue = config.max_wait is not None and self._waited(call) >= config.max_wait
        if overdue and call.callback_number is None:
            overflow.send(self, call, OverflowReason.MAX_WAIT)
        else:
            self._dispatch_call(call)

    def _stop_offer(self, call: QueuedCall) -> None:
        """Withdraw a ringing offer from everyone still ringing (they become ready)."""
        for agent_id, extension in list(call.ringing.items()):
            self._out.append(StopRinging(call.call_id, agent_id, extension))
            agent = self.agents[agent_id]
            agent.call_id = None
            self._change(agent, Trigger.CANCEL)
        call.ringing.clear()
        if call.also_ringing:
            self._out.append(StopAlwaysRing(call.call_id, call.also_ringing))
            call.also_ringing = ()
        if call.phase is Phase.RINGING:
            call.phase = Phase.WAITING

    def _connect(
        self, call: QueuedCall, agent: Agent | None, *, pickup: bool, channel: str | None = None
    ) -> None:
        queue = self.queues[call.queue_id]
        queue.line.remove(call)
        call.phase, call.connected_at = Phase.CONNECTED, self._moment.ts
        data: dict[str, object] = {"pickup": pickup}
        if channel is not None:
            data["channel"] = channel
        if agent is not None:
            agent.call_id = call.call_id
            call.agent_id = agent.agent_id
            self._remember_agent(call.request.caller, agent.agent_id)
        self._log(
            QueueEvent.CONNECT,
            call,
            agent=call.agent_id,
            position=call.entry_position,
            wait=self._waited(call),
            data=data,
        )

    def _complete(
        self, call: QueuedCall, event: QueueEvent, data: dict[str, object]
    ) -> list[Output]:
        ts = self._moment.ts
        talk = ts - (call.connected_at or ts)
        queue = self.queues.get(call.queue_id)
        wrap = queue.config.wrap_up if queue else 0
        self.calls.pop(call.call_id, None)
        self._log(
            event,
            call,
            agent=call.agent_id,
            wait=self._waited_at_connect(call),
            talk=talk,
            data=data,
        )
        agent = self.agents.get(call.agent_id or "")
        if agent is not None and agent.call_id == call.call_id:
            if queue is not None:
                queue.handle_times.add(talk + wrap)
            self._count_call(agent, talk)
            agent.call_id = None
            self._change(agent, Trigger.HANGUP, wrap_seconds=wrap)
        return self._finish()

    def _count_call(self, agent: Agent, talk: float) -> None:
        if agent.day != self._today:
            agent.day, agent.calls_today, agent.talk_today = self._today, 0, 0.0
        agent.calls_today += 1
        agent.talk_today += talk

    def _remember_agent(self, caller: str, agent_id: str) -> None:
        if not caller:
            return
        self._last_agent[caller] = (agent_id, self._moment.ts)
        self._last_agent.move_to_end(caller)
        while len(self._last_agent) > self.settings.last_agent_memory:
            self._last_agent.popitem(last=False)

    def _dispatch_agent(self, agent: Agent) -> None:
        """A free agent: offer them the best call they may take, by its queue's strategy."""
        while agent.state is AgentState.READY:
            call = self._best_call_for(agent)
            if call is None:
                return
            if call.phase is Phase.RINGING:
                self._ring(call, [agent], ())
                return
            self._dispatch_call(call)
            if call.phase is Phase.WAITING:
                return  # cannot happen while the invariant holds; never spin

    def _best_call_for(self, agent: Agent) -> QueuedCall | None:
        best: QueuedCall | None = None
        own = self.agent_queues[agent.agent_id]
        for queue_id in self._queues_reaching(agent.agent_id):
            line = self.queues[queue_id].line
            if queue_id not in own and not line.widened:
                continue  # no call there reaches beyond its own queue yet
            for call in line:
                if best is not None and (call.key, call.seq) >= (best.key, best.seq):
                    break
                if call.phase is Phase.RINGING and not self._joinable(call):
                    continue
                if agent_may_take(agent, call, self.queues, self.agents, self._moment):
                    best = call
                    break
        return best

    def _joinable(self, call: QueuedCall) -> bool:
        return self.queues[call.queue_id].config.strategy is Strategy.RING_ALL

    def _queues_reaching(self, agent_id: str) -> set[str]:
        own = self.agent_queues.get(agent_id, set())
        if not self.borrowers:
            return own
        reaching = set(own)
        for queue_id in own:
            reaching |= self.borrowers.get(queue_id, set())
        return reaching

    # -- timers --------------------------------------------------------------------

    def _run_timers(self) -> None:
        while (timer := self.timers.pop_due(self._moment.ts)) is not None:
            saved = self._moment.ts
            self._moment.ts = max(timer.when, 0.0)
            timed.fire(self, timer)
            self._settle()
            self._moment.ts = saved

    # -- plumbing ------------------------------------------------------------------

    def _set_now(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("naive datetime: a timezone is required")
        self._now = now
        ts = now.timestamp()
        minute = int(ts // 60)
        if minute != self._local_minute:  # zone offsets only change on a minute
            local = now.astimezone(self.zone)
            self._local_minute = minute
            self._minute_of_day = local.hour * 60 + local.minute
            self._today = local.date()
        self._moment = Moment(ts, self._minute_of_day)

    def _begin(self, now: datetime) -> None:
        self._set_now(now)
        self._run_timers()

    def _finish(self) -> list[Output]:
        self._settle()
        out, self._out = self._out, []
        return out

    def _settle(self) -> None:
        while self._freed:
            agent = self._freed.pop(0)
            if agent.state is AgentState.READY:
                self._dispatch_agent(agent)

    def _change(self, agent: Agent, trigger: Trigger, **kwargs: object) -> None:
        change = machine.apply(agent, trigger, self._stamp(), **kwargs)  # type: ignore[arg-type]
        if change is None:
            return
        if change.before is not change.after:
            for queue_id in self.agent_queues[agent.agent_id]:
                self.queues[queue_id].count(agent, change.before, change.after)
        self._out.append(change)  # the queue log line is queuelog.agent_entry(change)
        if change.after is AgentState.WRAP_UP and agent.wrap_until is not None:
            self.timers.set(agent.wrap_until, TimerKind.WRAP_END, agent.agent_id, agent.version)
        if change.after is AgentState.READY:
            self._freed.append(agent)

    def _stamp(self) -> datetime:
        ts = self._moment.ts
        if self._stamped[0] != ts:
            self._stamped = (ts, datetime.fromtimestamp(ts, UTC))
        return self._stamped[1]

    def _log(
        self,
        event: QueueEvent,
        call: QueuedCall,
        *,
        agent: str | None = None,
        position: int | None = None,
        wait: float | None = None,
        talk: float | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        self._out.append(
            QueueLogEntry(
                self._stamp(),
                event,
                call.queue_id,
                call.call_id,
                agent,
                position,
                wait,
                talk,
                dict(data or {}),
            )
        )

    def _waited(self, call: QueuedCall) -> float:
        return self._moment.ts - call.queue_entered

    def _waited_at_connect(self, call: QueuedCall) -> float:
        return (call.connected_at or self._moment.ts) - call.queue_entered

    def _index_borrowers(self) -> None:
        self.borrowers = {}
        for queue in self.queues.values():
            for extra in queue.config.extra_queues:
                self.borrowers.setdefault(extra, set()).add(queue.config.id)

    def _queue(self, queue_id: str) -> QueueState:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise UnknownQueue(f"no queue {queue_id!r}", details={"field": "queue"})
        return queue

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"no agent {agent_id!r}", details={"field": "agent"})
        return agent

    def _call(self, call_id: str) -> QueuedCall:
        call = self.calls.get(call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id} in the ACD")
        return call

    def _connected(self, call_id: str) -> QueuedCall:
        call = self._call(call_id)
        if call.phase is not Phase.CONNECTED:
            raise Conflict(f"call {call_id} is not connected")
        return call

    def _leave_if_empty(self, queue_ids: Iterable[str]) -> None:
        for queue_id in list(queue_ids):
            queue = self.queues.get(queue_id)
            if queue is not None:
                overflow.if_unstaffed(self, queue)
