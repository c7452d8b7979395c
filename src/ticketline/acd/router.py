"""The routing core: pure logic, no I/O, time passed in.

Every public method takes `now`, updates the state, and returns the outputs of
that step in order: commands for the telephony (actions.py), queue log entries
and agent state changes. Due timers run first, so a late `tick` never changes a
decision. The steps themselves live in dispatch.py, matching.py, overflow.py and
timed.py; pickup order is defined in waiting.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ticketline.acd import overflow
from ticketline.acd.actions import Output
from ticketline.acd.agents import TRANSITIONS, Agent, AgentState, Trigger
from ticketline.acd.config import AgentProfile, Membership, QueueConfig
from ticketline.acd.dispatch import DEFAULT_ZONE, Dispatcher
from ticketline.acd.errors import NotRinging, QueueInUse
from ticketline.acd.matching import QueueState
from ticketline.acd.queuelog import QueueEvent
from ticketline.acd.waiting import CallRequest, Phase, QueuedCall
from ticketline.core.errors import Conflict, IllegalTransition

__all__ = ["DEFAULT_ZONE", "Router"]


class Router(Dispatcher):
    """The ACD's routing decisions, one public method per thing that happens."""

    # -- configuration -------------------------------------------------------------

    def set_queue(self, config: QueueConfig) -> None:
        """Add a queue or replace its configuration; members and waiting calls stay."""
        state = self.queues.get(config.id)
        if state is None:
            self.queues[config.id] = QueueState(config)
        else:
            state.config = config
        self._index_borrowers()

    def remove_queue(self, queue_id: str) -> None:
        state = self._queue(queue_id)
        if len(state.line):
            raise QueueInUse(f"queue {queue_id} still has calls waiting")
        for agent_id in list(state.members):
            self.agent_queues[agent_id].discard(queue_id)
        del self.queues[queue_id]
        self._index_borrowers()

    def set_agent(self, profile: AgentProfile) -> None:
        """Add an agent or update their extension and skills."""
        agent = self.agents.get(profile.agent_id)
        if agent is None:
            self.agents[profile.agent_id] = Agent(
                profile.agent_id, profile.extension, dict(profile.skills), profile.name
            )
            self.agent_queues[profile.agent_id] = set()
            return
        agent.extension, agent.skills, agent.name = (
            profile.extension,
            dict(profile.skills),
            profile.name,
        )

    def set_membership(self, member: Membership, now: datetime) -> list[Output]:
        """Put an agent in a queue (or change their membership), live."""
        self._begin(now)
        queue = self._queue(member.queue_id)
        agent = self._agent(member.agent_id)
        queue.set_member(member, agent)
        self.agent_queues[agent.agent_id].add(member.queue_id)
        if agent.state is AgentState.READY:
            self._freed.append(agent)
        return self._finish()

    def remove_membership(self, queue_id: str, agent_id: str, now: datetime) -> list[Output]:
        self._begin(now)
        self._queue(queue_id).drop_member(agent_id, self._agent(agent_id))
        self.agent_queues.get(agent_id, set()).discard(queue_id)
        self._leave_if_empty([queue_id])
        return self._finish()

    # -- agents --------------------------------------------------------------------

    def login(self, agent_id: str, now: datetime, paused_reason: str | None = None) -> list[Output]:
        """Log in, ready to take calls (or paused with a reason)."""
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.LOGIN, reason=paused_reason)
        return self._finish()

    def logout(self, agent_id: str, now: datetime) -> list[Output]:
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.LOGOUT)
        self._leave_if_empty(self.agent_queues.get(agent_id, ()))
        return self._finish()

    def ready(self, agent_id: str, now: datetime) -> list[Output]:
        """Ready again: after a pause, or ending wrap-up early."""
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.READY)
        return self._finish()

    def pause(self, agent_id: str, reason: str, now: datetime) -> list[Output]:
        """Not ready with a reason; on a call, the pause starts when the call ends."""
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.PAUSE, reason=reason)
        return self._finish()

    def start_outbound(self, agent_id: str, now: datetime) -> list[Output]:
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.DIAL)
        return self._finish()

    def end_outbound(self, agent_id: str, now: datetime, wrap_up: int = 0) -> list[Output]:
        self._begin(now)
        self._change(self._agent(agent_id), Trigger.HANGUP, wrap_seconds=wrap_up)
        return self._finish()

    # -- calls ---------------------------------------------------------------------

    def enqueue(self, request: CallRequest, now: datetime) -> list[Output]:
        """A caller enters a queue; they are offered at once if an agent is free."""
        self._begin(now)
        if request.call_id in self.calls:
            raise Conflict(f"call {request.call_id} is already in the ACD")
        queue = self._queue(request.queue_id)
        self._seq += 1
        ts = self._moment.ts
        call = QueuedCall(
            request, queue.config.id, ts, ts, ts, self._seq, (), frozenset({queue.config.id})
        )
        self.calls[request.call_id] = call
        self._admit(call, queue)
        return self._finish()

    def answered(self, call_id: str, agent_id: str, now: datetime) -> list[Output]:
        """The agent picked up the offer. Raises NotRinging if the offer is gone."""
        self._set_now(now)
        call = self.calls.get(call_id)
        if call is None or call.phase is not Phase.RINGING or agent_id not in call.ringing:
            raise NotRinging(f"call {call_id} is not ringing at {agent_id}")
        del call.ringing[agent_id]
        self._stop_offer(call)
        agent = self.agents[agent_id]
        self._change(agent, Trigger.ANSWER)
        self._connect(call, agent, pickup=False)
        self._run_timers()
        return self._finish()

    def answered_by_channel(self, call_id: str, extension: str, now: datetime) -> list[Output]:
        """An always-ring channel answered: the call leaves the ACD with no agent."""
        self._set_now(now)
        call = self._call(call_id)
        if call.phase is not Phase.RINGING or extension not in call.also_ringing:
            raise NotRinging(f"call {call_id} is not ringing at {extension}")
        call.also_ringing = tuple(e for e in call.also_ringing if e != extension)
        self._stop_offer(call)
        self._connect(call, None, pickup=False, channel=extension)
        self.calls.pop(call_id, None)
        self._run_timers()
        return self._finish()

    def no_answer(self, call_id: str, agent_id: str, now: datetime) -> list[Output]:
        """The agent's phone declined, was busy or unreachable: try the next agent."""
        self._begin(now)
        call = self.calls.get(call_id)
        if call is not None and agent_id in call.ringing:
            self._offer_failed(call, agent_id, stop=False)
        return self._finish()

    def abandon(self, call_id: str, now: datetime) -> list[Output]:
        """The caller hung up before an agent answered (callbacks keep their place)."""
        self._begin(now)
        call = self.calls.get(call_id)
        if call is None or call.callback_number is not None:
            return self._finish()
        if call.phase is Phase.CONNECTED:
            return self._complete(call, QueueEvent.COMPLETE, {"hung_up_by": "caller"})
        queue = self.queues[call.queue_id]
        position = queue.line.position(call)
        self._stop_offer(call)
        queue.line.remove(call)
        del self.calls[call_id]
        self._log(QueueEvent.ABANDON, call, position=position, wait=self._waited(call))
        return self._finish()

    def complete(self, call_id: str, hung_up_by: str, now: datetime) -> list[Output]:
        """A connected call ended; the agent goes to wrap-up."""
        self._begin(now)
        return self._complete(
            self._connected(call_id), QueueEvent.COMPLETE, {"hung_up_by": hung_up_by}
        )

    def transfer(self, call_id: str, target: str, now: datetime) -> list[Output]:
        """The agent transferred the call away; the agent goes to wrap-up."""
        self._begin(now)
        return self._complete(self._connected(call_id), QueueEvent.TRANSFER, {"target": target})

    def pickup(self, agent_id: str, call_id: str, now: datetime) -> list[Output]:
        """An agent takes a call waiting in a queue or ringing at another agent."""
        self._begin(now)
        call = self._call(call_id)
        if call.phase is Phase.CONNECTED:
            raise Conflict(f"call {call_id} is already connected")
        agent = self.check_may_pick_up(agent_id)  # refuse before touching the offer
        self._stop_offer(call)
        self._change(agent, Trigger.PICKUP)
        self._connect(call, agent, pickup=True)
        return self._finish()

    def check_may_pick_up(self, agent_id: str) -> Agent:
        """The agent, if they may take a call now (ready, paused or wrapping up)."""
        agent = self._agent(agent_id)
        if (agent.state, Trigger.PICKUP) not in TRANSITIONS:
            raise IllegalTransition(
                f"{agent_id} cannot take a call while {agent.state.value}",
                details={"agent": agent_id, "state": agent.state.value},
            )
        return agent

    def request_callback(self, call_id: str, number: str, now: datetime) -> list[Output]:
        """The caller asks to be called back; they keep their place in line."""
        self._begin(now)
        call = self._call(call_id)
        if call.phase is Phase.CONNECTED:
            raise Conflict(f"call {call_id} is already connected")
        overflow.to_callback(self, call, number)
        return self._finish()

    def leave_with_key(self, call_id: str, key: str, now: datetime) -> list[Output]:
        """A waiting caller pressed the queue's message key: they leave the line."""
        self._begin(now)
        call = self._call(call_id)
        if call.phase is Phase.CONNECTED or call.callback_number is not None:
            raise Conflict(f"call {call_id} is no longer waiting")
        queue = self.queues[call.queue_id]
        position = queue.line.position(call)
        self._stop_offer(call)
        queue.line.remove(call)
        del self.calls[call_id]
        wait = self._waited(call)
        self._log(QueueEvent.EXIT_WITH_KEY, call, position=position, wait=wait, data={"key": key})
        return self._finish()

    def callback_done(self, call_id: str, reached: bool, now: datetime) -> list[Output]:
        """The customer of a callback was dialled: reached or not."""
        self._begin(now)
        call = self._connected(call_id)
        self._log(QueueEvent.CALLBACK_DONE, call, agent=call.agent_id, data={"reached": reached})
        return self._finish()

    def tick(self, now: datetime) -> list[Output]:
        """Run the timers that fell due."""
        self._begin(now)
        return self._finish()

    def next_deadline(self) -> datetime | None:
        """When `tick` next has something to do."""
        due = self.timers.next_due()
        return None if due is None else datetime.fromtimestamp(due, UTC)
