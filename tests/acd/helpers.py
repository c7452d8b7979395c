"""A small harness around the pure router: a fixed clock and readable outputs."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from ticketline.acd.actions import Output, RingAgents
from ticketline.acd.agents import AgentState, AgentStateChanged
from ticketline.acd.config import AgentProfile, Membership, QueueConfig, RouterSettings
from ticketline.acd.queuelog import QueueEvent, QueueLogEntry, agent_entry
from ticketline.acd.router import Router
from ticketline.acd.waiting import CallRequest

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Desk:
    """A router, a clock that tests move, and everything the router said so far."""

    def __init__(self, settings: RouterSettings | None = None, seed: int = 7) -> None:
        self.router = Router(settings, rng=random.Random(seed))
        self.now = T0
        self.outputs: list[Output] = []

    def at(self, seconds: float) -> datetime:
        self.now = T0 + timedelta(seconds=seconds)
        return self.now

    def step(self, outputs: list[Output]) -> list[Output]:
        self.outputs.extend(outputs)
        return outputs

    def queue(self, config: QueueConfig, members: dict[str, int] | None = None) -> None:
        self.router.set_queue(config)
        for position, (agent_id, penalty) in enumerate((members or {}).items()):
            self.member(Membership(config.id, agent_id, penalty=penalty, position=position))

    def member(self, membership: Membership) -> None:
        self.step(self.router.set_membership(membership, self.now))

    def agent(
        self, agent_id: str, skills: dict[str, int] | None = None, login: bool = True
    ) -> None:
        ext = f"1{len(self.router.agents) + 1:03d}"
        self.router.set_agent(AgentProfile(agent_id, ext, skills or {}))
        if login:
            self.step(self.router.login(agent_id, self.now))

    def call(self, call_id: str, queue: str, **kw: object) -> list[Output]:
        return self.step(self.router.enqueue(CallRequest(call_id, queue, **kw), self.now))  # type: ignore[arg-type]

    def tick(self, seconds: float) -> list[Output]:
        return self.step(self.router.tick(self.at(seconds)))

    def answer(self, call_id: str, agent_id: str) -> list[Output]:
        return self.step(self.router.answered(call_id, agent_id, self.now))

    def hangup(self, call_id: str, by: str = "caller") -> list[Output]:
        return self.step(self.router.complete(call_id, by, self.now))

    def state(self, agent_id: str) -> AgentState:
        return self.router.agents[agent_id].state

    def ringing(self, call_id: str) -> list[str]:
        call = self.router.calls.get(call_id)
        return sorted(call.ringing) if call else []

    def rung(self, outputs: list[Output] | None = None) -> list[tuple[str, tuple[str, ...]]]:
        """(call, agents) of every RingAgents command in `outputs` (default: all so far)."""
        return [
            (o.call_id, tuple(a for a, _ in o.agents))
            for o in (self.outputs if outputs is None else outputs)
            if isinstance(o, RingAgents)
        ]

    def log(self, event: QueueEvent | None = None) -> list[QueueLogEntry]:
        entries = [
            agent_entry(o) if isinstance(o, AgentStateChanged) else o
            for o in self.outputs
            if isinstance(o, QueueLogEntry | AgentStateChanged)
        ]
        return [e for e in entries if event is None or e.event is event]
