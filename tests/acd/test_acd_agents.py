"""The agent state machine: legal moves, refused moves, misses, wrap-up, pending pause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ticketline.acd.agents import TRANSITIONS, Agent, AgentState, Trigger, apply
from ticketline.acd.queuelog import QueueEvent, agent_entry
from ticketline.core.errors import IllegalTransition

S, T = AgentState, Trigger
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def agent_in(state: AgentState) -> Agent:
    agent = Agent("a1", "1001")
    agent.state = state
    return agent


def test_a_full_call_cycle_emits_one_change_per_move() -> None:
    agent = Agent("a1", "1001")
    moves = [
        (T.LOGIN, S.READY),
        (T.OFFER, S.RINGING),
        (T.ANSWER, S.ON_CALL),
        (T.HANGUP, S.WRAP_UP),
        (T.WRAP_END, S.READY),
        (T.LOGOUT, S.LOGGED_OUT),
    ]
    for trigger, expected in moves:
        change = apply(agent, trigger, NOW, wrap_seconds=10)
        assert change is not None
        assert change.after is expected
        assert agent.state is expected


@pytest.mark.parametrize("state", list(AgentState))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_every_move_outside_the_table_is_refused(state: AgentState, trigger: Trigger) -> None:
    agent = agent_in(state)
    if (state, trigger) in TRANSITIONS:
        apply(agent, trigger, NOW, reason="lunch")
        return
    with pytest.raises(IllegalTransition):
        apply(agent, trigger, NOW)
    assert agent.state is state


def test_agent_cannot_log_out_on_a_call_or_take_an_offer_when_paused() -> None:
    with pytest.raises(IllegalTransition):
        apply(agent_in(S.ON_CALL), T.LOGOUT, NOW)
    with pytest.raises(IllegalTransition):
        apply(agent_in(S.NOT_READY), T.OFFER, NOW)


def test_third_miss_in_a_row_pauses_the_agent_and_an_answer_resets_the_count() -> None:
    agent = agent_in(S.READY)
    for _ in range(2):
        apply(agent, T.OFFER, NOW)
        apply(agent, T.MISS, NOW, max_missed=3)
        assert agent.state is S.READY
    apply(agent, T.OFFER, NOW)
    apply(agent, T.ANSWER, NOW)
    assert agent.missed_in_row == 0
    apply(agent, T.HANGUP, NOW)
    for _ in range(3):
        apply(agent, T.OFFER, NOW)
        change = apply(agent, T.MISS, NOW, max_missed=3, auto_pause_reason="missed_offers")
    assert agent.state is S.NOT_READY
    assert change is not None
    assert change.reason == "missed_offers"
    assert agent_entry(change).event is QueueEvent.AGENT_PAUSE


def test_pause_asked_on_a_call_starts_when_wrap_up_ends() -> None:
    agent = agent_in(S.ON_CALL)
    assert apply(agent, T.PAUSE, NOW, reason="meeting") is None
    assert agent.state is S.ON_CALL
    apply(agent, T.HANGUP, NOW, wrap_seconds=30)
    assert agent.state is S.WRAP_UP
    change = apply(agent, T.WRAP_END, NOW + timedelta(seconds=30))
    assert agent.state is S.NOT_READY
    assert change is not None
    assert change.reason == "meeting"


def test_zero_wrap_up_goes_straight_to_ready_and_restarts_idle_time() -> None:
    agent = agent_in(S.ON_CALL)
    later = NOW + timedelta(minutes=3)
    apply(agent, T.HANGUP, later, wrap_seconds=0)
    assert agent.state is S.READY
    assert agent.idle_since == later.timestamp()


def test_a_missed_offer_keeps_the_agents_idle_place() -> None:
    agent = agent_in(S.READY)
    agent.idle_since = 5.0
    apply(agent, T.OFFER, NOW)
    apply(agent, T.MISS, NOW)
    assert agent.idle_since == 5.0


def test_no_event_when_nothing_changes_but_a_new_reason_is_a_change() -> None:
    agent = agent_in(S.READY)
    assert apply(agent, T.READY, NOW) is None
    apply(agent, T.PAUSE, NOW, reason="lunch")
    assert apply(agent, T.PAUSE, NOW, reason="lunch") is None
    change = apply(agent, T.PAUSE, NOW, reason="training")
    assert change is not None
    assert (change.before, change.after) == (S.NOT_READY, S.NOT_READY)


def test_login_paused_and_unpause_are_logged_as_such() -> None:
    agent = Agent("a1", "1001")
    login = apply(agent, T.LOGIN, NOW, reason="not_yet")
    assert login is not None
    assert agent.state is S.NOT_READY
    assert agent_entry(login).event is QueueEvent.AGENT_LOGIN
    unpause = apply(agent, T.READY, NOW)
    assert unpause is not None
    assert agent_entry(unpause).event is QueueEvent.AGENT_UNPAUSE
