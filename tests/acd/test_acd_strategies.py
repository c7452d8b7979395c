"""Each strategy's order, on candidates built by hand (no router)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from ticketline.acd.agents import Agent, AgentState
from ticketline.acd.config import Membership, SkillNeed, Strategy
from ticketline.acd.strategies import Candidate, PickContext, QueueMemory, order

TODAY = date(2026, 11, 22)


def cand(agent_id: str, *, idle: float = 0, position: int = 0, **kw: object) -> Candidate:
    agent = Agent(agent_id, "1000", state=AgentState.READY, idle_since=idle)
    for key, value in kw.items():
        if key in ("weight", "penalty"):
            continue
        setattr(agent, key, value)
    weight = int(kw.get("weight", 1))  # type: ignore[call-overload]
    return Candidate(agent, Membership("q", agent_id, position=position, weight=weight))


def ids(cands: list[Candidate]) -> list[str]:
    return [c.agent.agent_id for c in cands]


def ctx(**kw: object) -> PickContext:
    return PickContext(random.Random(3), TODAY, QueueMemory(), **kw)  # type: ignore[arg-type]


def test_longest_idle_first() -> None:
    cands = [cand("a", idle=30), cand("b", idle=10), cand("c", idle=20)]
    assert ids(order(Strategy.LONGEST_IDLE, cands, ctx())) == ["b", "c", "a"]


def test_linear_follows_membership_position_not_idle_time() -> None:
    cands = [cand("a", idle=1, position=2), cand("b", idle=9, position=0), cand("c", position=1)]
    assert ids(order(Strategy.LINEAR, cands, ctx())) == ["b", "c", "a"]


def test_round_robin_starts_after_the_agent_it_stopped_at() -> None:
    cands = [cand(x, position=i) for i, x in enumerate("abcd")]
    context = ctx()
    picked = []
    for _ in range(6):
        first = order(Strategy.ROUND_ROBIN, cands, context)[0]
        context.memory.remember(first)
        picked.append(first.agent.agent_id)
    assert picked == ["a", "b", "c", "d", "a", "b"]


def test_round_robin_skips_busy_agents_and_keeps_its_place() -> None:
    context = ctx()
    context.memory.remember(cand("b", position=1))
    free = [cand("a", position=0), cand("d", position=3)]  # c is busy
    assert ids(order(Strategy.ROUND_ROBIN, free, context)) == ["d", "a"]


def test_fewest_calls_and_least_talk_count_today_only() -> None:
    busy = cand("a", idle=0, day=TODAY, calls_today=5, talk_today=100.0)
    stale = cand("b", idle=5, day=date(2026, 11, 21), calls_today=50, talk_today=9000.0)
    quiet = cand("c", idle=9, day=TODAY, calls_today=2, talk_today=400.0)
    assert ids(order(Strategy.FEWEST_CALLS, [busy, stale, quiet], ctx())) == ["b", "c", "a"]
    assert ids(order(Strategy.LEAST_TALK_TIME, [busy, stale, quiet], ctx())) == ["b", "a", "c"]


def test_random_is_a_permutation_and_reproducible_with_a_seed() -> None:
    cands = [cand(x, idle=i) for i, x in enumerate("abcdef")]
    first = ids(order(Strategy.RANDOM, cands, ctx()))
    assert sorted(first) == list("abcdef")
    assert first == ids(order(Strategy.RANDOM, cands, ctx()))
    firsts = Counter(ids(order(Strategy.RANDOM, cands, ctx_r(s)))[0] for s in range(600))
    assert set(firsts) == set("abcdef")


def ctx_r(seed: int) -> PickContext:
    return PickContext(random.Random(seed), TODAY, QueueMemory())


def test_weighted_random_picks_in_proportion_to_weight() -> None:
    cands = [cand("heavy", weight=3), cand("light", weight=1)]
    firsts = Counter(ids(order(Strategy.WEIGHTED_RANDOM, cands, ctx_r(s)))[0] for s in range(4000))
    share = firsts["heavy"] / 4000
    assert 0.70 < share < 0.80  # expected 0.75


def test_last_agent_first_when_free_else_longest_idle() -> None:
    cands = [cand("a", idle=1), cand("b", idle=2), cand("c", idle=3)]
    assert ids(order(Strategy.LAST_AGENT, cands, ctx(last_agent="c"))) == ["c", "a", "b"]
    assert ids(order(Strategy.LAST_AGENT, cands, ctx(last_agent="zz"))) == ["a", "b", "c"]


def test_best_skill_match_sums_proficiency_in_the_needed_skills() -> None:
    needs = (SkillNeed("booking", 1), SkillNeed("english", 1))
    cands = [
        cand("a", idle=1, skills={"booking": 5}),
        cand("b", idle=2, skills={"booking": 3, "english": 4}),
        cand("c", idle=3, skills={"booking": 4, "english": 4}),
    ]
    assert ids(order(Strategy.BEST_SKILL, cands, ctx(needs=needs))) == ["c", "b", "a"]
