"""Prices: the passenger type's discount and the best promotion for the travel date, route
and class, as a booking and the IVR's fare look-up charge them."""

from __future__ import annotations

from datetime import timedelta

from tests.ticketing.conftest import TOMORROW
from tests.ticketing.helpers import PASSENGERS, Line, booking
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.ticketing.schemas import BookingIn, PromotionIn, RouteIn, StopIn

# Adult fares of the test line, BJP-SHH: 5 yuan + 0.45 (second) or 0.75 (first) yuan/km.
SECOND, FIRST = 59000, 98000


def party(trip: str, *types: str, **changes: object) -> BookingIn:
    passengers = [
        {"name": name, "id_number": number, "passenger_type": kind}
        for (name, number), kind in zip(PASSENGERS, types, strict=False)
    ]
    return booking(trip, passengers=passengers, **changes)


async def prices(app: Application, trip: str, *types: str, **changes: object) -> dict[str, int]:
    """The price of each passenger type's ticket, as the booking charged it."""
    booked = await app.ticketing.orders.book(SYSTEM, party(trip, *types, **changes))
    assert booked.order.total_fen == sum(t.price_fen for t in booked.order.tickets)
    return {t.passenger_type: t.price_fen for t in booked.order.tickets}


async def promote(app: Application, code: str, percent: int, days: range, **scope: str) -> None:
    await app.ticketing.fares.create_promotion(
        SYSTEM,
        PromotionIn(
            code=code,
            name=code,
            travel_from=TOMORROW + timedelta(days=days.start),
            travel_to=TOMORROW + timedelta(days=days.stop - 1),
            percent_off=percent,
            **scope,
        ),
    )


async def test_passenger_types_pay_their_share_of_the_adult_fare(
    application: Application, line: Line
) -> None:
    trip = line.trips[0]
    assert await prices(application, trip, "adult", "child", "student") == {
        "adult": SECOND,
        "child": SECOND // 2,
        "student": SECOND * 3 // 4,
    }
    # TJP-JNK is 126.50 yuan: half is 63.25, rounded half up to 63.50.
    assert await prices(application, trip, "child", from_station="TJP", to_station="JNK") == {
        "child": 6350
    }
    assert await application.ticketing.fares_for(trip, "BJP", "SHH", "senior") == {
        "second": SECOND * 9 // 10,
        "first": FIRST * 9 // 10,
    }


async def test_a_promotion_applies_on_its_dates_route_and_class_only(
    application: Application, line: Line
) -> None:
    await application.ticketing.catalog.create_route(
        SYSTEM,
        RouteIn(code="OTHER", operator="crh", name="京津", product="rail", stops=[
            StopIn(station="BJP", arrive_min=0, depart_min=0, km=0),
            StopIn(station="TJP", arrive_min=30, depart_min=30, km=130),
        ]),
    )  # fmt: skip
    await promote(application, "ELSEWHERE", 30, range(0, 3), route="OTHER")
    await promote(application, "DAY2", 10, range(1, 2), route="G1-line", class_code="second")
    await promote(application, "DAY3", 5, range(2, 3))
    await promote(application, "DAY3-LINE", 20, range(2, 3), route="G1-line")
    day1, day2, day3 = line.trips

    # Day 1: only the promotion of another route covers it: full fares.
    assert await prices(application, day1, "adult") == {"adult": SECOND}
    assert await application.ticketing.fares_for(day1, "BJP", "SHH") == {
        "second": SECOND,
        "first": FIRST,
    }
    # Day 2: 10% off second class on this line; first class is not in it.
    assert await prices(application, day2, "adult") == {"adult": SECOND * 9 // 10}
    assert await prices(application, day2, "adult", class_code="first") == {"adult": FIRST}
    # Day 3: of 5% everywhere and 20% on this line, the best one; a child's half fare
    # is discounted again: 295 yuan less 20% = 236 yuan.
    assert await prices(application, day3, "adult", "child") == {
        "adult": SECOND * 8 // 10,
        "child": 23600,
    }
    assert await application.ticketing.fares_for(day3, "BJP", "SHH", "child") == {
        "second": 23600,
        "first": FIRST // 2 * 8 // 10,
    }
