"""Routing decision latency of the pure ACD router; run: uv run python bench/bench_acd_router.py

Builds a contact centre of A agents (each a member of 5 of Q queues, with the
skills those queues need), fills the queues with W waiting callers while every
agent is on a call, then times the decisions the router makes:

- "agent frees": a call completes (wrap-up 0), the router picks the best waiting
  call across the agent's queues and rings the agent;
- "call arrives, all busy": a call enters and is placed in line;
- "call arrives, agents free": a call enters a queue with free members and the
  strategy picks one (measured on a second, idle, centre of the same size).

Then events per second over a mixed stream (enter, answer, complete). Prints
p50/p99/max per decision at three sizes so the growth with agents and waiting
calls shows. Figures are for one core; nothing here asserts a timing.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from ticketline.acd.actions import RingAgents
from ticketline.acd.config import (
    AgentProfile,
    Membership,
    QueueConfig,
    SkillNeed,
    Strategy,
    WideningStep,
)
from ticketline.acd.router import Router
from ticketline.acd.waiting import CallRequest

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
SKILLS = [f"s{i}" for i in range(20)]
STRATEGIES = [
    Strategy.LONGEST_IDLE,
    Strategy.ROUND_ROBIN,
    Strategy.FEWEST_CALLS,
    Strategy.BEST_SKILL,
    Strategy.LEAST_TALK_TIME,
    Strategy.WEIGHTED_RANDOM,
]


class Centre:
    def __init__(self, agents: int, queues: int, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.router = Router(rng=random.Random(seed))
        self.clock = 0.0
        self.n = 0
        self.queue_ids = [f"q{i}" for i in range(queues)]
        needs = {}
        for i, qid in enumerate(self.queue_ids):
            need = SkillNeed(self.rng.choice(SKILLS), self.rng.randint(1, 3))
            needs[qid] = need
            extra = (self.queue_ids[(i + 1) % queues],)
            self.router.set_queue(
                QueueConfig(
                    qid,
                    strategy=STRATEGIES[i % len(STRATEGIES)],
                    skills=(need,),
                    wrap_up=0,
                    ring_timeout=3600,
                    steps=(WideningStep(600, lower_levels=1, extra_queues=extra),),
                )
            )
        for a in range(agents):
            member_of = self.rng.sample(self.queue_ids, 5)
            skills = {needs[q].skill: self.rng.randint(needs[q].min_level, 5) for q in member_of}
            agent_id = f"a{a}"
            self.router.set_agent(AgentProfile(agent_id, f"{10000 + a}", skills))
            for qid in member_of:
                self.router.set_membership(
                    Membership(qid, agent_id, penalty=self.rng.randint(0, 1), position=a),
                    self.now(),
                )
            self.router.login(agent_id, self.now())

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.clock)

    def enter(self) -> list[object]:
        self.n += 1
        self.clock += 0.001
        request = CallRequest(
            f"c{self.n}",
            self.rng.choice(self.queue_ids),
            caller=f"+86138{self.n:08d}",
            priority=self.rng.choice((0, 0, 0, 1, 2)),
        )
        return list(self.router.enqueue(request, self.now()))

    def answer_rings(self, outputs: list[object]) -> None:
        for out in outputs:
            if isinstance(out, RingAgents):
                self.router.answered(out.call_id, out.agents[0][0], self.now())


class Samples:
    """CPU time of this thread (the machine is shared) and wall time, in µs."""

    def __init__(self) -> None:
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def time(self, fn):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        result = fn()
        self.cpu.append((time.thread_time_ns() - cpu) / 1000)
        self.wall.append((time.perf_counter_ns() - wall) / 1000)
        return result

    def __str__(self) -> str:
        cpu = sorted(self.cpu)
        return (
            f"cpu p50 {statistics.median(cpu):6.1f} µs  p99 {_p99(cpu):6.1f} µs"
            f"  max {cpu[-1]:7.1f} µs | wall p99 {_p99(sorted(self.wall)):7.1f} µs"
        )


def _p99(ordered: list[float]) -> float:
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def busy_centre(agents: int, queues: int, waiting: int) -> Centre:
    centre = Centre(agents, queues)
    queued = 0
    while queued < waiting:
        out = centre.enter()
        if any(isinstance(o, RingAgents) for o in out):
            centre.answer_rings(out)
        else:
            queued += 1
    return centre


def run(agents: int, queues: int, waiting: int, decisions: int = 2000) -> None:
    build = time.perf_counter()
    centre = busy_centre(agents, queues, waiting)
    built = time.perf_counter() - build
    gc.collect()
    gc.freeze()  # the long-lived centre is not rescanned by every collection
    frees, arrivals, free_arrivals = Samples(), Samples(), Samples()
    connected = [c for c in centre.router.calls.values() if c.phase.value == "connected"]
    for _ in range(decisions):
        call = connected.pop(centre.rng.randrange(len(connected)))
        centre.clock += 0.01
        out = frees.time(lambda c=call: centre.router.complete(c.call_id, "caller", centre.now()))
        for o in out:
            if isinstance(o, RingAgents):
                centre.router.answered(o.call_id, o.agents[0][0], centre.now())
                connected.append(centre.router.calls[o.call_id])
        arrivals.time(centre.enter)
    idle = Centre(agents, queues, seed=2)
    for _ in range(min(decisions, agents // 2)):
        idle.answer_rings(free_arrivals.time(idle.enter))
    print(f"{agents} agents, {queues} queues, {waiting} waiting (built in {built:.1f} s)")
    print(f"  agent frees, picks a waiting call   {frees}")
    print(f"  call arrives, all agents busy        {arrivals}")
    print(f"  call arrives, agents free            {free_arrivals}")
    events_per_second(centre)


def events_per_second(centre: Centre, seconds: float = 2.0) -> None:
    """Mixed stream: each cycle completes a call, answers the offer it causes, adds a call."""
    connected = [c.call_id for c in centre.router.calls.values() if c.phase.value == "connected"]
    events, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call_id = connected.pop(centre.rng.randrange(len(connected)))
        centre.clock += 0.01
        out = centre.router.complete(call_id, "caller", centre.now())
        events += 1
        for o in out:
            if isinstance(o, RingAgents):
                centre.router.answered(o.call_id, o.agents[0][0], centre.now())
                connected.append(o.call_id)
                events += 1
        centre.enter()
        events += 1
    print(f"  mixed events (enter/answer/complete): {events / seconds:,.0f} per second")


def main() -> None:
    for agents, queues, waiting in ((500, 50, 2500), (2000, 200, 10000), (4000, 400, 20000)):
        run(agents, queues, waiting)


if __name__ == "__main__":
    main()
