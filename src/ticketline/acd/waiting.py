"""Calls in the ACD and the ordered line each queue keeps.

Pickup order: a queue's line is sorted by `key = entered - priority * credit`,
then by arrival. `entered` is when the caller first reached the ACD (kept across
overflow to another queue and across a callback request), so a caller never loses
their place, and every priority tier is worth `credit` seconds of waiting: a
caller of priority 0 is passed by a caller of priority p only if that caller
arrived less than p * credit seconds later. That bound is what prevents
starvation. Because every key ages at the same rate, the order never has to be
recomputed while calls wait.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from ticketline.acd.config import MAX_PRIORITY, QueueConfig, SkillNeed
from ticketline.core.errors import InvalidInput


@dataclass(frozen=True)
class CallRequest:
    """A call handed to the ACD (by the IVR's queue node or a transfer).

    `priority` 0-9 (higher is served sooner: the VIP tier); `skills` adds to the
    queue's own needs; `first_time` sends the caller to a new-customer group.
    """

    call_id: str
    queue_id: str
    caller: str = ""
    priority: int = 0
    skills: tuple[SkillNeed, ...] = ()
    first_time: bool = False
    customer_id: str | None = None
    language: str = "zh"  # what announcements are spoken in: zh or en

    def __post_init__(self) -> None:
        if not self.call_id:
            raise InvalidInput("call_id", "must not be empty")
        if not 0 <= self.priority <= MAX_PRIORITY:
            raise InvalidInput("priority", f"must be 0-{MAX_PRIORITY}")


class Phase(StrEnum):
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"


@dataclass(slots=True, eq=False)
class QueuedCall:
    """The router's record of one call from entry until it is connected or leaves."""

    request: CallRequest
    queue_id: str
    entered: float
    queue_entered: float
    key: float
    seq: int
    needs: tuple[SkillNeed, ...]
    reach: frozenset[str]
    phase: Phase = Phase.WAITING
    step: int = 0
    drop: int = 0
    generation: int = 0
    offer_token: int = 0
    offer_started: float = 0.0
    tried: dict[str, float] = field(default_factory=dict)
    ringing: dict[str, str] = field(default_factory=dict)
    also_ringing: tuple[str, ...] = ()
    single_offer: bool = True
    callback_number: str | None = None
    agent_id: str | None = None
    connected_at: float | None = None
    entry_position: int = 0
    visited: tuple[str, ...] = ()
    extra_needs: dict[str, tuple[SkillNeed, ...]] = field(default_factory=dict)

    @property
    def call_id(self) -> str:
        return self.request.call_id

    def needs_via(self, queue: QueueConfig) -> tuple[SkillNeed, ...]:
        """Skills an agent reached through `queue` needs for this call."""
        if queue.id == self.queue_id:
            return self.needs
        found = self.extra_needs.get(queue.id)
        if found is None:
            found = self.extra_needs[queue.id] = merge_needs(queue.skills, self.request.skills)
        return found


def merge_needs(queue: tuple[SkillNeed, ...], call: tuple[SkillNeed, ...]) -> tuple[SkillNeed, ...]:
    """The queue's skills plus the call's, keeping the higher minimum of each."""
    if not call:
        return queue
    levels: dict[str, int] = {}
    for need in (*queue, *call):
        levels[need.skill] = max(levels.get(need.skill, 0), need.min_level)
    return tuple(SkillNeed(skill, level) for skill, level in sorted(levels.items()))


class Line:
    """A queue's calls in pickup order (waiting and ringing; connected calls leave)."""

    __slots__ = ("_items", "widened")

    def __init__(self) -> None:
        self._items: list[tuple[float, int, QueuedCall]] = []
        self.widened = 0  # calls here that other queues' agents may take too

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[QueuedCall]:
        return (item[2] for item in self._items)

    def add(self, call: QueuedCall) -> int:
        """Insert `call` in order; return its 1-based position."""
        index = bisect.bisect_left(self._items, (call.key, call.seq))
        self._items.insert(index, (call.key, call.seq, call))
        self.widened += len(call.reach) > 1
        return index + 1

    def widen(self, call: QueuedCall, reach: frozenset[str]) -> None:
        """Give a call in this line a wider reach (a widening step passed)."""
        self.widened += len(call.reach) == 1 and len(reach) > 1
        call.reach = reach

    def remove(self, call: QueuedCall) -> None:
        index = bisect.bisect_left(self._items, (call.key, call.seq))
        if index < len(self._items) and self._items[index][2] is call:
            del self._items[index]
            self.widened -= len(call.reach) > 1

    def position(self, call: QueuedCall) -> int:
        """1-based position of `call` (how many are ahead, plus one)."""
        return bisect.bisect_left(self._items, (call.key, call.seq)) + 1

    def calls(self) -> list[QueuedCall]:
        return [item[2] for item in self._items]
