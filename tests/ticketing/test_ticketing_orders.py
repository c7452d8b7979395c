"""Orders: booking all-or-nothing, holds that expire, pickup codes, cancellation, SMS."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.ticketing.helpers import Line, booking, resident_id
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import IllegalTransition, InvalidInput, TicketlineError
from ticketline.core.ids import HUMAN_ALPHABET
from ticketline.ticketing.errors import (
    HoldExpired,
    PickupCodeWrong,
    PickupLocked,
    SeatsUnavailable,
    TicketNotUsable,
)
from ticketline.ticketing.identity import mainland_id_problem
from ticketline.ticketing.order_models import Order
from ticketline.ticketing.schemas import PaymentIn
from ticketline.ticketing.states import next_state


async def seats_left(app: Application, line: Line) -> int:
    return (await app.ticketing.seats_left(line.trips[0], "BJP", "SHH"))["second"]


async def test_a_booking_seats_the_party_together_and_texts_the_codes(
    application: Application, line: Line
) -> None:
    await application.notify.install_default_templates()
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    order = booked.order
    assert order.state == "booked"
    assert len(order.code) == 6
    assert set(order.code) <= set(HUMAN_ALPHABET)
    assert len(booked.pickup_code) == 8
    assert booked.pickup_code.isdigit()
    # 5 yuan + 0.45 yuan/km x 1300 km = 590 yuan each.
    assert [t.price_fen for t in order.tickets] == [59000, 59000]
    assert order.total_fen == order.balance_fen == 118000
    assert len({t.seat_no[:4] for t in order.tickets}) == 1  # one row
    assert order.tickets[0].id_number.startswith("110105")
    assert "*" in order.tickets[0].id_number
    assert order.contact_phone == "+8613800138000"
    assert await seats_left(application, line) == 18
    sms = await application.notify.outbox(ref=order.code)
    assert len(sms) == 1
    assert order.code in sms[0].body
    assert booked.pickup_code in sms[0].body
    assert "北京南-上海虹桥" in sms[0].body
    async with application.db.sessions() as session:
        stored = await session.scalar(select(Order.pickup_hash))
    assert booked.pickup_code not in str(stored)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_phone": "12345"}, "contact_phone"),
        (
            {
                "passengers": [
                    {"name": "x", "id_type": "id_card", "id_number": "110105199003071230"}
                ]
            },
            "passengers.0.id_number",
        ),
        (
            {"passengers": [{"name": "x", "id_type": "passport", "id_number": "E12-345"}]},
            "passengers.0.id_number",
        ),
        ({"to_station": "BJP", "from_station": "SHH"}, "to_station"),
        ({"on_credit": True}, "credit_due"),
    ],
)
async def test_bad_bookings_name_the_field_and_write_nothing(
    application: Application, line: Line, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(TicketlineError) as refused:
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], **changes))
    assert getattr(refused.value, "details", {}).get("field") == field
    async with application.db.sessions() as session:
        assert await session.scalar(select(func.count(Order.id))) == 0
    assert await seats_left(application, line) == 20


def test_resident_id_checks() -> None:
    assert mainland_id_problem("11010519491231002X") is None
    assert mainland_id_problem("110105194912310021") == "check digit does not match"
    assert mainland_id_problem("110105194902300021") == "has an impossible birth date"
    assert mainland_id_problem(resident_id("11010520991231002")) == "has an impossible birth date"
    assert mainland_id_problem("1101051949") is not None


async def test_a_party_larger_than_the_seats_left_gets_nothing(
    application: Application, line: Line
) -> None:
    for _ in range(6):
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 3))
    with pytest.raises(SeatsUnavailable):
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 3))
    assert await seats_left(application, line) == 2


async def test_holds_expire_and_their_seats_return(
    application: Application, line: Line, clock: FixedClock
) -> None:
    held = await application.ticketing.orders.book(
        SYSTEM, booking(line.trips[0], 3, hold_only=True)
    )
    assert held.order.state == "held"
    assert held.order.expires_at == clock.now() + timedelta(minutes=15)
    assert await application.notify.outbox(ref=held.order.code) == []  # no SMS for a hold
    clock.advance(timedelta(minutes=16))
    with pytest.raises(HoldExpired):
        await application.ticketing.orders.confirm(SYSTEM, held.order.code)
    assert await application.ticketing.expire_due() == 1
    view = await application.ticketing.order_status(held.order.code)
    assert view.state == "expired"
    assert [entry.action for entry in view.log] == ["create", "expire"]
    assert await seats_left(application, line) == 20


async def test_booking_releases_expired_holds_it_needs(
    application: Application, line: Line, clock: FixedClock
) -> None:
    for _ in range(6):
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 3, hold_only=True))
    await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    clock.advance(timedelta(minutes=20))
    again = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 3))
    assert again.order.state == "booked"


async def test_pickup_code_is_checked_in_constant_time_with_a_limit(
    application: Application, line: Line, clock: FixedClock
) -> None:
    await application.notify.install_default_templates()
    orders = application.ticketing.orders
    booked = await orders.book(SYSTEM, booking(line.trips[0]))
    code = booked.order.code
    pay = PaymentIn(amount_fen=booked.order.total_fen, method="cash", key="pay-0001")
    await application.ticketing.payments.pay(SYSTEM, code, pay)
    clock.advance(timedelta(minutes=1))
    issued = await orders.issue(SYSTEM, code)
    assert issued.state == "issued"
    sms = await application.notify.outbox(ref=code)
    assert [m.template_key for m in sms] == ["order.issued", "order.booked"]
    new_code = sms[0].body.split("取票密码")[1][:8]
    with pytest.raises(PickupCodeWrong):
        await orders.verify_pickup(SYSTEM, code, booked.pickup_code)  # replaced at issue
    for _ in range(4):
        with pytest.raises(PickupCodeWrong):
            await orders.verify_pickup(SYSTEM, code, "00000000")
    with pytest.raises(PickupLocked):
        await orders.verify_pickup(SYSTEM, code, new_code)
    clock.advance(timedelta(minutes=1))
    await application.ticketing.resend_pickup_code(code.lower())
    resent = (await application.notify.outbox(ref=code))[0]
    assert resent.template_key == "pickup.resend"
    fresh = resent.body.split("取票密码是")[1][:8]
    picked = await orders.verify_pickup(SYSTEM, code, fresh)
    assert picked.state == "picked_up"


async def test_cancelling_an_unpaid_booking_frees_its_seats(
    application: Application, line: Line
) -> None:
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    cancelled = await application.ticketing.cancel_unpaid(booked.order.code)
    assert cancelled.state == "cancelled"
    assert await seats_left(application, line) == 20
    with pytest.raises(IllegalTransition):
        await application.ticketing.cancel_unpaid(booked.order.code)


async def test_a_paid_order_cannot_be_cancelled_only_refunded(
    application: Application, line: Line
) -> None:
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0]))
    pay = PaymentIn(amount_fen=1000, method="card", key="deposit-1")
    await application.ticketing.payments.pay(SYSTEM, booked.order.code, pay)
    with pytest.raises(InvalidInput, match="refund"):
        await application.ticketing.cancel_unpaid(booked.order.code)


def test_the_state_table_refuses_moves_it_does_not_list() -> None:
    assert next_state("held", "confirm") == "booked"
    assert next_state("issued", "pickup") == "picked_up"
    with pytest.raises(IllegalTransition):
        next_state("expired", "pay")
    with pytest.raises(IllegalTransition):
        next_state("used", "refund")


@pytest.mark.slow
async def test_racing_bookings_through_the_order_service_never_oversell(
    application: Application, line: Line
) -> None:
    orders = application.ticketing.orders
    for _ in range(5):
        await orders.book(SYSTEM, booking(line.trips[0], 3))
    attempts = [orders.book(SYSTEM, booking(line.trips[0], 2)) for _ in range(12)]
    attempts += [orders.book(SYSTEM, booking(line.trips[0], 1)) for _ in range(12)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, SeatsUnavailable) for r in refused), refused
    sold = sum(len(r.order.tickets) for r in results if not isinstance(r, BaseException))
    assert 4 <= sold <= 5  # 5 seats left: two parties and a single, or any mix that fits
    assert await seats_left(application, line) == 5 - sold
    async with application.db.sessions() as session:
        taken = await session.scalar(select(func.count(Order.id)))
    assert taken == 5 + len(results) - len(refused)


async def test_seats_chosen_on_the_map_are_the_seats_sold(
    application: Application, line: Line
) -> None:
    tk = application.ticketing
    booked = await tk.orders.book(SYSTEM, booking(line.trips[0], 2, seats=["0503F", "0501A"]))
    seated = {t.passenger_name: t.seat_no for t in booked.order.tickets}
    assert seated == {"张三": "0503F", "李四": "0501A"}  # in the passengers' order
    whole = {s.seat_no: s.free for s in await tk.seat_map(line.trips[0], "BJP", "SHH", "second")}
    assert len(whole) == 20
    assert (whole["0503F"], whole["0501A"], whole["0501C"]) == (False, False, True)

    short = booking(line.trips[0], 1, seats=["0503F"], to_station="TJP")
    with pytest.raises(SeatsUnavailable) as taken:
        await tk.orders.book(SYSTEM, short)
    assert taken.value.details["field"] == "seats.0"
    assert await seats_left(application, line) == 18  # nothing half-booked


async def test_a_seat_sold_on_one_leg_is_free_on_the_next(
    application: Application, line: Line
) -> None:
    tk = application.ticketing
    first_leg = booking(line.trips[0], 1, seats=["0502D"], to_station="TJP")
    await tk.orders.book(SYSTEM, first_leg)
    later = {s.seat_no: s.free for s in await tk.seat_map(line.trips[0], "TJP", "SHH", "second")}
    assert later["0502D"]
    then = await tk.orders.book(
        SYSTEM, booking(line.trips[0], 1, seats=["0502D"], from_station="TJP")
    )
    assert then.order.tickets[0].seat_no == "0502D"


@pytest.mark.parametrize(
    ("seats", "field"),
    [
        (["0501A"], "seats"),  # two passengers, one seat
        (["0501A", "0501A"], "seats"),
        (["0501A", "0199Z"], "seats.1"),  # no such second-class seat
        (["0501A", "0101A"], "seats.1"),  # a first-class seat for a second-class fare
    ],
)
async def test_bad_seat_choices_name_the_field_and_book_nothing(
    application: Application, line: Line, seats: list[str], field: str
) -> None:
    with pytest.raises(TicketlineError) as refused:
        await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2, seats=seats))
    assert refused.value.details.get("field") == field
    assert await seats_left(application, line) == 20


async def test_two_gates_checking_one_order_in_admit_it_once(
    application: Application, line: Line
) -> None:
    tk = application.ticketing
    booked = await tk.orders.book(SYSTEM, booking(line.trips[0]))
    code = booked.order.code
    with pytest.raises(TicketNotUsable) as early:
        await tk.orders.use(SYSTEM, code)
    assert early.value.details["reason"] == "not_issued"
    pay = PaymentIn(amount_fen=booked.order.total_fen, method="cash", key="gate-0001")
    await tk.payments.pay(SYSTEM, code, pay)
    await tk.orders.issue(SYSTEM, code)
    results = await asyncio.gather(
        tk.orders.use(SYSTEM, code), tk.orders.use(SYSTEM, code), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1
    assert isinstance(refused[0], TicketNotUsable)
    assert refused[0].details["reason"] == "already_used"
    view = await tk.order_status(code)
    assert view.state == "used"
    assert [e.action for e in view.log].count("use") == 1
