"""What the router asks the outside world to do. The service carries these out.

The router never touches a phone: it returns these commands (imperative names)
alongside queue log entries and agent state changes, and the service turns them
into call-control requests through acd/ports.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ticketline.acd.agents import AgentStateChanged
from ticketline.acd.config import OverflowKind, OverflowReason
from ticketline.acd.queuelog import QueueLogEntry


@dataclass(frozen=True)
class RingAgents:
    """Offer `call_id` to these agents' extensions (and the queue's always-ring channels).

    For a callback, the agent is rung first and the customer at `callback_number` is
    dialled once the agent answers.
    """

    call_id: str
    queue_id: str
    agents: tuple[tuple[str, str], ...]  # (agent id, extension)
    also_ring: tuple[str, ...]
    timeout: int
    callback_number: str | None = None


@dataclass(frozen=True)
class StopRinging:
    """Stop offering `call_id` to `agent_id` (answered elsewhere, timed out, abandoned)."""

    call_id: str
    agent_id: str
    extension: str


@dataclass(frozen=True)
class StopAlwaysRing:
    """Stop ringing the always-ring channels for `call_id`."""

    call_id: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class SendOverflow:
    """Move `call_id` out of the queue: to voicemail, or keep it as a callback request.

    Overflow to another queue is done inside the router and needs no command.
    """

    call_id: str
    queue_id: str
    kind: OverflowKind
    reason: OverflowReason


@dataclass(frozen=True)
class Announce:
    """Tell a waiting caller their position and estimated wait (None: unknown)."""

    call_id: str
    queue_id: str
    position: int
    estimated_wait: int | None


Command = RingAgents | StopRinging | StopAlwaysRing | SendOverflow | Announce
Output = Command | QueueLogEntry | AgentStateChanged
