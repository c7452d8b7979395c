"""Seat x leg inventory: segments share seats, allocation fits tightly, never oversold."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import pytest
from sqlalchemy import select

from tests.ticketing.helpers import Line
from ticketline.app import Application
from ticketline.core.ids import new_id
from ticketline.ticketing.errors import SeatsUnavailable
from ticketline.ticketing.inventory import (
    Candidate,
    ClaimedSeat,
    SeatRequest,
    choose,
    claim_seats,
    gap_score,
    leg_mask,
    release_claims,
    run_claiming,
)
from ticketline.ticketing.models import SeatClaim, TripSeat

LEGS = 3  # BJP-TJP-JNK-SHH


def request(trip: str, a: int, b: int, count: int = 1, **kw: object) -> SeatRequest:
    return SeatRequest(
        trip, str(kw.get("class_code", "second")), a, b, count, LEGS, kw.get("preference")
    )  # type: ignore[arg-type]


async def claim(app: Application, req: SeatRequest) -> list[ClaimedSeat]:
    now = app.clock.now()
    return await run_claiming(app.db, lambda s: claim_seats(s, req, new_id(), now))


def test_leg_masks_and_gap_scores() -> None:
    assert leg_mask(0, 3) == 0b111
    assert leg_mask(1, 2) == 0b010
    with pytest.raises(ValueError, match="stops"):
        leg_mask(2, 2)
    # An empty seat asked for the middle leg leaves two fragments.
    assert gap_score(0b000, 0b010, 3) == (2, 2)
    # A seat sold for the first leg fits B->D exactly.
    assert gap_score(0b001, 0b110, 3) == (0, 0)
    assert gap_score(0b000, 0b111, 3) == (0, 0)


def test_parties_sit_together_and_preferences_are_honoured() -> None:
    seats = [
        Candidate(1, "0101A", "01", 1, "window", 0),
        Candidate(2, "0102C", "01", 2, "aisle", 0),
        Candidate(3, "0102D", "01", 2, "aisle", 0),
        Candidate(4, "0103F", "01", 3, "window", 0),
    ]
    req = SeatRequest("t", "second", 0, 3, 2, 3)
    assert {c.seat_no for c in choose(seats, req, 2)} == {"0102C", "0102D"}
    window = SeatRequest("t", "second", 0, 3, 1, 3, "window")
    assert choose(seats, window, 1)[0].position == "window"
    partly_sold = [*seats, Candidate(5, "0104A", "01", 4, "window", 0b001)]
    later = SeatRequest("t", "second", 1, 3, 1, 3)
    assert choose(partly_sold, later, 1)[0].seat_no == "0104A"


async def test_a_seat_sold_a_to_b_is_sold_again_b_to_d(
    application: Application, line: Line
) -> None:
    trip = line.trips[0]
    first = await claim(application, request(trip, 0, 1))
    second = await claim(application, request(trip, 1, 3))
    assert first[0].seat_no == second[0].seat_no
    left = await application.ticketing.seats_left(trip, "BJP", "SHH")
    assert left == {"second": 19, "first": 4}
    assert (await application.ticketing.seats_left(trip, "TJP", "JNK"))["second"] == 19


async def test_releasing_gives_the_legs_back_once(application: Application, line: Line) -> None:
    trip = line.trips[0]
    seats = await claim(application, request(trip, 0, 3, count=20))
    with pytest.raises(SeatsUnavailable) as sold_out:
        await claim(application, request(trip, 1, 2))
    assert sold_out.value.code == "seats_unavailable"
    ids = [s.claim_id for s in seats[:2]]
    now = application.clock.now()
    for _ in range(2):  # a second release must not free legs someone else holds
        async with application.db.transaction() as session:
            await release_claims(session, ids, now)
    assert (await application.ticketing.seats_left(trip, "BJP", "SHH"))["second"] == 2
    again = await claim(application, request(trip, 0, 3, count=2))
    assert {s.seat_no for s in again} == {s.seat_no for s in seats[:2]}
    with pytest.raises(SeatsUnavailable):
        await claim(application, request(trip, 0, 1))


async def test_a_party_gets_all_its_seats_or_none(application: Application, line: Line) -> None:
    trip = line.trips[0]
    await claim(application, request(trip, 0, 3, count=19))
    with pytest.raises(SeatsUnavailable):
        await claim(application, request(trip, 0, 3, count=2))
    assert (await application.ticketing.seats_left(trip, "BJP", "SHH"))["second"] == 1


async def _fire(app: Application, requests: list[SeatRequest]) -> list[list[ClaimedSeat] | None]:
    async def one(req: SeatRequest) -> list[ClaimedSeat] | None:
        try:
            return await claim(app, req)
        except SeatsUnavailable:
            return None

    return await asyncio.gather(*(one(r) for r in requests))


async def _check_never_oversold(app: Application, trip: str) -> None:
    """Every open claim holds legs no other open claim holds, and the seat shows them."""
    async with app.db.sessions() as session:
        claims = list(
            await session.scalars(
                select(SeatClaim).where(SeatClaim.trip_id == trip, SeatClaim.released_at.is_(None))
            )
        )
        legs = dict((await session.execute(select(TripSeat.id, TripSeat.legs))).all())
    held: defaultdict[int, int] = defaultdict(int)
    for c in claims:
        assert held[c.trip_seat_id] & c.mask == 0, "two claims hold the same leg of a seat"
        held[c.trip_seat_id] |= c.mask
    for seat_id, mask in held.items():
        assert legs[seat_id] == mask


@pytest.mark.slow
async def test_racing_bookings_for_the_last_seats_never_oversell(
    application: Application, line: Line
) -> None:
    trip = line.trips[0]
    await claim(application, request(trip, 0, 3, count=17))
    results = await _fire(application, [request(trip, 0, 3) for _ in range(40)])
    sold = [r for r in results if r]
    assert len(sold) == 3
    assert len({r[0].seat_no for r in sold}) == 3
    assert (await application.ticketing.seats_left(trip, "BJP", "SHH"))["second"] == 0
    await _check_never_oversold(application, trip)


@pytest.mark.slow
async def test_racing_segments_and_parties_keep_every_leg_within_capacity(
    application: Application, line: Line
) -> None:
    trip = line.trips[1]
    rng = random.Random(7)
    ranges = [(0, 1), (1, 2), (2, 3), (0, 2), (1, 3), (0, 3)]
    reqs = [request(trip, *rng.choice(ranges), count=rng.choice((1, 1, 2, 3))) for _ in range(60)]
    results = await _fire(application, reqs)
    await _check_never_oversold(application, trip)
    for leg in range(LEGS):
        riders = sum(
            r.count for r, got in zip(reqs, results, strict=True) if got and r.mask >> leg & 1
        )
        assert riders <= 20
    # Seats are never given back during the race, so what was refused is still refused.
    for req, got in zip(reqs, results, strict=True):
        if got is None:
            left = await application.ticketing.seats_left(
                trip,
                ("BJP", "TJP", "JNK", "SHH")[req.from_seq],
                ("BJP", "TJP", "JNK", "SHH")[req.to_seq],
            )
            assert left.get("second", 0) < req.count
