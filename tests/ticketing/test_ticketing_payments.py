"""Payments: instalments, idempotent keys, no overpayment, credit lists, settlement."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from tests.ticketing.helpers import Line, booking
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.ticketing.errors import PaymentRejected
from ticketline.ticketing.order_models import LedgerEntry
from ticketline.ticketing.schemas import PaymentIn

AGENT = Actor(id=None, name="agent1")


async def ledger_total(app: Application) -> int:
    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.sum(LedgerEntry.amount_fen))) or 0)


async def test_instalments_add_up_and_the_last_one_pays_the_order(
    application: Application, line: Line
) -> None:
    payments = application.ticketing.payments
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    code, total = booked.order.code, booked.order.total_fen
    first = await payments.pay(
        AGENT, code, PaymentIn(amount_fen=20000, method="cash", key="k-000001")
    )
    assert (first.state, first.balance_fen) == ("booked", total - 20000)
    with pytest.raises(PaymentRejected) as overpay:
        await payments.pay(AGENT, code, PaymentIn(amount_fen=total, method="card", key="k-000002"))
    assert overpay.value.details["due_fen"] == total - 20000
    rest = PaymentIn(amount_fen=total - 20000, method="card", key="k-000003")
    paid = await payments.pay(AGENT, code, rest)
    assert (paid.state, paid.balance_fen, paid.expires_at) == ("paid", 0, None)
    assert [p.method for p in paid.payments] == ["cash", "card"]
    assert await ledger_total(application) == total


async def test_the_same_payment_key_twice_takes_the_money_once(
    application: Application, line: Line
) -> None:
    payments = application.ticketing.payments
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    pay = PaymentIn(amount_fen=5000, method="online", key="gateway-tx-42")
    results = await asyncio.gather(
        *(payments.pay(AGENT, booked.order.code, pay) for _ in range(5)), return_exceptions=True
    )
    assert all(not isinstance(r, BaseException) for r in results), results
    assert await ledger_total(application) == 5000
    other = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    with pytest.raises(PaymentRejected) as reused:
        await payments.pay(AGENT, other.order.code, pay)
    assert reused.value.details["field"] == "key"


def test_negative_or_zero_amounts_are_refused_at_the_boundary() -> None:
    for amount in (0, -100):
        with pytest.raises(ValidationError, match="amount_fen"):
            PaymentIn(amount_fen=amount, method="cash", key="k-000009")
    with pytest.raises(ValidationError, match="method"):
        PaymentIn.model_validate({"amount_fen": 100, "method": "barter", "key": "k-000010"})


async def test_an_expired_booking_takes_no_money(
    application: Application, line: Line, clock: FixedClock
) -> None:
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    clock.advance(timedelta(hours=25))
    with pytest.raises(PaymentRejected, match="expired"):
        await application.ticketing.payments.pay(
            AGENT, booked.order.code, PaymentIn(amount_fen=100, method="cash", key="k-000011")
        )
    assert await ledger_total(application) == 0


async def test_credit_orders_are_issued_unpaid_and_listed_when_overdue(
    application: Application, line: Line, clock: FixedClock
) -> None:
    due = date(2026, 11, 30)
    booked = await application.ticketing.orders.book(
        SYSTEM, booking(line.trips[0], 2, on_credit=True, credit_due=due.isoformat())
    )
    assert booked.order.expires_at is None
    issued = await application.ticketing.orders.issue(SYSTEM, booked.order.code)
    assert issued.state == "issued"
    payments = application.ticketing.payments
    assert await payments.overdue() == []
    soon = await payments.credit_owed(due_before=due + timedelta(days=1))
    assert [(c.code, c.owed_fen) for c in soon] == [(booked.order.code, booked.order.total_fen)]
    clock.advance(timedelta(days=9))
    late = await payments.overdue()
    assert [c.code for c in late] == [booked.order.code]
    await payments.pay(
        AGENT,
        booked.order.code,
        PaymentIn(amount_fen=booked.order.total_fen, method="transfer", key="k-000012"),
    )
    assert await payments.overdue() == []
    assert (await application.ticketing.order_status(booked.order.code)).state == "issued"


async def test_daily_settlement_per_agent_and_method(application: Application, line: Line) -> None:
    payments = application.ticketing.payments
    orders = [
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0])) for _ in range(2)
    ]
    await payments.pay(
        AGENT, orders[0].order.code, PaymentIn(amount_fen=100, method="cash", key="s-000001")
    )
    await payments.pay(
        AGENT, orders[1].order.code, PaymentIn(amount_fen=250, method="cash", key="s-000002")
    )
    await payments.pay(
        SYSTEM, orders[1].order.code, PaymentIn(amount_fen=50, method="card", key="s-000003")
    )
    lines = await payments.settlement(date(2026, 11, 22))
    assert [(s.actor, s.method, s.payments_fen, s.count) for s in lines] == [
        ("agent1", "cash", 350, 2),
        ("system", "card", 50, 1),
    ]
    assert await payments.settlement(date(2026, 11, 21)) == []
