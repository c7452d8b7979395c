"""Properties of the routing core under random traffic (hypothesis)."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.acd.helpers import Desk
from ticketline.acd.agents import AgentState
from ticketline.acd.config import QueueConfig, SkillNeed, Strategy, WideningStep
from ticketline.acd.matching import agent_may_take
from ticketline.acd.queuelog import QueueEvent
from ticketline.acd.router import Router
from ticketline.acd.waiting import Phase

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

op = st.tuples(
    st.sampled_from(
        ["call", "answer", "hangup", "abandon", "miss", "pause", "ready", "login", "logout", "wait"]
    ),
    st.integers(0, 5),
    st.integers(0, 3),
)


def check_invariants(router: Router) -> None:
    """No free agent may take a waiting call; rings and states agree."""
    waiting = [c for c in router.calls.values() if c.phase is Phase.WAITING]
    for agent in router.agents.values():
        if agent.state is AgentState.READY:
            for call in waiting:
                membership = agent_may_take(
                    agent, call, router.queues, router.agents, router._moment
                )
                assert membership is None, f"{agent.agent_id} free while {call.call_id} waits"
        ringing_calls = [c for c in router.calls.values() if agent.agent_id in c.ringing]
        assert len(ringing_calls) == (1 if agent.state is AgentState.RINGING else 0)


def build(strategy: Strategy) -> Desk:
    desk = Desk()
    for i in range(4):
        desk.agent(f"a{i}", {"booking": 1 + i, "english": 5 - i})
    desk.queue(
        QueueConfig(
            "booking",
            strategy=strategy,
            skills=(SkillNeed("booking", 3),),
            steps=(WideningStep(40, lower_levels=2),),
            ring_timeout=10,
            wrap_up=5,
        ),
        {f"a{i}": i % 2 for i in range(4)},
    )
    desk.queue(QueueConfig("english", skills=(SkillNeed("english", 2),)), {"a0": 0, "a1": 0})
    return desk


@PROPS
@given(st.sampled_from(list(Strategy)), st.lists(op, max_size=60))
def test_random_traffic_keeps_the_invariants_and_logs_every_call(
    strategy: Strategy, ops: list[tuple[str, int, int]]
) -> None:
    desk = build(strategy)
    clock, calls = 0.0, 0
    for name, x, y in ops:
        clock += y * 3
        desk.tick(clock)  # let due timers run before looking at states
        agent_id = f"a{x % 4}"
        live = sorted(desk.router.calls)
        call_id = live[x % len(live)] if live else None
        if name == "call":
            calls += 1
            desk.call(f"c{calls}", ["booking", "english"][y % 2], priority=x, caller=str(x))
        elif name == "answer" and call_id and desk.ringing(call_id):
            desk.answer(call_id, desk.ringing(call_id)[y % len(desk.ringing(call_id))])
        elif name == "hangup" and call_id and desk.router.calls[call_id].phase is Phase.CONNECTED:
            desk.hangup(call_id)
        elif name == "abandon" and call_id:
            desk.step(desk.router.abandon(call_id, desk.now))
        elif name == "miss" and call_id and desk.ringing(call_id):
            desk.step(desk.router.no_answer(call_id, desk.ringing(call_id)[0], desk.now))
        elif name == "pause" and desk.state(agent_id) in (AgentState.READY, AgentState.WRAP_UP):
            desk.step(desk.router.pause(agent_id, "break", desk.now))
        elif name == "ready" and desk.state(agent_id) is AgentState.NOT_READY:
            desk.step(desk.router.ready(agent_id, desk.now))
        elif name == "login" and desk.state(agent_id) is AgentState.LOGGED_OUT:
            desk.step(desk.router.login(agent_id, desk.now))
        elif name == "logout" and desk.state(agent_id) in (AgentState.READY, AgentState.NOT_READY):
            desk.step(desk.router.logout(agent_id, desk.now))
        else:
            desk.tick(clock)
        check_invariants(desk.router)
    entered = Counter(e.call_id for e in desk.log(QueueEvent.ENTER))
    ended = {
        e.call_id
        for e in desk.log()
        if e.event in (QueueEvent.CONNECT, QueueEvent.ABANDON)
        or (e.event is QueueEvent.OVERFLOW and e.data["kind"] == "voicemail")
    }
    still = set(desk.router.calls)
    assert set(entered) == ended | still  # every call is accounted for
    assert not (ended - {e.call_id for e in desk.log(QueueEvent.CONNECT)}) & still


@PROPS
@given(
    st.lists(st.tuples(st.integers(0, 9), st.integers(0, 200)), min_size=1, max_size=30),
    st.integers(0, 120),
)
def test_pickup_order_is_key_order_and_nobody_waits_behind_later_callers_forever(
    arrivals: list[tuple[int, int]], credit: int
) -> None:
    desk = Desk()
    desk.agent("solo")
    desk.queue(QueueConfig("q", priority_credit=credit, wrap_up=0), {"solo": 0})
    desk.step(desk.router.pause("solo", "x", desk.now))
    clock, entered = 0.0, {}
    for i, (priority, gap) in enumerate(arrivals):
        clock += gap
        desk.at(clock)
        desk.call(f"c{i}", "q", priority=priority)
        entered[f"c{i}"] = (clock, priority, i)
    served = []
    desk.step(desk.router.ready("solo", desk.at(clock + 1)))
    while desk.router.calls:
        (call_id,) = [c for c in desk.router.calls if desk.ringing(c)]
        served.append(call_id)
        desk.answer(call_id, "solo")
        desk.hangup(call_id)
    expected = sorted(
        entered, key=lambda c: (entered[c][0] - entered[c][1] * credit, entered[c][2])
    )
    assert served == expected
    # starvation bound: nobody is served after a caller who arrived > 9 * credit later
    for i, first in enumerate(served):
        for before in served[:i]:
            assert entered[before][0] - entered[first][0] <= 9 * credit


@PROPS
@given(st.integers(2, 7), st.integers(1, 60))
def test_round_robin_shares_calls_evenly(agents: int, calls: int) -> None:
    desk = Desk()
    for i in range(agents):
        desk.agent(f"a{i}")
    desk.queue(
        QueueConfig("q", strategy=Strategy.ROUND_ROBIN, wrap_up=0),
        {f"a{i}": 0 for i in range(agents)},
    )
    got: Counter[str] = Counter()
    for n in range(calls):
        desk.at(n)
        desk.call(f"c{n}", "q")
        (agent,) = desk.ringing(f"c{n}")
        got[agent] += 1
        desk.answer(f"c{n}", agent)
        desk.hangup(f"c{n}")
    counts = [got[f"a{i}"] for i in range(agents)]
    assert max(counts) - min(counts) <= 1
