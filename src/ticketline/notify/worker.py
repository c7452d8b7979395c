"""The outbox worker: claims due messages, sends them, retries with backoff.

Delivery is at-least-once: a message claimed by a process that then died is put
back in the queue on the next start. Several workers may run against one
database; each claim is one conditional UPDATE, so no message is sent twice by
two live workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database
from ticketline.notify.errors import GatewayError
from ticketline.notify.events import SmsFailed, SmsSent
from ticketline.notify.gateways import Accepted, SmsGateway
from ticketline.notify.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxPolicy:
    backoff: tuple[timedelta, ...] = (
        timedelta(seconds=5),
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
    )
    per_number_limit: int = 5
    per_number_window: timedelta = timedelta(minutes=10)
    batch: int = 50
    poll_s: float = 1.0

    @property
    def max_attempts(self) -> int:
        return len(self.backoff) + 1


@dataclass(frozen=True)
class Claimed:
    """A message this worker claimed for one attempt."""

    id: str
    to: str
    body: str
    ref: str | None
    attempts: int


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        gateway: SmsGateway,
        clock: Clock,
        bus: EventBus,
        policy: OutboxPolicy | None = None,
    ) -> None:
        self.db = db
        self.gateway = gateway
        self.clock = clock
        self.bus = bus
        self.policy = policy or OutboxPolicy()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look at the queue now instead of at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        await self.requeue_abandoned()
        self._task = asyncio.create_task(self._loop(), name="sms-outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.gateway.close()

    async def requeue_abandoned(self) -> int:
        async with self.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="queued")
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def _loop(self) -> None:
        while True:
            try:
                while await self.run_once():
                    pass
            except Exception:
                log.exception("outbox worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.policy.poll_s)
            self._wake.clear()

    async def run_once(self) -> int:
        """Send every message due now (one batch); return how many were handled."""
        now = self.clock.now()
        claimed = await self._claim(now)
        for message in claimed:
            await self._deliver(message)
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claimed]:
        async with self.db.transaction() as session:
            due = await session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.to,
                    OutboxMessage.body,
                    OutboxMessage.ref,
                    OutboxMessage.attempts,
                )
                .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at)
                .limit(self.policy.batch)
            )
            claimed = []
            for message_id, to, body, ref, attempts in due.all():
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
                    .values(status="sending", attempts=attempts + 1)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(Claimed(message_id, to, body, ref, attempts + 1))
        return claimed

    async def _deliver(self, message: Claimed) -> None:
        now = self.clock.now()
        if await self._over_rate_limit(message.to, now):
            await self._finish(
                message,
                status="queued",
                attempts_back=1,
                next_attempt_at=now + self.policy.per_number_window / 2,
                last_error="rate limited for this number",
            )
            return
        try:
            accepted = await self.gateway.send(message.to, message.body)
        except GatewayError as exc:
            await self._failed(message, str(exc), permanent=exc.permanent)
            return
        except Exception as exc:
            log.exception("gateway %s crashed on message %s", self.gateway.name, message.id)
            await self._failed(message, f"gateway error: {exc!r}", permanent=False)
            return
        await self._sent(message, accepted)

    async def _over_rate_limit(self, number: str, now: datetime) -> bool:
        async with self.db.sessions() as session:
            recent = await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.to == number,
                    OutboxMessage.status == "sent",
                    OutboxMessage.sent_at > now - self.policy.per_number_window,
                )
            )
        return (recent or 0) >= self.policy.per_number_limit

    async def _sent(self, message: Claimed, accepted: Accepted) -> None:
        await self._finish(
            message,
            status="sent",
            sent_at=self.clock.now(),
            gateway=self.gateway.name,
            gateway_message_id=accepted.message_id,
            last_error=None,
        )
        await self.bus.publish(SmsSent(message.id, message.to, message.ref))

    async def _failed(self, message: Claimed, error: str, *, permanent: bool) -> None:
        if permanent or message.attempts >= self.policy.max_attempts:
            await self._finish(
                message, status="failed", last_error=error[:500], gateway=self.gateway.name
            )
            await self.bus.publish(SmsFailed(message.id, message.to, message.ref, error))
            return
        delay = self.policy.backoff[message.attempts - 1]
        await self._finish(
            message,
            status="queued",
            last_error=error[:500],
            next_attempt_at=self.clock.now() + delay,
        )

    async def _finish(self, message: Claimed, *, attempts_back: int = 0, **values: object) -> None:
        if attempts_back:
            values["attempts"] = OutboxMessage.attempts - attempts_back
        async with self.db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values)
            )
