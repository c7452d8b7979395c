"""Concurrent bookings on one trip; run: uv run python bench/bench_ticketing_booking.py

One train of 500 seats over 5 stops. C concurrent clerks book through the real
OrderService (ID checks, pricing, seat claim, order, tickets, log, audit in one
transaction) parties of 1-3 on random segments until the trip is full. Then
every open claim is checked against every other: a leg of a seat held by two
claims is an oversell. Prints bookings per second, tickets sold, refusals and
the oversell count, on SQLite and PostgreSQL. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select

from ticketing_fixtures import database, network, service
from ticketline.admin.security import Actor
from ticketline.core.errors import TicketlineError
from ticketline.db.session import Database
from ticketline.ticketing.models import RouteStop, SeatClaim, Station, Trip, TripSeat
from ticketline.ticketing.schemas import BookingIn
from ticketline.ticketing.service import TicketingService

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(n: int) -> str:
    body = f"110105199001{n % 28 + 1:02d}{n % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


async def clerk(
    tk: TicketingService, trip: str, stops: list[str], rng: random.Random, tally: dict[str, int]
) -> None:
    actor = Actor(None, f"clerk{id(rng) % 1000}")
    misses = 0
    while misses < 12:
        a = rng.randrange(len(stops) - 1)
        b = rng.randrange(a + 1, len(stops))
        party = rng.choice((1, 1, 2, 3))
        n = rng.randrange(10**6)
        data = BookingIn(
            trip_id=trip,
            from_station=stops[a],
            to_station=stops[b],
            class_code="second",
            passengers=[
                {"name": f"旅客{n}-{i}", "id_number": resident_id(n * 3 + i)} for i in range(party)
            ],
            contact_name="旅客",
            contact_phone="13800138000",
        )
        try:
            booked = await tk.orders.book(actor, data)
        except TicketlineError as exc:
            tally[exc.code] += 1
            misses += 1
            continue
        tally["bookings"] += 1
        tally["tickets"] += len(booked.order.tickets)


async def oversold(db: Database, trip: str) -> int:
    async with db.sessions() as session:
        claims = list(
            await session.scalars(
                select(SeatClaim).where(SeatClaim.trip_id == trip, SeatClaim.released_at.is_(None))
            )
        )
        legs = dict((await session.execute(select(TripSeat.id, TripSeat.legs))).all())
    held: defaultdict[int, int] = defaultdict(int)
    clashes = 0
    for c in claims:
        clashes += bin(held[c.trip_seat_id] & c.mask).count("1")
        held[c.trip_seat_id] |= c.mask
    clashes += sum(1 for seat, mask in held.items() if legs[seat] != mask)
    return clashes


async def run(kind: str, clerks: int) -> None:
    async with database(kind) as db:
        tk = service(db, NOW)
        await network(tk, DAY, stations=5, routes=1, stops=5, departures=1, seats_per_trip=555)
        async with db.sessions() as session:
            trip = (await session.scalars(select(Trip.id))).one()
            stops = list(
                await session.scalars(
                    select(Station.code)
                    .join(RouteStop, RouteStop.station_id == Station.id)
                    .order_by(RouteStop.seq)
                )
            )
        tally: dict[str, int] = defaultdict(int)
        started = time.perf_counter()
        await asyncio.gather(
            *(clerk(tk, trip, stops, random.Random(i), tally) for i in range(clerks))
        )
        elapsed = time.perf_counter() - started
        left = await tk.seats_left(trip, stops[0], stops[-1])
        print(
            f"{kind:8s} {clerks} concurrent clerks, 500 seats x 4 legs: "
            f"{tally['bookings'] / elapsed:.0f} bookings/s ({tally['bookings']} bookings, "
            f"{tally['tickets']} tickets in {elapsed:.1f} s), refused: "
            f"{ {k: v for k, v in tally.items() if k not in ('bookings', 'tickets')} }, "
            f"seats free end to end {left.get('second', 0)}, oversold legs: "
            f"{await oversold(db, trip)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clerks", type=int, default=32)
    args = parser.parse_args()
    for kind in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
        asyncio.run(run(kind, args.clerks))


if __name__ == "__main__":
    main()
