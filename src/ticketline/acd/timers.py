"""The router's timers: one heap, stale entries skipped by token.

A timer carries the token of what it was set for (an offer's token, a call's
generation, an agent's version); when it falls due and the token no longer
matches, the thing it was for has moved on and the timer is dropped.
"""

from __future__ import annotations

import heapq
from enum import StrEnum
from typing import NamedTuple


class TimerKind(StrEnum):
    OFFER_TIMEOUT = "offer_timeout"
    RING_STEP = "ring_step"
    WIDEN = "widen"
    MAX_WAIT = "max_wait"
    RETRY = "retry"
    ANNOUNCE = "announce"
    WRAP_END = "wrap_end"


class Timer(NamedTuple):
    when: float
    seq: int
    kind: TimerKind
    target: str
    token: int


class Timers:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def set(self, when: float, kind: TimerKind, target: str, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Timer(when, self._seq, kind, target, token))

    def next_due(self) -> float | None:
        return self._heap[0].when if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        if self._heap and self._heap[0].when <= now:
            return heapq.heappop(self._heap)
        return None
