"""The routing core, call by call, with a fixed clock."""

from __future__ import annotations

from datetime import time

import pytest

from tests.acd.helpers import Desk
from ticketline.acd.actions import Announce, RingAgents, SendOverflow, StopRinging
from ticketline.acd.agents import AgentState
from ticketline.acd.config import (
    DailyWindow,
    Membership,
    OverflowKind,
    OverflowRule,
    QueueConfig,
    RouterSettings,
    SkillNeed,
    Strategy,
    WideningStep,
)
from ticketline.acd.errors import NotRinging
from ticketline.acd.queuelog import QueueEvent
from ticketline.core.errors import IllegalTransition

S = AgentState


def simple_desk(strategy: Strategy = Strategy.LONGEST_IDLE, n: int = 3, **kw: object) -> Desk:
    desk = Desk()
    for i in range(1, n + 1):
        desk.at(i)  # a1 has been idle longest
        desk.agent(f"a{i}")
    desk.queue(
        QueueConfig("booking", strategy=strategy, **kw),  # type: ignore[arg-type]
        {f"a{i}": 0 for i in range(1, n + 1)},
    )
    return desk


def test_a_call_rings_the_longest_idle_agent_and_connects_on_answer() -> None:
    desk = simple_desk()
    desk.at(10)
    out = desk.call("c1", "booking", caller="+8613800000001")
    assert desk.rung(out) == [("c1", ("a1",))]
    assert desk.state("a1") is S.RINGING
    desk.at(14)
    desk.answer("c1", "a1")
    assert desk.state("a1") is S.ON_CALL
    connect = desk.log(QueueEvent.CONNECT)[0]
    assert (connect.agent_id, connect.wait) == ("a1", 4.0)


def test_unanswered_offer_goes_to_the_next_agent_and_three_misses_pause() -> None:
    desk = simple_desk(n=2, ring_timeout=15, retry_after=5)
    desk.at(10)
    desk.call("c1", "booking")
    out = desk.tick(25)
    assert StopRinging("c1", "a1", "1001") in out
    assert desk.rung(out) == [("c1", ("a2",))]
    assert [e.agent_id for e in desk.log(QueueEvent.NO_ANSWER)] == ["a1"]
    assert desk.state("a1") is S.READY
    # a2 misses too; a1 may be offered again once its retry pause is over
    desk.tick(40)
    assert desk.rung()[-1] == ("c1", ("a1",))
    desk.tick(55)
    desk.tick(70)
    assert desk.router.agents["a1"].missed_in_row == 2
    desk.tick(85)
    assert desk.state("a1") is S.NOT_READY
    assert desk.router.agents["a1"].reason == "missed_offers"
    assert any(e.event is QueueEvent.AGENT_PAUSE for e in desk.log())


def test_a_rejected_offer_moves_on_at_once() -> None:
    desk = simple_desk(n=2)
    desk.call("c1", "booking")
    out = desk.step(desk.router.no_answer("c1", "a1", desk.at(5)))
    assert desk.rung(out) == [("c1", ("a2",))]


def test_an_answer_after_the_offer_was_withdrawn_is_refused() -> None:
    desk = simple_desk(n=2, ring_timeout=10)
    desk.call("c1", "booking")
    desk.tick(13)  # offered at 3 s, for 10 s
    with pytest.raises(NotRinging):
        desk.answer("c1", "a1")


def test_wrap_up_ends_by_timer_or_by_the_agent() -> None:
    desk = simple_desk(n=1, wrap_up=30)
    desk.call("c1", "booking")
    desk.answer("c1", "a1")
    desk.at(100)
    desk.hangup("c1", by="agent")
    assert desk.state("a1") is S.WRAP_UP
    complete = desk.log(QueueEvent.COMPLETE)[0]
    assert complete.talk == 100 - 1
    assert complete.data["hung_up_by"] == "agent"
    desk.call("c2", "booking")
    assert desk.rung()[-1] != ("c2", ("a1",))
    out = desk.tick(130)
    assert desk.rung(out) == [("c2", ("a1",))]  # wrap-up over: the waiting call rings
    desk.answer("c2", "a1")
    desk.hangup("c2")
    desk.step(desk.router.ready("a1", desk.at(135)))
    assert desk.state("a1") is S.READY


def test_pickup_order_priority_worth_credit_seconds() -> None:
    desk = simple_desk(n=1, priority_credit=60)
    desk.router.pause("a1", "lunch", desk.now)
    desk.at(0)
    desk.call("old", "booking", priority=0)
    desk.at(100)
    desk.call("vip_late", "booking", priority=1)  # 100 s later > 1 * 60 s credit
    desk.at(110)
    desk.call("vip2", "booking", priority=2)  # 110 s later < 2 * 60 s credit
    desk.at(140)
    desk.call("new", "booking", priority=0)
    assert [c.call_id for c in desk.router.queues["booking"].line] == [
        "vip2",
        "old",
        "vip_late",
        "new",
    ]
    assert desk.router.position("new") == 4
    order = []
    for i in range(4):
        out = desk.step(desk.router.ready("a1", desk.at(200 + i * 10)))
        ((call_id, _),) = desk.rung(out)
        order.append(call_id)
        desk.answer(call_id, "a1")
        desk.hangup(call_id)
        desk.step(desk.router.pause("a1", "x", desk.now))
    assert order == ["vip2", "old", "vip_late", "new"]


def test_widening_lowers_proficiency_then_adds_a_second_queue_keeping_place() -> None:
    desk = Desk()
    desk.agent("expert", {"refund": 5})
    desk.agent("junior", {"refund": 2})
    desk.agent("helper", {"booking": 5})
    desk.queue(QueueConfig("booking"), {"helper": 0})
    desk.queue(
        QueueConfig(
            "refund",
            skills=(SkillNeed("refund", 4),),
            steps=(
                WideningStep(30, lower_levels=2),
                WideningStep(60, extra_queues=("booking",)),
            ),
        ),
        {"expert": 0, "junior": 0},
    )
    desk.step(desk.router.start_outbound("expert", desk.now))
    desk.step(desk.router.pause("junior", "training", desk.now))
    desk.call("c1", "refund")
    desk.call("c2", "refund")
    desk.step(desk.router.ready("junior", desk.at(10)))
    assert desk.rung() == []  # level 2 < 4
    out = desk.tick(30)
    assert desk.rung(out) == [("c1", ("junior",))]  # 4 - 2 = 2 is now enough, c1 first
    desk.answer("c1", "junior")
    out = desk.tick(60)
    assert desk.rung(out) == [("c2", ("helper",))]  # booking's agents join after 60 s
    assert desk.router.calls["c1"].entry_position == 1


def test_day_and_night_groups_follow_local_time() -> None:
    desk = Desk()
    desk.agent("day")
    desk.agent("night")
    desk.queue(QueueConfig("booking", strategy=Strategy.LINEAR))
    desk.member(Membership("booking", "day", window=DailyWindow(time(8), time(21))))
    desk.member(Membership("booking", "night", window=DailyWindow(time(21), time(8))))
    desk.at(0)  # 10:00 Shanghai
    assert desk.rung(desk.call("c1", "booking")) == [("c1", ("day",))]
    desk.answer("c1", "day")
    desk.at(12 * 3600)  # 22:00 Shanghai
    assert desk.rung(desk.call("c2", "booking")) == [("c2", ("night",))]


def test_first_time_callers_go_to_the_new_customer_group() -> None:
    desk = Desk()
    desk.agent("regular")
    desk.agent("welcome")
    desk.queue(QueueConfig("booking"))
    desk.member(Membership("booking", "regular"))
    desk.member(Membership("booking", "welcome", new_customers=True))
    assert desk.rung(desk.call("known", "booking")) == [("known", ("regular",))]
    assert desk.rung(desk.call("first", "booking", first_time=True)) == [("first", ("welcome",))]
    desk.answer("known", "regular")
    desk.answer("first", "welcome")
    desk.hangup("first")
    desk.step(desk.router.logout("welcome", desk.at(5)))
    desk.hangup("known")
    out = desk.call("first2", "booking", first_time=True)
    assert desk.rung(out) == []  # regular is in wrap-up (10 s)
    # the new-customer group logged out: first-timers go to the regular members
    assert desk.rung(desk.tick(15)) == [("first2", ("regular",))]


def test_the_always_ring_channel_rings_with_every_offer() -> None:
    desk = simple_desk(n=1, always_ring=("8000",))
    out = desk.call("c1", "booking")
    ring = next(o for o in out if isinstance(o, RingAgents))
    assert ring.also_ring == ("8000",)
    desk.step(desk.router.answered_by_channel("c1", "8000", desk.at(3)))
    assert desk.state("a1") is S.READY
    assert desk.log(QueueEvent.CONNECT)[0].data["channel"] == "8000"


def test_ring_all_rings_every_free_agent_and_the_answer_stops_the_others() -> None:
    desk = simple_desk(Strategy.RING_ALL, n=3)
    out = desk.call("c1", "booking")
    assert desk.rung(out) == [("c1", ("a1", "a2", "a3"))]
    out = desk.answer("c1", "a2")
    assert {o.agent_id for o in out if isinstance(o, StopRinging)} == {"a1", "a3"}
    assert (desk.state("a1"), desk.state("a2")) == (S.READY, S.ON_CALL)


def test_ring_progressive_adds_one_agent_every_step() -> None:
    desk = simple_desk(Strategy.RING_PROGRESSIVE, n=3, ring_step=5, ring_timeout=30)
    assert desk.rung(desk.call("c1", "booking")) == [("c1", ("a1",))]
    assert desk.rung(desk.tick(8)) == [("c1", ("a2",))]  # offered at 3 s
    assert desk.rung(desk.tick(13)) == [("c1", ("a3",))]
    assert desk.ringing("c1") == ["a1", "a2", "a3"]


def test_penalty_tiers_try_lower_penalty_first() -> None:
    desk = Desk()
    desk.agent("backup")
    desk.agent("main")
    desk.queue(QueueConfig("booking"), {"backup": 5, "main": 0})
    assert desk.rung(desk.call("c1", "booking")) == [("c1", ("main",))]
    assert desk.rung(desk.call("c2", "booking")) == [("c2", ("backup",))]


def test_last_agent_within_the_window() -> None:
    desk = simple_desk(Strategy.LAST_AGENT, n=2, last_agent_window=3600)
    desk.call("c1", "booking", caller="+8613800000009")
    desk.answer("c1", "a1")
    desk.hangup("c1")
    desk.at(600)
    desk.step(desk.router.ready("a1", desk.now))
    assert desk.rung(desk.call("c2", "booking", caller="+8613800000009"))[0][1] == ("a1",)
    desk.step(desk.router.no_answer("c2", "a1", desk.now))
    desk.at(5000)
    desk.answer("c2", "a2")
    desk.hangup("c2")
    desk.at(5000 + 3601)
    out = desk.call("c3", "booking", caller="+8613800000009")
    assert desk.rung(out)[0][1] == ("a1",)  # a2 served last, but too long ago: longest idle


def test_abandon_is_logged_with_position_and_wait() -> None:
    desk = simple_desk(n=1)
    desk.call("c1", "booking")
    desk.call("c2", "booking")
    desk.call("c3", "booking")
    desk.step(desk.router.abandon("c3", desk.at(42)))
    entry = desk.log(QueueEvent.ABANDON)[0]
    # c1 still ringing at a1 counts: it is ahead in line until answered
    assert (entry.call_id, entry.position, entry.wait) == ("c3", 3, 41.0)
    assert "c3" not in desk.router.calls


def test_max_wait_overflows_to_another_queue_keeping_the_entry_time() -> None:
    desk = Desk()
    desk.agent("b1")
    desk.agent("r1")
    desk.queue(QueueConfig("refund"), {"r1": 0})
    desk.queue(
        QueueConfig(
            "booking",
            max_wait=60,
            overflow=OverflowRule(OverflowKind.QUEUE, "refund"),
        ),
        {"b1": 0},
    )
    desk.step(desk.router.pause("b1", "x", desk.now))
    desk.step(desk.router.pause("r1", "x", desk.now))
    desk.call("c1", "booking")
    desk.at(30)
    desk.call("c2", "refund")
    out = desk.tick(60)
    assert [e.event for e in desk.log()][-3:] == [
        QueueEvent.TIMEOUT,
        QueueEvent.OVERFLOW,
        QueueEvent.ENTER,
    ]
    assert not [o for o in out if isinstance(o, SendOverflow)]
    assert [c.call_id for c in desk.router.queues["refund"].line] == ["c1", "c2"]


def test_max_length_and_empty_queue_overflow_to_voicemail() -> None:
    desk = simple_desk(n=1, max_length=2)
    desk.call("c1", "booking")  # rings a1 (ringing calls count: they are still in line)
    desk.call("c2", "booking")
    out = desk.call("c3", "booking")
    assert SendOverflow("c3", "booking", OverflowKind.VOICEMAIL, _reason("max_length")) in out
    desk.answer("c1", "a1")
    desk.hangup("c1")
    desk.step(desk.router.logout("a1", desk.at(5)))  # from wrap-up: the queue is empty
    reasons = [e.data["reason"] for e in desk.log(QueueEvent.OVERFLOW)]
    assert reasons == ["max_length", "no_agents"]
    assert desk.router.calls == {}


def _reason(value: str):  # type: ignore[no-untyped-def]
    from ticketline.acd.config import OverflowReason

    return OverflowReason(value)


def test_callback_keeps_the_place_and_rings_the_agent_with_the_number() -> None:
    desk = simple_desk(n=1)
    desk.step(desk.router.pause("a1", "x", desk.now))
    desk.call("c1", "booking", caller="+8613800000001")
    desk.call("c2", "booking", caller="+8613800000002")
    desk.step(desk.router.request_callback("c1", "+8613800000001", desk.at(20)))
    desk.step(desk.router.abandon("c1", desk.at(21)))  # the caller's leg ends: not abandoned
    assert desk.log(QueueEvent.ABANDON) == []
    out = desk.step(desk.router.ready("a1", desk.at(300)))
    ring = next(o for o in out if isinstance(o, RingAgents))
    assert (ring.call_id, ring.callback_number) == ("c1", "+8613800000001")
    desk.answer("c1", "a1")
    desk.step(desk.router.callback_done("c1", True, desk.now))
    assert desk.log(QueueEvent.CALLBACK_DONE)[0].data == {"reached": True}


def test_pickup_takes_a_call_ringing_at_another_agent() -> None:
    desk = simple_desk(n=2)
    desk.step(desk.router.pause("a2", "x", desk.now))
    desk.call("c1", "booking")
    out = desk.step(desk.router.pickup("a2", "c1", desk.at(5)))
    assert StopRinging("c1", "a1", "1001") in out
    assert (desk.state("a1"), desk.state("a2")) == (S.READY, S.ON_CALL)
    assert desk.log(QueueEvent.CONNECT)[0].data["pickup"] is True


def test_a_refused_pickup_leaves_the_call_ringing_where_it_rang() -> None:
    desk = simple_desk(n=2)
    desk.step(desk.router.logout("a2", desk.now))
    desk.call("c1", "booking")
    with pytest.raises(IllegalTransition, match="a2 cannot take a call while logged_out"):
        desk.router.pickup("a2", "c1", desk.at(5))
    assert desk.state("a1") is S.RINGING
    desk.answer("c1", "a1")  # the offer still stands: a1 answers it
    assert desk.state("a1") is S.ON_CALL


def test_supervisor_adds_an_agent_live_and_the_waiting_call_rings_them() -> None:
    desk = simple_desk(n=1)
    desk.agent("spare")
    desk.step(desk.router.pause("a1", "x", desk.now))
    desk.call("c1", "booking")
    desk.member(Membership("booking", "spare"))
    assert desk.rung()[-1] == ("c1", ("spare",))


def test_estimated_wait_uses_recent_handle_times_and_staffing() -> None:
    desk = simple_desk(n=2, wrap_up=0, default_handle_time=100, announce_every=30)
    for i, talk in enumerate((200, 400)):
        desk.at(i * 1000)
        desk.call(f"h{i}", "booking")
        agent = desk.ringing(f"h{i}")[0]
        desk.answer(f"h{i}", agent)
        desk.at(i * 1000 + talk)
        desk.hangup(f"h{i}")
    desk.at(5000)
    for agent in ("a1", "a2"):
        desk.step(desk.router.pause(agent, "x", desk.now))
    for i in range(4):
        desk.call(f"w{i}", "booking")
    # 2 agents serving? no: both paused -> no estimate
    assert desk.router.estimated_wait("w3") is None
    desk.step(desk.router.start_outbound("a1", desk.now))
    desk.step(desk.router.end_outbound("a1", desk.now, wrap_up=1000))  # wrap-up: serving
    assert desk.router.estimated_wait("w3") == 4 * 300  # position 4 * mean 300 s / 1 agent
    out = desk.tick(5030)
    announces = [o for o in out if isinstance(o, Announce)]
    assert [(a.call_id, a.position) for a in announces] == [(f"w{i}", i + 1) for i in range(4)]


def test_settings_change_the_miss_limit() -> None:
    desk = Desk(RouterSettings(max_missed_offers=1))
    desk.agent("a1")
    desk.queue(QueueConfig("booking"), {"a1": 0})
    desk.call("c1", "booking")
    desk.tick(15)
    assert desk.state("a1") is S.NOT_READY
