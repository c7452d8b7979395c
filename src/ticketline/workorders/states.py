"""The work order state machine: one table, every move returns the next state and
what to do about the SLA clock. An illegal move raises `IllegalTransition`.

    new --assign--> assigned --start--> in_progress --wait--> waiting_customer
    in_progress/assigned/waiting_customer --resolve--> resolved --close--> closed
    resolved/closed --reopen--> reopened --assign/start--> ...
    any open state --transfer--> new (in another department's queue)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ticketline.core.errors import IllegalTransition


class State(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    ASSIGN = "assign"
    START = "start"
    WAIT = "wait"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    TRANSFER = "transfer"


class Effect(StrEnum):
    """What the service does besides changing the state."""

    PAUSE_SLA = "pause_sla"
    RESUME_SLA = "resume_sla"
    STAMP_RESOLVED = "stamp_resolved"
    STAMP_CLOSED = "stamp_closed"
    COUNT_REOPEN = "count_reopen"
    CLEAR_ASSIGNEE = "clear_assignee"


OPEN_STATES = frozenset(
    {State.NEW, State.ASSIGNED, State.IN_PROGRESS, State.WAITING_CUSTOMER, State.REOPENED}
)
S, A, E = State, Action, Effect

TABLE: dict[tuple[State, Action], tuple[State, tuple[Effect, ...]]] = {
    (S.NEW, A.ASSIGN): (S.ASSIGNED, ()),
    (S.ASSIGNED, A.ASSIGN): (S.ASSIGNED, ()),
    (S.IN_PROGRESS, A.ASSIGN): (S.ASSIGNED, ()),
    (S.REOPENED, A.ASSIGN): (S.ASSIGNED, ()),
    (S.ASSIGNED, A.START): (S.IN_PROGRESS, ()),
    (S.REOPENED, A.START): (S.IN_PROGRESS, ()),
    (S.IN_PROGRESS, A.WAIT): (S.WAITING_CUSTOMER, (E.PAUSE_SLA,)),
    (S.WAITING_CUSTOMER, A.RESUME): (S.IN_PROGRESS, (E.RESUME_SLA,)),
    (S.ASSIGNED, A.RESOLVE): (S.RESOLVED, (E.STAMP_RESOLVED,)),
    (S.IN_PROGRESS, A.RESOLVE): (S.RESOLVED, (E.STAMP_RESOLVED,)),
    (S.WAITING_CUSTOMER, A.RESOLVE): (S.RESOLVED, (E.RESUME_SLA, E.STAMP_RESOLVED)),
    (S.RESOLVED, A.CLOSE): (S.CLOSED, (E.STAMP_CLOSED,)),
    (S.RESOLVED, A.REOPEN): (S.REOPENED, (E.COUNT_REOPEN,)),
    (S.CLOSED, A.REOPEN): (S.REOPENED, (E.COUNT_REOPEN,)),
    (S.NEW, A.TRANSFER): (S.NEW, (E.CLEAR_ASSIGNEE,)),
    (S.ASSIGNED, A.TRANSFER): (S.NEW, (E.CLEAR_ASSIGNEE,)),
    (S.IN_PROGRESS, A.TRANSFER): (S.NEW, (E.CLEAR_ASSIGNEE,)),
    (S.REOPENED, A.TRANSFER): (S.NEW, (E.CLEAR_ASSIGNEE,)),
    (S.WAITING_CUSTOMER, A.TRANSFER): (S.NEW, (E.RESUME_SLA, E.CLEAR_ASSIGNEE)),
}


@dataclass(frozen=True)
class Step:
    before: State
    after: State
    effects: tuple[Effect, ...]

    @property
    def changes_state(self) -> bool:
        return self.before != self.after


def transition(state: str, action: str) -> Step:
    """The move `action` makes from `state`, or `IllegalTransition` naming both."""
    try:
        current, wanted = State(state), Action(action)
    except ValueError as exc:
        raise IllegalTransition(f"unknown state or action: {state!r}, {action!r}") from exc
    found = TABLE.get((current, wanted))
    if found is None:
        allowed = sorted(a.value for (s, a) in TABLE if s == current)
        raise IllegalTransition(
            f"cannot {wanted.value} a work order that is {current.value}",
            details={"state": current.value, "action": wanted.value, "allowed": allowed},
        )
    return Step(current, found[0], found[1])
