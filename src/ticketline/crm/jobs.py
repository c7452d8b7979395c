"""Periodic care jobs of a serving process: points expiry, greetings, SLA checks.

The composition root hands in the jobs; each runs every `interval`, a failing job
is logged and retried next round, and `stop` waits for the round in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class PeriodicJobs:
    def __init__(self, jobs: dict[str, Job], interval: timedelta) -> None:
        self.jobs = jobs
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> dict[str, object]:
        """Run every job once; returns each job's result (or the error it raised)."""
        results: dict[str, object] = {}
        for name, job in self.jobs.items():
            try:
                results[name] = await job()
            except Exception as exc:
                log.exception("periodic job %s failed", name)
                results[name] = exc
        return results

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="periodic-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval.total_seconds())
