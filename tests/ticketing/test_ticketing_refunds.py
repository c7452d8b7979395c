"""Refunds, voids and changes: the published fee rules, quoted before confirming,
and a ledger that never creates or loses money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.ticketing.helpers import Line, booking
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.ticketing.errors import NotAllowedByRules, QuoteChanged
from ticketline.ticketing.order_models import FeeRule, LedgerEntry, Order
from ticketline.ticketing.rules import FeeRuleIn, FeeRuleSet, apply_rule
from ticketline.ticketing.schemas import ChangeIn, ChangeQuoteIn, PaymentIn, RefundIn

DEPARTS = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # G1 tomorrow, 08:00 Shanghai
PRICE = 59000  # BJP-SHH second class


async def paid_order(app: Application, line: Line, count: int = 1, trip: int = 0) -> str:
    await app.ticketing.install_defaults()
    booked = await app.ticketing.orders.book(SYSTEM, booking(line.trips[trip], count))
    pay = PaymentIn(
        amount_fen=booked.order.total_fen, method="card", key=f"pay-{booked.order.code}"
    )
    await app.ticketing.payments.pay(SYSTEM, booked.order.code, pay)
    return booked.order.code


async def ledger_matches_orders(app: Application) -> None:
    """Every fen in the ledger belongs to what orders still hold: no money made or lost."""
    async with app.db.sessions() as session:
        ledger = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)))
        totals = await session.scalar(
            select(func.coalesce(func.sum(Order.total_fen), 0)).where(
                Order.state.not_in(["cancelled", "expired"])
            )
        )
    assert ledger == totals


def rule(percent: int, min_fee: int = 200) -> FeeRule:
    return FeeRule(
        percent=percent,
        min_fee_fen=min_fee,
        round_fen=50,
        allowed=True,
        min_hours=0,
        max_hours=None,
    )


def test_fees_are_rounded_to_half_a_yuan_with_a_minimum() -> None:
    assert apply_rule(rule(50), 12650, 60).fee_fen == 650  # 5% of 126.50 = 6.325 -> 6.5
    assert apply_rule(rule(200), 12650, 10).fee_fen == 2550  # 20% = 25.30 -> 25.5
    assert apply_rule(rule(50), 1000, 60).fee_fen == 200  # 0.50 -> the 2-yuan minimum
    assert apply_rule(rule(0), 1000, 500).fee_fen == 0
    assert apply_rule(rule(50, 5000), 1000, 60).fee_fen == 1000  # never above the price
    assert not apply_rule(rule(50), 1000, -1).allowed


@pytest.mark.parametrize(
    ("hours_before", "fee"),
    [(24 * 9, 0), (72, 2950), (30, 5900), (5, 11800)],
)
async def test_rail_refund_fees_follow_time_before_departure(
    application: Application, line: Line, clock: FixedClock, hours_before: int, fee: int
) -> None:
    code = await paid_order(application, line, trip=2 if hours_before > 48 else 0)
    departs = DEPARTS + timedelta(days=2 if hours_before > 48 else 0)
    clock.set(departs - timedelta(hours=hours_before))
    quote = await application.ticketing.refund_rules(code)
    assert quote.allowed
    assert (quote.fee_fen, quote.refund_fen) == (fee, PRICE - fee)


async def test_a_refund_frees_the_seat_and_pays_back_exactly_the_quote(
    application: Application, line: Line, clock: FixedClock
) -> None:
    code = await paid_order(application, line, 2)
    clock.set(DEPARTS - timedelta(hours=30))
    quote = await application.ticketing.refunds.quote(code)
    one = quote.lines[0]
    with pytest.raises(QuoteChanged):
        await application.ticketing.refunds.refund(
            SYSTEM,
            code,
            RefundIn(
                ticket_ids=[one.ticket_id],
                expected_refund_fen=PRICE,
                method="card",
                key="refund-0001",
            ),
        )
    done = await application.ticketing.refunds.refund(
        SYSTEM,
        code,
        RefundIn(
            ticket_ids=[one.ticket_id],
            expected_refund_fen=one.refund_fen,
            method="card",
            key="refund-0001",
        ),
    )
    assert done.state == "paid"  # one ticket still travels
    assert done.total_fen == 2 * PRICE - one.refund_fen
    assert done.balance_fen == 0
    left = await application.ticketing.seats_left(line.trips[0], "BJP", "SHH")
    assert left["second"] == 19
    rest = await application.ticketing.refunds.quote(code)
    final = await application.ticketing.refunds.refund(
        SYSTEM,
        code,
        RefundIn(expected_refund_fen=rest.refund_fen, method="card", key="refund-0002"),
    )
    assert final.state == "refunded"
    assert final.paid_fen == 2 * 5900  # the two 10% fees stay
    await ledger_matches_orders(application)


async def test_no_refund_after_departure(
    application: Application, line: Line, clock: FixedClock
) -> None:
    code = await paid_order(application, line)
    clock.set(DEPARTS + timedelta(minutes=5))
    quote = await application.ticketing.refund_rules(code)
    assert not quote.allowed
    with pytest.raises(NotAllowedByRules):
        await application.ticketing.refunds.refund(
            SYSTEM, code, RefundIn(expected_refund_fen=0, method="cash", key="refund-0003")
        )


async def test_an_unpaid_order_is_cancelled_not_refunded(
    application: Application, line: Line
) -> None:
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    with pytest.raises(NotAllowedByRules):
        await application.ticketing.refunds.refund(
            SYSTEM,
            booked.order.code,
            RefundIn(expected_refund_fen=PRICE, method="cash", key="refund-0004"),
        )


async def test_a_same_day_void_returns_everything(application: Application, line: Line) -> None:
    code = await paid_order(application, line, 2)
    voided = await application.ticketing.refunds.void(SYSTEM, code, "card", "void-000001")
    assert voided.state == "void"
    assert voided.paid_fen == 0
    assert (await application.ticketing.seats_left(line.trips[0], "BJP", "SHH"))["second"] == 20
    await ledger_matches_orders(application)


async def test_a_change_to_a_later_date_charges_the_fee_and_moves_the_seat(
    application: Application, line: Line, clock: FixedClock
) -> None:
    code = await paid_order(application, line, 1)
    clock.set(DEPARTS - timedelta(hours=30))  # 24-48 h: 5% for a later date
    ask = ChangeQuoteIn(trip_id=line.trips[1], class_code="first")
    quote = await application.ticketing.changes.quote(code, ask)
    first_price = 500 + 75 * 1300  # 980 yuan
    assert (quote.old_fen, quote.new_fen, quote.fee_fen) == (PRICE, first_price, 2950)
    assert quote.difference_fen == first_price + 2950 - PRICE
    changed = await application.ticketing.changes.change(
        SYSTEM,
        code,
        ChangeIn(
            **ask.model_dump(),
            expected_difference_fen=quote.difference_fen,
            method="cash",
            key="change-0001",
        ),
    )
    assert changed.state == "changed"
    assert changed.balance_fen == 0
    active = [t for t in changed.tickets if t.status == "active"]
    assert [(t.class_code, t.service_date.day) for t in active] == [("first", 24)]
    assert (await application.ticketing.seats_left(line.trips[0], "BJP", "SHH"))["second"] == 20
    assert (await application.ticketing.seats_left(line.trips[1], "BJP", "SHH"))["first"] == 3
    await ledger_matches_orders(application)


async def test_a_cheaper_change_on_the_same_day_refunds_the_difference(
    application: Application, line: Line, clock: FixedClock
) -> None:
    code = await paid_order(application, line, 1)
    clock.set(DEPARTS - timedelta(hours=5))
    ask = ChangeQuoteIn(trip_id=line.trips[0], class_code="first")
    quote = await application.ticketing.change_rules(code, line.trips[0], "first")
    assert quote.fee_fen == 0
    await application.ticketing.changes.change(
        SYSTEM,
        code,
        ChangeIn(
            **ask.model_dump(),
            expected_difference_fen=quote.difference_fen,
            method="cash",
            key="change-0002",
        ),
    )
    back = ChangeQuoteIn(trip_id=line.trips[0], class_code="second")
    down = await application.ticketing.changes.quote(code, back)
    assert down.difference_fen == PRICE - (500 + 75 * 1300)
    result = await application.ticketing.changes.change(
        SYSTEM,
        code,
        ChangeIn(
            **back.model_dump(),
            expected_difference_fen=down.difference_fen,
            method="cash",
            key="change-0003",
        ),
    )
    assert result.total_fen == PRICE
    assert [p.kind for p in result.payments] == ["payment", "payment", "refund"]
    await ledger_matches_orders(application)


async def test_operators_edit_the_rules_and_bad_windows_are_refused(
    application: Application, line: Line, clock: FixedClock
) -> None:
    code = await paid_order(application, line)
    clock.set(DEPARTS - timedelta(hours=30))
    new = FeeRuleSet(
        product="rail",
        action="refund",
        rules=[
            FeeRuleIn(min_hours=0, max_hours=12, percent_tenths=500),
            FeeRuleIn(min_hours=12, percent_tenths=10, min_fee_fen=0),
        ],
    )
    await application.ticketing.replace_fee_rules(SYSTEM, new)
    assert (await application.ticketing.refund_rules(code)).fee_fen == 600  # 1% -> 5.90 -> 6
    gap = FeeRuleSet(
        product="rail",
        action="refund",
        rules=[
            FeeRuleIn(min_hours=0, max_hours=12, percent_tenths=500),
            FeeRuleIn(min_hours=24, percent_tenths=10),
        ],
    )
    with pytest.raises(InvalidInput) as refused:
        await application.ticketing.replace_fee_rules(SYSTEM, gap)
    assert refused.value.details["field"] == "rules.0.max_hours"
