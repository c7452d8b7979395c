"""The timer service: turns the StartTimer/CancelTimer actions of the sans-IO machines
into event-loop timers, and their expiry back into ``TimerFired`` inputs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class TimerSet:
    """Named timers of one owner (a transaction, a leg); starting a name restarts it."""

    __slots__ = ("_handles", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, seconds: float, fire: Callable[[str], None]) -> None:
        """Call ``fire(name)`` after ``seconds`` (0: on the next loop turn)."""
        self.cancel(name)
        self._handles[name] = self._loop.call_later(seconds, self._fire, name, fire)

    def _fire(self, name: str, fire: Callable[[str], None]) -> None:
        self._handles.pop(name, None)
        fire(name)

    def cancel(self, name: str) -> None:
        """Stop timer ``name`` if it runs."""
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        """Stop every timer (the owner is going away)."""
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def running(self, name: str) -> bool:
        """True while timer ``name`` is pending."""
        return name in self._handles
