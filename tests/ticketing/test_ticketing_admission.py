"""General admission: a standing section sold from a quota, without seat numbers, never
beyond the quota, its places given back by cancel, expiry and refund."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import Integer, cast, func, select

from tests.ticketing.helpers import PASSENGERS, Line, build_venue, standing
from tests.webclient import bearer
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.db import migrate
from ticketline.ticketing.errors import SeatsUnavailable
from ticketline.ticketing.models import Route, SeatClaim, Trip, TripSeat
from ticketline.ticketing.order_models import Ticket
from ticketline.ticketing.schemas import LayoutIn, PaymentIn, QuotaIn, RefundIn, SeatIn

SHOW_DAY = date(2026, 11, 27)  # five days after the clock: event refunds are allowed
GENERAL_ADMISSION = "站票区 General admission"


@pytest.fixture
async def venue(application: Application) -> Line:
    return await build_venue(application.ticketing, SHOW_DAY)


async def places_left(app: Application, trip: str) -> int:
    return (await app.ticketing.seats_left(trip, "DOR", "END"))["ga"]


async def test_a_standing_ticket_names_its_section_and_no_seat(
    application: Application, venue: Line
) -> None:
    tk = application.ticketing
    booked = await tk.orders.book(SYSTEM, standing(venue.trips[0], 2))
    tickets = booked.order.tickets
    assert [(t.seat_no, t.place, t.section) for t in tickets] == [
        (None, GENERAL_ADMISSION, "standing")
    ] * 2
    assert [t.price_fen for t in tickets] == [8000, 8000]
    assert booked.order.log[0].details == {"total_fen": 16000, "seats": ["standing"] * 2}
    assert await tk.seats_left(venue.trips[0], "DOR", "END") == {"stalls": 8, "ga": 3}
    (show,) = await tk.performances_on(SHOW_DAY)
    left = {c.class_code: (c.seats_left, c.fare_fen, c.name_en) for c in show.classes}
    assert left == {"stalls": (8, 48000, "Stalls"), "ga": (3, 8000, "General admission")}
    # The seat map shows seats only: nothing to pick in general admission.
    assert await tk.seat_map(venue.trips[0], "DOR", "END", "ga") == []
    stalls = await tk.seat_map(venue.trips[0], "DOR", "END", "stalls")
    assert len(stalls) == 8
    assert all(s.seat_no.startswith("S") for s in stalls)
    seated = await tk.orders.book(
        SYSTEM, standing(venue.trips[0], class_code="stalls", seats=["S01C"])
    )
    assert [(t.seat_no, t.place) for t in seated.order.tickets] == [("S01C", "S01C")]


@pytest.mark.parametrize(
    ("class_code", "seats", "field"),
    [
        ("ga", ["1"], "seats"),
        ("ga", ["S01A"], "seats"),  # a stalls seat is not in general admission
        ("stalls", ["S09A"], "seats.0"),
    ],
)
async def test_no_seat_can_be_chosen_in_general_admission(
    application: Application, venue: Line, class_code: str, seats: list[str], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await application.ticketing.orders.book(
            SYSTEM, standing(venue.trips[0], class_code=class_code, seats=seats)
        )
    assert refused.value.details["field"] == field
    assert await application.ticketing.seats_left(venue.trips[0], "DOR", "END") == {
        "stalls": 8,
        "ga": 5,
    }


async def test_the_quota_sells_out_and_cancel_expiry_refund_give_places_back(
    application: Application, venue: Line, clock: FixedClock
) -> None:
    tk = application.ticketing
    trip = venue.trips[0]
    held = await tk.orders.book(SYSTEM, standing(trip, 3, hold_only=True))
    booked = await tk.orders.book(SYSTEM, standing(trip, 2))
    assert await places_left(application, trip) == 0
    with pytest.raises(SeatsUnavailable):
        await tk.orders.book(SYSTEM, standing(trip, 1))
    assert await places_left(application, venue.trips[1]) == 5  # another show, its own quota

    clock.advance(timedelta(minutes=16))
    assert await tk.expire_due() == 1
    assert (await tk.order_status(held.order.code)).state == "expired"
    assert await places_left(application, trip) == 3
    await tk.cancel_unpaid(booked.order.code)
    assert await places_left(application, trip) == 5

    sold = await tk.orders.book(SYSTEM, standing(trip, 1))
    code = sold.order.code
    pay = PaymentIn(amount_fen=sold.order.total_fen, method="cash", key="ga-pay-0001")
    await tk.payments.pay(SYSTEM, code, pay)
    assert await places_left(application, trip) == 4
    quote = await tk.refunds.quote(code)
    assert quote.allowed
    assert [line.seat_no for line in quote.lines] == [None]
    refund = RefundIn(expected_refund_fen=quote.refund_fen, method="cash", key="ga-refund-1")
    refunded = await tk.refunds.refund(SYSTEM, code, refund)
    assert refunded.state == "refunded"
    assert await places_left(application, trip) == 5


@pytest.mark.slow
async def test_racing_bookings_for_the_last_places_never_exceed_the_quota(
    application: Application, venue: Line
) -> None:
    tk = application.ticketing
    trip = venue.trips[0]
    await tk.orders.book(SYSTEM, standing(trip, 2))
    attempts = [tk.orders.book(SYSTEM, standing(trip, 1)) for _ in range(40)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, SeatsUnavailable) for r in refused), refused
    assert len(results) - len(refused) == 3
    assert await places_left(application, trip) == 0
    async with application.db.sessions() as session:
        sold = await session.scalar(
            select(func.count(Ticket.id)).where(Ticket.trip_id == trip, Ticket.class_code == "ga")
        )
        holders = Counter(
            await session.scalars(
                select(SeatClaim.trip_seat_id).where(
                    SeatClaim.trip_id == trip, SeatClaim.released_at.is_(None)
                )
            )
        )
    assert sold == 5
    assert max(holders.values()) == 1  # no place is held by two orders


async def test_a_layout_keeps_seats_and_places_in_classes_of_their_own(
    application: Application,
) -> None:
    catalog = application.ticketing.catalog
    seat = SeatIn(seat_no="A1", class_code="ga", section="front")
    quota = QuotaIn(class_code="ga", section="floor", places=100)
    with pytest.raises(InvalidInput) as mixed:
        await catalog.create_layout(SYSTEM, LayoutIn(code="mix", name="x", seats=[seat],
                                                     quotas=[quota]))  # fmt: skip
    assert mixed.value.details["field"] == "quotas"
    with pytest.raises(InvalidInput) as empty:
        await catalog.create_layout(SYSTEM, LayoutIn(code="none", name="x"))
    assert empty.value.details["field"] == "seats"
    floor = LayoutIn(code="club", name="livehouse", quotas=[quota, quota.model_copy(
        update={"section": "balcony"})])  # fmt: skip
    await catalog.create_layout(SYSTEM, floor)
    assert {lay.code: lay.seats for lay in await catalog.layouts()} == {"club": {"ga": 200}}


async def test_the_migration_takes_general_admission_from_the_layout(
    application: Application, venue: Line
) -> None:
    """Trips and tickets made before general admission: the downgrade shows them as they
    were (the place's key as seat number), the upgrade hides the number again."""
    booked = await application.ticketing.orders.book(SYSTEM, standing(venue.trips[0]))
    await migrate.downgrade(application.db, "0140_ticketing_one_default")
    await migrate.upgrade(application.db)
    async with application.db.sessions() as session:
        kinds = dict(
            (
                await session.execute(
                    select(TripSeat.class_code, func.min(cast(TripSeat.numbered, Integer)))
                    .where(TripSeat.trip_id == venue.trips[0])
                    .group_by(TripSeat.class_code)
                )
            ).all()
        )
    assert kinds == {"stalls": 1, "ga": 0}
    view = await application.ticketing.order_status(booked.order.code)
    assert [(t.seat_no, t.place) for t in view.tickets] == [(None, GENERAL_ADMISSION)]


async def test_the_demo_theatre_sells_standing_places(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    async with demo_app.db.sessions() as session:
        day = await session.scalar(
            select(func.min(Trip.service_date))
            .join(Route, Route.id == Trip.route_id)
            .where(Route.code == "NCPA-OPERA")
        )
    assert day is not None
    agent = await bearer(client, "agent1")
    found = await client.get(
        "/api/ticketing/search", headers=agent,
        params={"from": "NCA", "to": "NCE", "date": day.isoformat()},
    )  # fmt: skip
    (show,) = found.json()
    places = {c["class_code"]: (c["seats_left"], c["fare_fen"]) for c in show["classes"]}
    assert places["ga"] == (60, 8000)
    body = {
        "trip_id": show["trip_id"],
        "from_station": "NCA",
        "to_station": "NCE",
        "class_code": "ga",
        "passengers": [{"name": name, "id_number": number} for name, number in PASSENGERS[:2]],
        "contact_name": "张三",
        "contact_phone": "13800138000",
    }
    booked = await client.post("/api/ticketing/orders", headers=agent, json=body)
    assert booked.status_code == 201, booked.text
    tickets = booked.json()["order"]["tickets"]
    assert [(t["seat_no"], t["place"]) for t in tickets] == [(None, GENERAL_ADMISSION)] * 2
    seats = await client.get(
        f"/api/ticketing/trips/{show['trip_id']}/seats", headers=agent,
        params={"from": "NCA", "to": "NCE"},
    )  # fmt: skip
    assert seats.json()["ga"] == 58
