"""The one agent state machine.

Invariants: an agent is in exactly one state; every move goes through `apply`,
which looks the move up in TRANSITIONS (an unknown move raises
IllegalTransition) and returns the change, or None when nothing changed, so an
event is emitted only for a real change. Only READY agents are offered calls.

    LOGGED_OUT --login--> READY | NOT_READY
    READY --offer--> RINGING --answer--> ON_CALL --hangup--> WRAP_UP --wrap_end--> READY
    RINGING --miss--> READY (NOT_READY after N misses in a row) ; --cancel--> READY
    READY/NOT_READY/WRAP_UP --dial--> OUTBOUND --hangup--> WRAP_UP
    READY/NOT_READY/WRAP_UP --pickup--> ON_CALL
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from ticketline.core.errors import IllegalTransition


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    OUTBOUND = "outbound"


class Trigger(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    READY = "ready"
    PAUSE = "pause"
    OFFER = "offer"
    ANSWER = "answer"
    MISS = "miss"
    CANCEL = "cancel"
    HANGUP = "hangup"
    WRAP_END = "wrap_end"
    DIAL = "dial"
    PICKUP = "pickup"


S = AgentState
T = Trigger

# (state, trigger) -> next state. `apply` refines three targets: LOGIN may start
# NOT_READY, MISS pauses after too many misses, HANGUP skips a zero wrap-up.
TRANSITIONS: dict[tuple[AgentState, Trigger], AgentState] = {
    (S.LOGGED_OUT, T.LOGIN): S.READY,
    (S.READY, T.LOGOUT): S.LOGGED_OUT,
    (S.NOT_READY, T.LOGOUT): S.LOGGED_OUT,
    (S.WRAP_UP, T.LOGOUT): S.LOGGED_OUT,
    (S.NOT_READY, T.READY): S.READY,
    (S.WRAP_UP, T.READY): S.READY,
    (S.READY, T.READY): S.READY,
    (S.READY, T.PAUSE): S.NOT_READY,
    (S.NOT_READY, T.PAUSE): S.NOT_READY,
    (S.WRAP_UP, T.PAUSE): S.NOT_READY,
    (S.ON_CALL, T.PAUSE): S.ON_CALL,  # pause after this call
    (S.OUTBOUND, T.PAUSE): S.OUTBOUND,
    (S.READY, T.OFFER): S.RINGING,
    (S.RINGING, T.ANSWER): S.ON_CALL,
    (S.RINGING, T.MISS): S.READY,
    (S.RINGING, T.CANCEL): S.READY,
    (S.ON_CALL, T.HANGUP): S.WRAP_UP,
    (S.OUTBOUND, T.HANGUP): S.WRAP_UP,
    (S.WRAP_UP, T.WRAP_END): S.READY,
    (S.READY, T.DIAL): S.OUTBOUND,
    (S.NOT_READY, T.DIAL): S.OUTBOUND,
    (S.WRAP_UP, T.DIAL): S.OUTBOUND,
    (S.READY, T.PICKUP): S.ON_CALL,
    (S.NOT_READY, T.PICKUP): S.ON_CALL,
    (S.WRAP_UP, T.PICKUP): S.ON_CALL,
}

SERVING = frozenset({S.READY, S.RINGING, S.ON_CALL, S.WRAP_UP})


@dataclass(frozen=True)
class AgentStateChanged:
    """An agent's state (or not-ready reason) changed. Payload: before/after, reason, when."""

    agent_id: str
    before: AgentState
    after: AgentState
    reason: str | None
    trigger: Trigger
    at: datetime


@dataclass(slots=True, eq=False)
class Agent:
    """The ACD's live record of one agent; only `apply` changes `state`."""

    agent_id: str
    extension: str
    skills: dict[str, int] = field(default_factory=dict)
    name: str = ""
    state: AgentState = S.LOGGED_OUT
    reason: str | None = None
    since: float = 0.0
    idle_since: float = 0.0
    missed_in_row: int = 0
    pending_pause: str | None = None
    wrap_until: float | None = None
    call_id: str | None = None
    day: date | None = None
    calls_today: int = 0
    talk_today: float = 0.0
    version: int = 0

    def counts_for(self, today: date) -> tuple[int, float]:
        """Calls and talk seconds today; yesterday's figures count as zero."""
        if self.day != today:
            return 0, 0.0
        return self.calls_today, self.talk_today


def apply(
    agent: Agent,
    trigger: Trigger,
    now: datetime,
    *,
    reason: str | None = None,
    wrap_seconds: float = 0,
    max_missed: int = 3,
    auto_pause_reason: str = "missed_offers",
) -> AgentStateChanged | None:
    """Move `agent` by `trigger`; return the change, or None if nothing changed."""
    target = TRANSITIONS.get((agent.state, trigger))
    if target is None:
        raise IllegalTransition(
            f"agent {agent.agent_id}: cannot {trigger.value} while {agent.state.value}",
            details={"agent": agent.agent_id, "state": agent.state.value},
        )
    ts = now.timestamp()
    new_reason = None
    if trigger is T.LOGIN and reason is not None:
        target, new_reason = S.NOT_READY, reason
    elif trigger is T.PAUSE:
        if target in (S.ON_CALL, S.OUTBOUND):
            agent.pending_pause = reason or "break"
            return None
        new_reason = reason or "break"
    elif trigger is T.MISS:
        agent.missed_in_row += 1
        if agent.missed_in_row >= max_missed:
            target, new_reason = S.NOT_READY, auto_pause_reason
    elif trigger in (T.ANSWER, T.PICKUP):
        agent.missed_in_row = 0
    elif trigger is T.HANGUP:
        target, new_reason, ts = _after_call(agent, target, wrap_seconds, ts)
    elif trigger is T.WRAP_END and agent.pending_pause is not None:
        target, new_reason = S.NOT_READY, agent.pending_pause
    if target is S.READY and trigger is T.READY:
        agent.missed_in_row = 0
    return _move(agent, target, new_reason, trigger, now)


def _after_call(
    agent: Agent, target: AgentState, wrap_seconds: float, ts: float
) -> tuple[AgentState, str | None, float]:
    if wrap_seconds > 0:
        agent.wrap_until = ts + wrap_seconds
        return target, None, ts
    agent.wrap_until = None
    if agent.pending_pause is not None:
        return S.NOT_READY, agent.pending_pause, ts
    return S.READY, None, ts


def _move(
    agent: Agent, target: AgentState, reason: str | None, trigger: Trigger, now: datetime
) -> AgentStateChanged | None:
    before, before_reason = agent.state, agent.reason
    if target is before and reason == before_reason:
        return None
    ts = now.timestamp()
    agent.state, agent.reason, agent.since = target, reason, ts
    agent.version += 1
    if target is not S.WRAP_UP:
        agent.wrap_until = None
    if target is S.NOT_READY or target is S.READY:
        agent.pending_pause = None
    if target is S.READY and before is not S.RINGING:
        agent.idle_since = ts  # a missed or cancelled offer keeps the agent's place
    if target is S.LOGGED_OUT:
        agent.call_id = None
    return AgentStateChanged(agent.agent_id, before, target, reason, trigger, now)
