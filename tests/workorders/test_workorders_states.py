"""The work order state table: legal moves and their SLA effects; illegal ones refused."""

from __future__ import annotations

import pytest

from ticketline.core.errors import IllegalTransition
from ticketline.workorders.states import TABLE, Action, Effect, State, transition


def test_the_happy_path() -> None:
    state = State.NEW
    for action, expected in [
        (Action.ASSIGN, State.ASSIGNED),
        (Action.START, State.IN_PROGRESS),
        (Action.WAIT, State.WAITING_CUSTOMER),
        (Action.RESUME, State.IN_PROGRESS),
        (Action.RESOLVE, State.RESOLVED),
        (Action.CLOSE, State.CLOSED),
        (Action.REOPEN, State.REOPENED),
    ]:
        step = transition(state, action)
        assert step.after == expected
        state = step.after


def test_waiting_pauses_and_resuming_restarts_the_clock() -> None:
    assert transition("in_progress", "wait").effects == (Effect.PAUSE_SLA,)
    assert Effect.RESUME_SLA in transition("waiting_customer", "resolve").effects
    assert Effect.RESUME_SLA in transition("waiting_customer", "transfer").effects


@pytest.mark.parametrize(
    ("state", "action"),
    [("new", "resolve"), ("closed", "close"), ("resolved", "start"), ("new", "wait"),
     ("closed", "transfer"), ("bogus", "start"), ("new", "fly")],
)  # fmt: skip
def test_illegal_moves_say_what_is_allowed(state: str, action: str) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, action)


def test_closed_work_orders_only_reopen() -> None:
    assert {a for (s, a) in TABLE if s == State.CLOSED} == {Action.REOPEN}
