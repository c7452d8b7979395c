"""Real-time figures per queue and per agent, folded from the queue log.

Counters are for the current day in the site's zone and start again at local
midnight. Service level = calls answered within the queue's threshold divided by
calls answered plus calls abandoned after the threshold (callers who hung up
quickly do not count against it). The live part (who waits, for how long, which
agent is in which state) comes from the router at the moment of the snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ticketline.acd.agents import AgentState, AgentStateChanged
from ticketline.acd.queuelog import QueueEvent, QueueLogEntry
from ticketline.acd.router import Router
from ticketline.acd.waiting import Phase


@dataclass
class QueueDay:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    abandoned_late: int = 0
    overflowed: int = 0
    callbacks: int = 0
    messages: int = 0
    wait_answered: float = 0.0
    talk: float = 0.0
    completed: int = 0

    @property
    def service_level(self) -> float | None:
        counted = self.answered + self.abandoned_late
        return None if counted == 0 else self.answered_in_time / counted


@dataclass
class AgentDay:
    answered: int = 0
    missed: int = 0
    talk: float = 0.0
    completed: int = 0  # calls whose talk is counted (ended or transferred)


class LiveStats:
    """Folds queue log lines into today's counters."""

    def __init__(self, zone: ZoneInfo, threshold: Callable[[str], int]) -> None:
        self.zone = zone
        self.threshold = threshold
        self.day: date | None = None
        self.queues: dict[str, QueueDay] = {}
        self.agents: dict[str, AgentDay] = {}

    def apply(self, entry: QueueLogEntry) -> None:
        self._roll(entry.at)
        if entry.queue_id is None:
            return
        queue = self.queues.setdefault(entry.queue_id, QueueDay())
        agent = self.agents.setdefault(entry.agent_id, AgentDay()) if entry.agent_id else None
        self._count(entry, queue, agent)

    def _count(self, entry: QueueLogEntry, queue: QueueDay, agent: AgentDay | None) -> None:
        wait = entry.wait or 0.0
        event = entry.event
        if event is QueueEvent.ENTER:
            queue.offered += 1
        elif event is QueueEvent.CONNECT:
            queue.answered += 1
            queue.wait_answered += wait
            queue.answered_in_time += wait <= self.threshold(entry.queue_id or "")
            if agent:
                agent.answered += 1
        elif event is QueueEvent.ABANDON:
            queue.abandoned += 1
            queue.abandoned_late += wait > self.threshold(entry.queue_id or "")
        elif event is QueueEvent.OVERFLOW:
            queue.overflowed += 1
        elif event is QueueEvent.CALLBACK_REQUESTED:
            queue.callbacks += 1
        elif event is QueueEvent.EXIT_WITH_KEY:
            queue.messages += 1
        elif event is QueueEvent.NO_ANSWER and agent:
            agent.missed += 1
        elif event in (QueueEvent.COMPLETE, QueueEvent.TRANSFER):
            queue.completed += 1
            queue.talk += entry.talk or 0.0
            if agent:
                agent.completed += 1
                agent.talk += entry.talk or 0.0

    def apply_agent(self, change: AgentStateChanged) -> None:
        self._roll(change.at)

    def _roll(self, at: datetime) -> None:
        today = at.astimezone(self.zone).date()
        if today != self.day:
            self.day, self.queues, self.agents = today, {}, {}


def snapshot(router: Router, stats: LiveStats, now: datetime) -> dict[str, Any]:
    """Every queue and every agent, now: waiting calls, states, today's figures."""
    ts = now.timestamp()
    queues = []
    for code, queue in sorted(router.queues.items()):
        waiting = [
            {
                "call_id": c.call_id,
                "caller": c.request.caller,
                "priority": c.request.priority,
                "wait": round(ts - c.queue_entered, 1),
                "ringing": sorted(c.ringing),
                "callback": c.callback_number is not None,
            }
            for c in queue.line
        ]
        states: dict[str, int] = {s.value: 0 for s in AgentState}
        for agent_id in queue.members:
            states[router.agents[agent_id].state.value] += 1
        day = stats.queues.get(code, QueueDay())
        queues.append(
            {
                "queue": code,
                "name_zh": queue.config.name_zh,
                "name_en": queue.config.name_en,
                "waiting": waiting,
                "longest_wait": round(
                    max((ts - c.queue_entered for c in queue.line), default=0.0), 1
                ),
                "agents": states,
                "today": {**asdict(day), "service_level": day.service_level},
                "service_level_seconds": queue.config.service_level,
            }
        )
    agents = [_agent_view(router, agent_id, stats, ts) for agent_id in sorted(router.agents)]
    return {"at": now.isoformat(), "queues": queues, "agents": agents}


def _agent_view(router: Router, agent_id: str, stats: LiveStats, ts: float) -> dict[str, Any]:
    agent = router.agents[agent_id]
    call = router.calls.get(agent.call_id or "")
    day = stats.agents.get(agent_id, AgentDay())
    return {
        "agent": agent_id,
        "name": agent.name,
        "extension": agent.extension,
        "state": agent.state.value,
        "reason": agent.reason,
        "since": round(ts - agent.since, 1) if agent.since else None,
        "queues": sorted(router.agent_queues.get(agent_id, ())),
        "call": None
        if call is None
        else {
            "call_id": call.call_id,
            "queue": call.queue_id,
            "caller": call.request.caller,
            "connected": call.phase is Phase.CONNECTED,
        },
        "today": asdict(day),
    }
