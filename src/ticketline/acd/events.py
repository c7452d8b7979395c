"""What the ACD announces on the bus.

- `AgentStateChanged` (agents.py): an agent's state or not-ready reason changed.
- `QueueLogEntry` (queuelog.py): every line of the queue log, as it is decided.
- `QueueConfigChanged`: an administrator changed a queue or its members.
- `CallOffered` / `CallConnected`: for screens (who is ringing, who took the call).
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketline.acd.agents import AgentStateChanged
from ticketline.acd.queuelog import QueueLogEntry

__all__ = [
    "AgentStateChanged",
    "CallConnected",
    "CallOffered",
    "QueueConfigChanged",
    "QueueLogEntry",
]


@dataclass(frozen=True)
class QueueConfigChanged:
    """A queue's settings or memberships changed. Payload: the queue code."""

    queue: str


@dataclass(frozen=True)
class CallOffered:
    """An agent's phone rings for a queued call. Payload: call, queue, agent, caller."""

    call_id: str
    queue: str
    agent: str
    caller: str


@dataclass(frozen=True)
class CallConnected:
    """An agent took a queued call. Payload: call, queue, agent, caller, seconds waited."""

    call_id: str
    queue: str
    agent: str
    caller: str
    waited: float
