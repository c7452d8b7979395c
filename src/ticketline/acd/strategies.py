"""Routing strategies: put the free agents who may take a call in the order to try them.

Pure functions over the candidates the router found (free, skilled, in the lowest
penalty tier). Ties are broken by longest idle, then agent id, so every order is
deterministic for a given random generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ticketline.acd.agents import Agent
from ticketline.acd.config import Membership, SkillNeed, Strategy


@dataclass(slots=True)
class Candidate:
    agent: Agent
    member: Membership


@dataclass(slots=True)
class QueueMemory:
    """What a queue remembers between calls: where round-robin stopped."""

    last_position: tuple[int, str] | None = None

    def remember(self, candidate: Candidate) -> None:
        self.last_position = (candidate.member.position, candidate.agent.agent_id)


@dataclass(slots=True)
class PickContext:
    """What a strategy may look at besides the candidates."""

    rng: random.Random
    today: date
    memory: QueueMemory
    needs: tuple[SkillNeed, ...] = ()
    last_agent: str | None = None


Order = Callable[[list[Candidate], PickContext], list[Candidate]]


def _idle(c: Candidate) -> tuple[float, str]:
    return c.agent.idle_since, c.agent.agent_id


def _linear_key(c: Candidate) -> tuple[int, str]:
    return c.member.position, c.agent.agent_id


def longest_idle(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    return sorted(cands, key=_idle)


def linear(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    return sorted(cands, key=_linear_key)


def round_robin(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    ordered = sorted(cands, key=_linear_key)
    last = ctx.memory.last_position
    if last is None:
        return ordered
    split = next((i for i, c in enumerate(ordered) if _linear_key(c) > last), 0)
    return ordered[split:] + ordered[:split]


def fewest_calls(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    return sorted(cands, key=lambda c: (c.agent.counts_for(ctx.today)[0], *_idle(c)))


def least_talk_time(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    return sorted(cands, key=lambda c: (c.agent.counts_for(ctx.today)[1], *_idle(c)))


def random_order(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    ordered = sorted(cands, key=_idle)
    ctx.rng.shuffle(ordered)
    return ordered


def weighted_random(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    """Draw without replacement, each draw in proportion to the membership weight."""
    pool = sorted(cands, key=_idle)
    ordered: list[Candidate] = []
    while pool:
        total = sum(c.member.weight for c in pool)
        point = ctx.rng.uniform(0, total)
        index = 0
        while index < len(pool) - 1 and point >= pool[index].member.weight:
            point -= pool[index].member.weight
            index += 1
        ordered.append(pool.pop(index))
    return ordered


def last_agent(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    """The agent who last served this caller first (if free), then longest idle."""
    ordered = sorted(cands, key=_idle)
    for i, c in enumerate(ordered):
        if c.agent.agent_id == ctx.last_agent:
            return [c, *ordered[:i], *ordered[i + 1 :]]
    return ordered


def skill_score(agent: Agent, needs: tuple[SkillNeed, ...]) -> int:
    """How well an agent covers the needed skills: the sum of their proficiencies."""
    return sum(agent.skills.get(n.skill, 0) for n in needs)


def best_skill(cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    return sorted(cands, key=lambda c: (-skill_score(c.agent, ctx.needs), *_idle(c)))


ORDERS: dict[Strategy, Order] = {
    Strategy.RING_ALL: linear,
    Strategy.RING_PROGRESSIVE: longest_idle,
    Strategy.LONGEST_IDLE: longest_idle,
    Strategy.ROUND_ROBIN: round_robin,
    Strategy.FEWEST_CALLS: fewest_calls,
    Strategy.LEAST_TALK_TIME: least_talk_time,
    Strategy.LINEAR: linear,
    Strategy.RANDOM: random_order,
    Strategy.WEIGHTED_RANDOM: weighted_random,
    Strategy.LAST_AGENT: last_agent,
    Strategy.BEST_SKILL: best_skill,
}


def order(strategy: Strategy, cands: list[Candidate], ctx: PickContext) -> list[Candidate]:
    """The candidates in the order `strategy` would offer them the call."""
    if len(cands) == 1:
        return cands
    return ORDERS[strategy](cands, ctx)
