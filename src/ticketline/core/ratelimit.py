"""A sliding-window rate limiter keyed by anything hashable (an IP, a number)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from datetime import datetime, timedelta


class RateLimiter:
    """Allows at most `limit` events per `window` for each key.

    Memory stays bounded: keys whose events have all aged out are forgotten, and at
    most `max_keys` keys are tracked (the oldest is dropped first).
    """

    def __init__(self, limit: int, window: timedelta, max_keys: int = 100_000) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[Hashable, deque[datetime]] = {}

    def allow(self, key: Hashable, now: datetime) -> bool:
        """Record an event for `key` if it is within the limit; say whether it was."""
        events = self._fresh_events(key, now)
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def count(self, key: Hashable, now: datetime) -> int:
        return len(self._fresh_events(key, now))

    def reset(self, key: Hashable) -> None:
        self._events.pop(key, None)

    def _fresh_events(self, key: Hashable, now: datetime) -> deque[datetime]:
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                self._events.pop(next(iter(self._events)))
            events = self._events[key] = deque()
        cutoff = now - self.window
        while events and events[0] <= cutoff:
            events.popleft()
        return events
