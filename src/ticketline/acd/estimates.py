"""Estimated wait from recent handling times and the agents staffing a queue.

Estimate for the caller at position p with n agents serving (ready, ringing, on a
call or in wrap-up) and an average handle time h (talk plus wrap-up of the last
`window` calls the queue completed): each of the n agents frees up once per h
seconds on average, so the p-th caller waits about p * h / n seconds. With no
agent serving there is no honest estimate (None). With no history yet, the
queue's configured default handle time stands in until calls complete.
"""

from __future__ import annotations

import math
from collections import deque

DEFAULT_WINDOW = 50


class HandleTimes:
    """The last `window` handle times (seconds) of one queue."""

    __slots__ = ("_sum", "_times")

    def __init__(self, window: int = DEFAULT_WINDOW) -> None:
        self._times: deque[float] = deque(maxlen=window)
        self._sum = 0.0

    def add(self, seconds: float) -> None:
        if len(self._times) == self._times.maxlen:
            self._sum -= self._times[0]
        self._times.append(max(0.0, seconds))
        self._sum += max(0.0, seconds)

    def __len__(self) -> int:
        return len(self._times)

    def average(self, default: float) -> float:
        """Mean of the recent handle times, or `default` before any call completed."""
        if not self._times:
            return default
        return self._sum / len(self._times)


def estimate_wait(position: int, serving_agents: int, average_handle: float) -> int | None:
    """Seconds the caller at `position` (1-based) may expect to wait, or None if unknown."""
    if serving_agents <= 0:
        return None
    return math.ceil(position * average_handle / serving_agents)
