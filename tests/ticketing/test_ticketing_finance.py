"""Finance: the agency's commission on each ticket it issues, the journal of income and
costs by category with profit per ticket, blank ticket and insurance stock consumed by
issues with a low alert, and SMS reminders of credit falling due."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.ticketing.helpers import Line, booking
from tests.ticketing.test_ticketing_refunds import DEPARTS, PRICE, ledger_matches_orders
from tests.webclient import bearer
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.ticketing.deposits import DepositService
from ticketline.ticketing.errors import StockExhausted
from ticketline.ticketing.events import StockLow
from ticketline.ticketing.schemas import ChangeIn, ChangeQuoteIn, PaymentIn, RefundIn

FINANCE = Actor(id=None, name="finance")
TODAY = date(2026, 11, 22)  # the test clock's local day
COMMISSION = PRICE * 3 // 100 + 100  # 3 % and 1 yuan a ticket


async def _issued(app: Application, line: Line, count: int, **extra: object) -> str:
    await app.ticketing.install_defaults()
    booked = await app.ticketing.orders.book(SYSTEM, booking(line.trips[0], count, **extra))
    code, total = booked.order.code, booked.order.total_fen
    pay = PaymentIn(amount_fen=total, method="cash", key=f"pay-{code}")
    await app.ticketing.payments.pay(SYSTEM, code, pay)
    await app.ticketing.orders.issue(SYSTEM, code)
    return code


async def _policies(app: Application) -> None:
    finance = app.ticketing.finance
    await finance.set_policy(FINANCE, None, "rail", 10, 0)  # the default: 1 %
    await finance.set_policy(FINANCE, "crh", "rail", 30, 100)  # this carrier's own
    await finance.set_policy(FINANCE, None, "insurance", 200, 0)  # 20 % of the premium


async def _on_deposit_with_commission(app: Application) -> DepositService:
    """The policies above, and the line's carrier on deposit with 5,000 yuan."""
    await _policies(app)
    await app.ticketing.install_defaults()
    deposits = app.ticketing.deposits
    await deposits.open_or_set(FINANCE, "crh", 0)
    await deposits.top_up(FINANCE, "crh", 500_000, None)
    return deposits


def _totals(report: list[object]) -> dict[str, int]:
    return {t.code: t.amount_fen for t in report if t.amount_fen}  # type: ignore[attr-defined]


async def test_issuing_books_sales_costs_and_the_commission_as_profit(
    application: Application, line: Line
) -> None:
    deposits = await _on_deposit_with_commission(application)
    code = await _issued(application, line, 2, insurance=True)

    report = await application.ticketing.finance.report(TODAY, TODAY)
    assert _totals(report) == {
        "ticket_sales": 2 * PRICE,
        "carrier_cost": 2 * (PRICE - COMMISSION),
        "insurance": 600,
        "insurance_cost": 480,
    }
    profits = await application.ticketing.finance.ticket_profits(TODAY, TODAY)
    assert [(p.code, p.operator, p.profit_fen) for p in profits] == [
        (code, "crh", COMMISSION + 60),
        (code, "crh", COMMISSION + 60),
    ]
    assert profits[0].income_fen == PRICE + 300
    [account] = await deposits.accounts()
    assert account.balance_fen == 500_000 - 2 * (PRICE - COMMISSION)  # the carrier's share


async def test_a_refund_reverses_the_sale_and_the_carrier_keeps_its_fee(
    application: Application, line: Line, clock: FixedClock
) -> None:
    deposits = await _on_deposit_with_commission(application)
    code = await _issued(application, line, 2)
    first = (await application.ticketing.orders.view(code)).tickets[0].id
    clock.set(DEPARTS - timedelta(hours=30))  # a 10 % fee
    quote = await application.ticketing.refunds.quote(code, [first])
    refund = RefundIn(
        ticket_ids=[first], expected_refund_fen=quote.refund_fen, method="cash", key="rf-fin-1"
    )
    await application.ticketing.refunds.refund(SYSTEM, code, refund)

    fee = quote.fee_fen
    assert fee == 5900
    report = await application.ticketing.finance.report(TODAY - timedelta(days=1), TODAY)
    assert _totals(report) == {
        "ticket_sales": PRICE,
        "fees": fee,
        "carrier_cost": PRICE - COMMISSION + fee,
    }
    profits = {
        p.ticket_id: p.profit_fen
        for p in await application.ticketing.finance.ticket_profits(TODAY, TODAY)
    }
    assert profits[first] == 0  # the commission is lost with the refund
    assert sorted(profits.values()) == [0, COMMISSION]
    [account] = await deposits.accounts()
    assert account.balance_fen == 500_000 - (PRICE - COMMISSION) - fee
    await ledger_matches_orders(application)


async def test_issues_consume_blank_tickets_and_refuse_when_none_are_left(
    application: Application, line: Line
) -> None:
    stock = application.ticketing.stock
    alerts: list[StockLow] = []

    async def seen(event: StockLow) -> None:
        alerts.append(event)

    application.bus.subscribe(StockLow, seen)
    await stock.create(FINANCE, "crh-blank", "blank_ticket", "crh", "铁路空白票", alert_below=3)
    received = await stock.receive(FINANCE, "crh-blank", 4, "E000101", "E000104")
    assert (received.on_hand, received.low) == (4, False)

    await _issued(application, line, 2)
    [item] = await stock.items()
    assert (item.on_hand, item.low) == (2, True)
    assert alerts == [StockLow("crh-blank", 2, 3)]

    booked = await application.ticketing.orders.book(
        SYSTEM, booking(line.trips[1], 3, on_credit=True, credit_due="2026-11-30")
    )
    with pytest.raises(StockExhausted, match="crh-blank"):
        await application.ticketing.orders.issue(SYSTEM, booked.order.code)
    assert (await application.ticketing.orders.view(booked.order.code)).state == "booked"
    sales = _totals(await application.ticketing.finance.report(TODAY, TODAY))["ticket_sales"]
    assert sales == 2 * PRICE  # nothing of the refused issue was booked

    await stock.count(FINANCE, "crh-blank", 3, "a pack found in the safe")
    await application.ticketing.orders.issue(SYSTEM, booked.order.code)
    moves = await stock.movements("crh-blank")
    assert [(m.kind, m.quantity, m.on_hand_after) for m in moves] == [
        ("consumed", -3, 0),
        ("counted", 1, 3),
        ("consumed", -2, 2),
        ("received", 4, 4),
    ]
    assert (moves[-1].serial_from, moves[-1].serial_to) == ("E000101", "E000104")


async def test_stock_input_is_checked(application: Application, line: Line) -> None:
    stock = application.ticketing.stock
    with pytest.raises(InvalidInput, match="operator"):
        await stock.create(FINANCE, "blank", "blank_ticket", None, "空白票", 0)
    await stock.create(FINANCE, "ins", "insurance", None, "保险单", 0)
    with pytest.raises(InvalidInput, match="quantity"):
        await stock.receive(FINANCE, "ins", 0, None, None)
    with pytest.raises(InvalidInput, match="serial_to"):
        await stock.receive(FINANCE, "ins", 10, "P1", None)
    with pytest.raises(InvalidInput, match="note"):
        await stock.count(FINANCE, "ins", 5, " ")
    assert (await stock.items())[0].on_hand == 0


async def test_two_first_writes_of_a_default_commission_leave_one_default(
    application: Application,
) -> None:
    finance = application.ticketing.finance
    await asyncio.gather(
        finance.set_policy(FINANCE, None, "coach", 10, 0),
        finance.set_policy(FINANCE, None, "coach", 20, 0),
    )
    defaults = [p for p, operator in await finance.policies() if p.product == "coach"]
    assert len(defaults) == 1
    assert defaults[0].percent in (10, 20)


async def _reminders(app: Application, code: str) -> list[Any]:
    return [sms for sms in await app.notify.outbox(ref=code) if "尚欠" in sms.body]


async def test_credit_due_soon_is_reminded_once_by_sms(
    application: Application, line: Line
) -> None:
    await application.ticketing.install_defaults()
    await application.notify.install_default_templates()
    orders = application.ticketing.orders

    async def on_credit(trip: int, due: date) -> str:
        made = await orders.book(
            SYSTEM, booking(line.trips[trip], 1, on_credit=True, credit_due=due.isoformat())
        )
        return made.order.code

    soon = await on_credit(0, TODAY + timedelta(days=2))
    later = await on_credit(1, TODAY + timedelta(days=5))
    settled = await on_credit(2, TODAY + timedelta(days=1))
    total = (await orders.view(settled)).total_fen
    pay = PaymentIn(amount_fen=total, method="transfer", key="settle-credit")
    await application.ticketing.payments.pay(SYSTEM, settled, pay)

    assert await application.ticketing.payments.remind_credit_due() == 1
    [sms] = await _reminders(application, soon)
    assert "尚欠590.00元" in sms.body
    assert "2026-11-24" in sms.body
    assert await _reminders(application, later) == []
    assert await _reminders(application, settled) == []
    assert await application.ticketing.payments.remind_credit_due() == 0  # once only


async def test_finance_reports_and_manual_entries_over_http(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    agent = await bearer(client, "agent1")
    base = "/api/ticketing/finance"
    day = TODAY.isoformat()
    refused = await client.get(f"{base}/report", params={"from": day, "to": day}, headers=agent)
    assert refused.status_code == 403
    rent = {"code": "rent", "kind": "cost", "name_zh": "房租", "name_en": "Rent"}
    assert (await client.post(f"{base}/categories", json=rent, headers=admin)).status_code == 201
    again = await client.post(f"{base}/categories", json=rent, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "catalog_code_taken")
    booked = {"category": "ticket_sales", "amount_fen": 100, "day": day}
    by_hand = await client.post(f"{base}/entries", json=booked, headers=admin)
    assert by_hand.status_code == 422
    assert "category" in by_hand.text
    paid = {"category": "rent", "amount_fen": 300000, "day": day, "note": "12月房租"}
    assert (await client.post(f"{base}/entries", json=paid, headers=admin)).status_code == 201
    report = await client.get(f"{base}/report", params={"from": day, "to": day}, headers=admin)
    body = report.json()
    [line] = [c for c in body["categories"] if c["code"] == "rent"]
    assert (line["amount_fen"], line["name_zh"]) == (300000, "房租")
    assert body["profit_fen"] == body["income_fen"] - body["cost_fen"]
    assert body["cost_fen"] >= 300000
    backwards = await client.get(f"{base}/report", params={"from": day, "to": "2020-01-01"},
                                 headers=admin)  # fmt: skip
    assert backwards.status_code == 422
    policy = {"operator": "cr", "product": "rail", "percent": 25, "fixed_fen": 0}
    set_policy = await client.put(f"{base}/commissions", json=policy, headers=admin)
    assert set_policy.status_code == 200, set_policy.text
    too_much = {**policy, "percent": 1001}
    assert (
        await client.put(f"{base}/commissions", json=too_much, headers=admin)
    ).status_code == 422
    listed = await client.get(f"{base}/commissions", headers=admin)
    mine = [p for p in listed.json() if (p["operator"], p["product"]) == ("cr", "rail")]
    assert [p["percent"] for p in mine] == [25]


async def test_a_change_moves_the_sale_and_the_carrier_is_paid_the_difference_and_fee(
    application: Application, line: Line, clock: FixedClock
) -> None:
    deposits = await _on_deposit_with_commission(application)
    code = await _issued(application, line, 1)
    clock.set(DEPARTS - timedelta(hours=30))  # 5 % for a later date
    ask = ChangeQuoteIn(trip_id=line.trips[1], class_code="first")
    quote = await application.ticketing.changes.quote(code, ask)
    change = ChangeIn(
        **ask.model_dump(),
        expected_difference_fen=quote.difference_fen,
        method="cash",
        key="change-fin-1",
    )
    await application.ticketing.changes.change(SYSTEM, code, change)

    new_price, fee = quote.new_fen, quote.fee_fen
    new_commission = new_price * 3 // 100 + 100
    report = await application.ticketing.finance.report(TODAY - timedelta(days=1), TODAY)
    assert _totals(report) == {
        "ticket_sales": new_price,
        "fees": fee,
        "carrier_cost": new_price - new_commission + fee,
    }
    [account] = await deposits.accounts()
    assert account.balance_fen == 500_000 - (new_price - new_commission) - fee
    entries = await deposits.entries("crh")
    assert entries[0].kind == "change"
    assert entries[0].amount_fen == -(new_price - new_commission + fee - (PRICE - COMMISSION))
    await ledger_matches_orders(application)
