"""The expiry worker: releases the seats of holds and unpaid bookings past their deadline.

Booking also expires due orders when it finds no seat, so the worker only keeps
search figures honest between bookings; several processes may run it at once
(each expiry re-checks the order under its lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class ExpiryWorker:
    def __init__(self, expire_due: Callable[[], Awaitable[int]], every_s: float = 30.0) -> None:
        self.expire_due = expire_due
        self.every_s = every_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ticketing-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                expired = await self.expire_due()
                if expired:
                    log.info("expired %d orders", expired)
            except Exception:
                log.exception("expiring orders failed; trying again later")
            await asyncio.sleep(self.every_s)
