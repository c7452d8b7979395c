"""Who may take which call: membership, time of day, groups, skills, penalty tiers.

An agent may take a waiting call when all of these hold:
- the agent is a member of a queue the call reaches (its own queue, plus the
  extra queues of the widening steps it has passed), with a membership whose
  time-of-day window (if any) contains the current local time;
- new-customer group: a membership marked `new_customers` takes only first-time
  callers, and a first-time caller goes only to that group while one of its
  members is logged in;
- the agent's proficiency in every needed skill is at least the minimum, lowered
  by the widening steps passed (never below 1). The needed skills are the call's
  own (from the IVR) plus those of the queue the agent is reached through: the
  call's queue, or for an extra queue of a widening step, that queue's skills
  (its agents take the call as they would take their own queue's);
- the agent did not just miss an offer of this call (`retry_after` seconds).
Among free agents who may, only the lowest penalty tier is offered the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ticketline.acd.agents import Agent, AgentState
from ticketline.acd.config import Membership, QueueConfig
from ticketline.acd.estimates import HandleTimes
from ticketline.acd.strategies import Candidate, QueueMemory
from ticketline.acd.waiting import Line, QueuedCall


@dataclass(slots=True, eq=False)
class QueueState:
    """One queue as the router holds it: configuration, members, line, memory.

    `ready`, `logged_in` and `serving` follow the members' states (the dispatcher
    calls `count` on every change), so no decision walks every member.
    """

    config: QueueConfig
    members: dict[str, Membership] = field(default_factory=dict)
    line: Line = field(default_factory=Line)
    memory: QueueMemory = field(default_factory=QueueMemory)
    handle_times: HandleTimes = field(default_factory=HandleTimes)
    new_customer_members: int = 0
    ready: set[str] = field(default_factory=set)
    logged_in: int = 0
    serving: int = 0

    def set_member(self, member: Membership, agent: Agent) -> None:
        old = self.members.get(member.agent_id)
        if old is not None:
            self.drop_member(member.agent_id, agent)
        self.members[member.agent_id] = member
        if member.new_customers:
            self.new_customer_members += 1
        self.count(agent, None, agent.state)

    def drop_member(self, agent_id: str, agent: Agent) -> Membership | None:
        old = self.members.pop(agent_id, None)
        if old is not None:
            if old.new_customers:
                self.new_customer_members -= 1
            self.count(agent, agent.state, None)
        return old

    def count(self, agent: Agent, before: AgentState | None, after: AgentState | None) -> None:
        """Move a member's contribution from state `before` to `after` (None: not counted)."""
        if before is not None:
            self.logged_in -= before is not _OUT
            self.serving -= before in _SERVING
            if before is AgentState.READY:
                self.ready.discard(agent.agent_id)
        if after is not None:
            self.logged_in += after is not _OUT
            self.serving += after in _SERVING
            if after is AgentState.READY:
                self.ready.add(agent.agent_id)


@dataclass(slots=True)
class Moment:
    """The current time as matching needs it."""

    ts: float
    minute: int


def window_open(member: Membership, minute: int) -> bool:
    return member.window is None or member.window.contains_minute(minute)


def new_customer_group_on(queue: QueueState, agents: dict[str, Agent], minute: int) -> bool:
    """Whether the queue's new-customer group has a member logged in now."""
    if queue.new_customer_members == 0:
        return False
    for member in queue.members.values():
        if (
            member.new_customers
            and window_open(member, minute)
            and agents[member.agent_id].state is not AgentState.LOGGED_OUT
        ):
            return True
    return False


def has_skills(agent: Agent, call: QueuedCall, via: QueueState) -> bool:
    """Skills needed through `via`: the call's own queue's, or the extra queue's."""
    skills = agent.skills
    for need in call.needs_via(via.config):
        if skills.get(need.skill, 0) < max(1, need.min_level - call.drop):
            return False
    return True


def member_may_take(
    queue: QueueState,
    member: Membership,
    agent: Agent,
    call: QueuedCall,
    moment: Moment,
    agents: dict[str, Agent],
) -> bool:
    """Everything but the agent's state: may this member of `queue` take `call` now?"""
    if not window_open(member, moment.minute):
        return False
    first_time = call.request.first_time
    if member.new_customers and not first_time:
        return False
    if (
        first_time
        and not member.new_customers
        and new_customer_group_on(queue, agents, moment.minute)
    ):
        return False
    if call.tried and call.tried.get(agent.agent_id, 0.0) > moment.ts:
        return False
    return has_skills(agent, call, queue)


def free_candidates(
    call: QueuedCall,
    queues: dict[str, QueueState],
    agents: dict[str, Agent],
    moment: Moment,
) -> list[Candidate]:
    """READY agents who may take `call`, in the lowest penalty tier among them."""
    found: dict[str, Candidate] = {}
    for queue_id in call.reach:
        queue = queues.get(queue_id)
        if queue is None or not queue.ready:
            continue
        for agent_id in queue.ready:
            member = queue.members[agent_id]
            seen = found.get(agent_id)
            if seen is not None and seen.member.penalty <= member.penalty:
                continue
            agent = agents[agent_id]
            if member_may_take(queue, member, agent, call, moment, agents):
                found[agent_id] = Candidate(agent, member)
    if not found:
        return []
    best = min(c.member.penalty for c in found.values())
    return [c for c in found.values() if c.member.penalty == best]


def agent_may_take(
    agent: Agent,
    call: QueuedCall,
    queues: dict[str, QueueState],
    agents: dict[str, Agent],
    moment: Moment,
) -> Membership | None:
    """The membership through which `agent` may take `call` now, or None."""
    best: Membership | None = None
    for queue_id in call.reach:
        queue = queues.get(queue_id)
        if queue is None:
            continue
        member = queue.members.get(agent.agent_id)
        if member is None or (best is not None and best.penalty <= member.penalty):
            continue
        if member_may_take(queue, member, agent, call, moment, agents):
            best = member
    return best


_OUT = AgentState.LOGGED_OUT
_SERVING = frozenset({AgentState.READY, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP})
