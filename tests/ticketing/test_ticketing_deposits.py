"""Carrier deposits: finance tops up the account kept with a carrier, issuing that
carrier's tickets draws on it, an issue it cannot cover is refused whole, and a low
balance raises an alert. Concurrent issues never overdraw it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.ticketing.helpers import Line, booking
from tests.ticketing.test_ticketing_refunds import DEPARTS, paid_order
from tests.webclient import bearer
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.ticketing.errors import CatalogNotFound, DepositInsufficient
from ticketline.ticketing.events import DepositLow
from ticketline.ticketing.schemas import RefundIn

FINANCE = Actor(id=None, name="finance")


async def _credit_order(app: Application, line: Line, seats: int = 1) -> tuple[str, int]:
    booked = await app.ticketing.orders.book(
        SYSTEM, booking(line.trips[0], seats, on_credit=True, credit_due="2026-11-30")
    )
    return booked.order.code, booked.order.total_fen


async def test_issuing_draws_on_the_deposit_and_warns_when_low(
    application: Application, line: Line
) -> None:
    deposits = application.ticketing.deposits
    alerts: list[DepositLow] = []

    async def seen(event: DepositLow) -> None:
        alerts.append(event)

    application.bus.subscribe(DepositLow, seen)
    code, total = await _credit_order(application, line)
    await deposits.open_or_set(FINANCE, "crh", alert_below_fen=total)
    await deposits.top_up(FINANCE, "crh", total + 5000, "bank transfer 0042")

    issued = await application.ticketing.orders.issue(SYSTEM, code)
    assert issued.state == "issued"
    [account] = await deposits.accounts()
    assert (account.operator, account.balance_fen, account.low) == ("crh", 5000, True)
    assert alerts == [DepositLow("crh", 5000, total)]
    entries = await deposits.entries("crh")
    assert [(e.kind, e.amount_fen, e.balance_after_fen) for e in entries] == [
        ("issue", -total, 5000),
        ("top_up", total + 5000, total + 5000),
    ]
    assert [e.reference for e in entries] == [None, "bank transfer 0042"]


async def test_an_issue_the_deposit_cannot_cover_is_refused_whole(
    application: Application, line: Line
) -> None:
    deposits = application.ticketing.deposits
    code, total = await _credit_order(application, line, seats=2)
    await deposits.open_or_set(FINANCE, "crh", alert_below_fen=0)
    await deposits.top_up(FINANCE, "crh", total - 1, None)
    with pytest.raises(DepositInsufficient) as refused:
        await application.ticketing.orders.issue(SYSTEM, code)
    assert refused.value.details == {"operator": "crh", "needed_fen": total}
    assert (await application.ticketing.orders.view(code)).state == "booked"
    [account] = await deposits.accounts()
    assert account.balance_fen == total - 1
    assert [e.kind for e in await deposits.entries("crh")] == ["top_up"]
    await deposits.top_up(FINANCE, "crh", 1, None)
    assert (await application.ticketing.orders.issue(SYSTEM, code)).state == "issued"
    assert (await deposits.accounts())[0].balance_fen == 0


async def test_concurrent_issues_never_overdraw(application: Application, line: Line) -> None:
    deposits = application.ticketing.deposits
    orders = [await _credit_order(application, line) for _ in range(4)]
    await deposits.open_or_set(FINANCE, "crh", alert_below_fen=0)
    await deposits.top_up(FINANCE, "crh", sum(t for _, t in orders[:2]), None)
    results = await asyncio.gather(
        *(application.ticketing.orders.issue(SYSTEM, c) for c, _ in orders),
        return_exceptions=True,
    )
    issued = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, DepositInsufficient)]
    assert (len(issued), len(refused)) == (2, 2)
    assert (await deposits.accounts())[0].balance_fen == 0


async def test_carriers_not_on_deposit_issue_freely_and_bad_input_is_refused(
    application: Application, line: Line
) -> None:
    deposits = application.ticketing.deposits
    code, _ = await _credit_order(application, line)
    assert (await application.ticketing.orders.issue(SYSTEM, code)).state == "issued"
    assert await deposits.accounts() == []
    with pytest.raises(CatalogNotFound):
        await deposits.top_up(FINANCE, "crh", 100, None)  # not on deposit yet
    with pytest.raises(CatalogNotFound):
        await deposits.open_or_set(FINANCE, "nobody", 0)
    await deposits.open_or_set(FINANCE, "crh", 0)
    with pytest.raises(InvalidInput, match="amount_fen"):
        await deposits.top_up(FINANCE, "crh", -100, None)
    with pytest.raises(InvalidInput, match="alert_below_fen"):
        await deposits.open_or_set(FINANCE, "crh", -1)


async def test_finance_manages_deposits_over_http(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    agent = await bearer(client, "agent1")
    operator = "jjkd"  # the demo's coach company, not on deposit
    url = f"/api/ticketing/finance/deposits/{operator}"
    refused = await client.put(url, json={"alert_below_fen": 100000}, headers=agent)
    assert refused.status_code == 403
    opened = await client.put(url, json={"alert_below_fen": 100000}, headers=admin)
    assert opened.status_code == 200, opened.text
    assert opened.json()["low"] is True
    topped = await client.post(
        f"{url}/top-ups", json={"amount_fen": 500000, "reference": "TT-1"}, headers=admin
    )
    assert (topped.json()["balance_fen"], topped.json()["low"]) == (500000, False)
    negative = await client.post(f"{url}/top-ups", json={"amount_fen": -5}, headers=admin)
    assert negative.status_code == 422
    listed = await client.get("/api/ticketing/finance/deposits", headers=admin)
    assert (operator, 500000) in [(d["operator"], d["balance_fen"]) for d in listed.json()]
    entries = await client.get(f"{url}/entries", headers=admin)
    assert [(e["kind"], e["reference"]) for e in entries.json()] == [("top_up", "TT-1")]


async def test_a_refund_gives_back_what_the_passenger_gets_and_no_more(
    application: Application, line: Line, clock: FixedClock
) -> None:
    deposits = application.ticketing.deposits
    code = await paid_order(application, line, 2)
    await deposits.open_or_set(FINANCE, "crh", alert_below_fen=0)
    await deposits.top_up(FINANCE, "crh", 500_000, None)
    await application.ticketing.orders.issue(SYSTEM, code)
    drawn = 500_000 - (await deposits.accounts())[0].balance_fen
    assert drawn > 0
    clock.set(DEPARTS - timedelta(hours=30))  # a 10% fee
    quote = await application.ticketing.refunds.quote(code)
    await application.ticketing.refunds.refund(
        SYSTEM,
        code,
        RefundIn(expected_refund_fen=quote.refund_fen, method="card", key="refund-dep-1"),
    )
    [account] = await deposits.accounts()
    assert account.balance_fen == 500_000 - drawn + quote.refund_fen  # the carrier keeps its fee
    kinds = [(e.kind, e.amount_fen) for e in await deposits.entries("crh")]
    assert kinds[0] == ("refund", quote.refund_fen)
    assert quote.fee_fen > 0
