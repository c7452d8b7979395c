"""The SMS outbox: templates rendered, messages sent, retried, limited, never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.notify.errors import GatewayError, TemplateInvalid, TemplateNotFound
from ticketline.notify.events import SmsFailed, SmsSent
from ticketline.notify.gateways import Accepted
from ticketline.notify.models import OutboxMessage
from ticketline.notify.templates import render
from ticketline.notify.worker import OutboxPolicy, OutboxWorker

VALUES = {
    "company": "长途客运",
    "trip": "11月23日 08:30 上海南→杭州",
    "booking_code": "K7M2QX",
    "pickup_code": "48213907",
    "pickup_place": "上海南站售票厅",
    "pickup_deadline": "11月23日 08:00",
}


class ScriptedGateway:
    """Stands in for a gateway in unit tests of the retry logic (pure bookkeeping)."""

    name = "scripted"

    def __init__(self, failures: list[GatewayError | None]) -> None:
        self.failures = failures
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: str, body: str) -> Accepted:
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        self.sent.append((to, body))
        return Accepted(message_id=f"m{len(self.sent)}")

    async def close(self) -> None:
        return None


def worker(app: Application, gateway: ScriptedGateway, **policy: object) -> OutboxWorker:
    return OutboxWorker(app.db, gateway, app.clock, app.bus, OutboxPolicy(**policy))  # type: ignore[arg-type]


async def message(app: Application, message_id: str) -> OutboxMessage:
    async with app.db.sessions() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == message_id))
    assert found is not None
    return found


def test_templates_refuse_missing_values_by_name() -> None:
    with pytest.raises(TemplateInvalid, match="missing pickup_code"):
        render("取票密码{pickup_code}", {})
    with pytest.raises(TemplateInvalid, match="malformed"):
        render("取票密码{pickup_code", {"pickup_code": "1"})
    assert render("码{code}", {"code": 7}) == "码7"


async def test_a_booking_sms_is_rendered_queued_and_sent(application: Application) -> None:
    await application.notify.install_default_templates()
    queued = await application.notify.queue_sms("13800138000", "order.booked", VALUES, ref="o1")
    assert queued.to == "+8613800138000"
    assert "取票密码48213907" in queued.body
    sent_events: list[SmsSent] = []

    async def on_sent(event: SmsSent) -> None:
        sent_events.append(event)

    application.bus.subscribe(SmsSent, on_sent)
    gateway = ScriptedGateway([])
    assert await worker(application, gateway).run_once() == 1
    assert gateway.sent == [("+8613800138000", queued.body)]
    stored = await message(application, queued.id)
    assert (stored.status, stored.attempts, stored.gateway_message_id) == ("sent", 1, "m1")
    assert sent_events == [SmsSent(queued.id, "+8613800138000", "o1")]


async def test_failures_are_retried_with_backoff_then_given_up(
    application: Application, clock: FixedClock
) -> None:
    await application.notify.install_default_templates()
    queued = await application.notify.queue_sms("13800138000", "pickup.resend", VALUES)
    gateway = ScriptedGateway([GatewayError("down")] * 3)
    failed: list[SmsFailed] = []

    async def on_failed(event: SmsFailed) -> None:
        failed.append(event)

    application.bus.subscribe(SmsFailed, on_failed)
    w = worker(application, gateway, backoff=(timedelta(seconds=5), timedelta(seconds=30)))
    assert await w.run_once() == 1
    assert await w.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=5))
    assert await w.run_once() == 1
    stored = await message(application, queued.id)
    assert (stored.status, stored.attempts) == ("queued", 2)
    assert stored.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=30))
    await w.run_once()
    stored = await message(application, queued.id)
    assert (stored.status, stored.last_error) == ("failed", "down")
    assert [f.message_id for f in failed] == [queued.id]
    assert gateway.sent == []


async def test_a_permanent_refusal_is_not_retried(application: Application) -> None:
    await application.notify.install_default_templates()
    queued = await application.notify.queue_sms("13800138000", "pickup.resend", VALUES)
    await worker(
        application, ScriptedGateway([GatewayError("bad number", permanent=True)])
    ).run_once()
    assert (await message(application, queued.id)).status == "failed"


async def test_one_number_gets_at_most_the_limit_then_waits(
    application: Application, clock: FixedClock
) -> None:
    await application.notify.install_default_templates()
    for _ in range(4):
        await application.notify.queue_sms("13800138000", "pickup.resend", VALUES)
    gateway = ScriptedGateway([])
    w = worker(application, gateway, per_number_limit=3, batch=10)
    await w.run_once()
    assert len(gateway.sent) == 3
    clock.advance(timedelta(minutes=10, seconds=1))
    await w.run_once()
    assert len(gateway.sent) == 4


async def test_messages_claimed_by_a_dead_worker_are_sent_after_restart(
    application: Application,
) -> None:
    await application.notify.install_default_templates()
    queued = await application.notify.queue_sms("13800138000", "pickup.resend", VALUES)
    async with application.db.transaction() as session:
        stored = await session.get(OutboxMessage, queued.id)
        assert stored is not None
        stored.status = "sending"  # the process died while sending
    gateway = ScriptedGateway([])
    w = worker(application, gateway)
    assert await w.requeue_abandoned() == 1
    await w.run_once()
    assert len(gateway.sent) == 1


@pytest.mark.parametrize("number", ["12345", "not a number", "+86 138 0013 800"])
async def test_bad_numbers_and_unknown_templates_are_refused(
    application: Application, number: str
) -> None:
    await application.notify.install_default_templates()
    with pytest.raises(InvalidInput, match="to: "):
        await application.notify.queue_sms(number, "pickup.resend", VALUES)
    with pytest.raises(TemplateNotFound):
        await application.notify.queue_sms("13800138000", "no.such", VALUES)
    assert await application.notify.outbox() == []
