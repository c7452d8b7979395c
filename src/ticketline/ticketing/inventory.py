"""Seat x leg inventory: claim and release the legs of seats, never twice.

A seat's `legs` bitmask marks the legs already taken. A claim sets the bits of its
range with ONE conditional statement,

    UPDATE tk_trip_seat SET legs = legs | :mask WHERE id = :seat AND legs & :mask = 0

so whichever of two racing transactions commits second matches no row (PostgreSQL
re-checks the condition on the committed row; SQLite serialises writers) and moves
on to another seat. Candidates are read before, but a read never decides a sale:
only the conditional statement's row count does. Seats of one claim are updated in
ascending id order, so transactions rarely wait on each other in a cycle; when they
do, PostgreSQL's deadlock detector or the lock timeout aborts one and the caller
retries. Releasing subtracts the mask the claim owns, guarded by the claim's own
`released_at IS NULL`, so a double release changes nothing.

A general-admission quota is the same thing: one unnumbered row per place, claimed
and released exactly like a seat, so it can no more be oversold than a seat can,
and a refund, cancel, expiry or change gives the place back by the same release.
Only the seat map and choosing a seat ignore unnumbered rows.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NoReturn, TypeVar

from sqlalchemy import BigInteger, ColumnElement, literal, select, text, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.errors import SeatsUnavailable
from ticketline.ticketing.models import SeatClaim, TripSeat

Preference = Literal["window", "aisle"] | None
MAX_REREADS = 2
CLAIM_ATTEMPTS = 8
RETRY_BACKOFF_S = 0.01
LOCK_TIMEOUT_MS = 3000
# deadlock detected, lock not available (lock timeout), serialization failure
RETRYABLE_SQLSTATES = frozenset({"40P01", "55P03", "40001"})
T = TypeVar("T")


def leg_mask(from_seq: int, to_seq: int) -> int:
    """Bits of the legs between stop `from_seq` and stop `to_seq` (leg i: stop i -> i+1)."""
    if not 0 <= from_seq < to_seq <= 63:
        raise ValueError("stops must satisfy 0 <= from < to <= 63")
    return (1 << to_seq) - (1 << from_seq)


def _mask(value: int) -> ColumnElement[int]:
    # A 64-bit literal: asyncpg would refuse a mask past 2**31 as a 32-bit parameter.
    return literal(value, BigInteger)


def is_free(mask: int | ColumnElement[int]) -> ColumnElement[bool]:
    """SQL condition: the seat has none of the legs of `mask` (a value or a BigInteger
    bound parameter) taken."""
    bits = _mask(mask) if isinstance(mask, int) else mask
    return TripSeat.legs.op("&")(bits) == 0


@dataclass(frozen=True)
class SeatRequest:
    """`count` seats of `class_code` on a trip, free from stop `from_seq` to `to_seq`."""

    trip_id: str
    class_code: str
    from_seq: int
    to_seq: int
    count: int
    legs_total: int
    preference: Preference = None
    seat_nos: tuple[str, ...] = ()
    """Seats chosen on the seat map, one per passenger in order; empty: allocate."""

    @property
    def mask(self) -> int:
        return leg_mask(self.from_seq, self.to_seq)


@dataclass(frozen=True)
class Candidate:
    id: int
    seat_no: str
    section: str
    row: int
    position: str
    legs: int
    numbered: bool = True


@dataclass(frozen=True)
class ClaimedSeat:
    """A seat (or general-admission place) an order now holds on the requested legs."""

    claim_id: int
    trip_seat_id: int
    seat_no: str
    section: str
    row: int
    position: str
    numbered: bool = True

    @property
    def ticket_seat_no(self) -> str | None:
        """The seat number the ticket shows; None for a general-admission place."""
        return self.seat_no if self.numbered else None

    @property
    def place(self) -> str:
        """Where the passenger goes: the seat number, or the section of the place."""
        return self.seat_no if self.numbered else self.section


def gap_score(legs: int, mask: int, legs_total: int) -> tuple[int, int]:
    """(free fragments the claim would leave around it, free legs around it): lower is
    a tighter fit. A seat sold A->B is the best choice for B->C."""
    low = mask & -mask
    left = 0
    bit = low >> 1
    while bit and not legs & bit:
        left += 1
        bit >>= 1
    right = 0
    bit = (mask + low) & ((1 << legs_total) - 1)
    while bit and not legs & bit:
        right += 1
        bit = (bit << 1) & ((1 << legs_total) - 1)
    return (int(left > 0) + int(right > 0), left + right)


def choose(candidates: list[Candidate], request: SeatRequest, count: int) -> list[Candidate]:
    """The best `count` seats: preferred position, tight fit, then parties in one row.

    Equally good seats are ordered at random, so racing bookings spread over them
    instead of all queueing for the same row lock.
    """
    shuffle = {c.id: random.random() for c in candidates}

    def key(c: Candidate) -> tuple[int, int, int, float]:
        wrong_side = int(request.preference is not None and c.position != request.preference)
        fragments, spare = gap_score(c.legs, request.mask, request.legs_total)
        return (wrong_side, fragments, spare, shuffle[c.id])

    ranked = sorted(candidates, key=key)
    if count <= 1:
        return ranked[:count]
    rows: dict[tuple[str, int], list[Candidate]] = {}
    for c in ranked:
        rows.setdefault((c.section, c.row), []).append(c)
    together = [seats[:count] for seats in rows.values() if len(seats) >= count]
    if together:
        return min(together, key=lambda seats: [key(s) for s in seats])
    by_place = sorted(ranked, key=lambda c: (c.section, c.row, c.seat_no))
    windows = [by_place[i : i + count] for i in range(len(by_place) - count + 1)]
    return min(windows, key=_spread, default=[])


def _spread(seats: list[Candidate]) -> tuple[int, int]:
    sections = len({s.section for s in seats})
    return (sections, max(s.row for s in seats) - min(s.row for s in seats))


async def candidates(session: AsyncSession, request: SeatRequest) -> list[Candidate]:
    rows = await session.execute(
        select(
            TripSeat.id,
            TripSeat.seat_no,
            TripSeat.section,
            TripSeat.row,
            TripSeat.position,
            TripSeat.legs,
            TripSeat.numbered,
        ).where(
            TripSeat.trip_id == request.trip_id,
            TripSeat.class_code == request.class_code,
            is_free(request.mask),
        )
    )
    return [Candidate(*r) for r in rows]


async def claim_seats(
    session: AsyncSession, request: SeatRequest, order_id: str, now: datetime
) -> list[ClaimedSeat]:
    """Claim `request.count` seats inside the caller's transaction, or raise
    SeatsUnavailable (the caller's rollback then undoes any partial claim).

    A seat lost to a racing transaction is simply skipped: the next best of the
    same read is tried, and the candidates are read again only when none is left.
    """
    if request.seat_nos:
        return await _claim_chosen(session, request, order_id, now)
    got: list[Candidate] = []
    tried: set[int] = set()
    pool = await candidates(session, request)
    rereads = 0
    while len(got) < request.count:
        need = request.count - len(got)
        chosen = choose([c for c in pool if c.id not in tried], request, need)
        if len(chosen) < need:
            if rereads == MAX_REREADS:
                raise SeatsUnavailable(
                    f"fewer than {request.count} {request.class_code} seats free on this journey",
                    details={"field": "class_code", "class_code": request.class_code},
                )
            rereads += 1
            pool = await candidates(session, request)
            continue
        for seat in sorted(chosen, key=lambda c: c.id):
            tried.add(seat.id)
            if await _take(session, seat.id, request.mask):
                got.append(seat)
    return await _record_claims(session, got, request, order_id, now)


async def _claim_chosen(
    session: AsyncSession, request: SeatRequest, order_id: str, now: datetime
) -> list[ClaimedSeat]:
    """Exactly the seats chosen, in the passengers' order, or SeatsUnavailable naming
    the first one not free. Taken in id order, like allocated seats, so two bookings
    wanting overlapping seats lock them in the same order."""
    free = {c.seat_no: c for c in await candidates(session, request) if c.numbered}
    for i, seat_no in enumerate(request.seat_nos):
        if seat_no not in free:
            await _seat_not_free(session, request, i, seat_no)
    wanted = [free[seat_no] for seat_no in request.seat_nos]
    for seat in sorted(wanted, key=lambda c: c.id):
        if not await _take(session, seat.id, request.mask):
            await _seat_not_free(session, request, request.seat_nos.index(seat.seat_no),
                                 seat.seat_no)  # fmt: skip
    return await _record_claims(session, wanted, request, order_id, now)


async def _seat_not_free(
    session: AsyncSession, request: SeatRequest, index: int, seat_no: str
) -> NoReturn:
    in_class = (TripSeat.trip_id == request.trip_id, TripSeat.class_code == request.class_code)
    numbered = await session.scalar(
        select(TripSeat.numbered).where(*in_class, TripSeat.seat_no == seat_no)
    )
    field = f"seats.{index}"
    if not numbered:  # no such seat, or the hidden key of a general-admission place
        kinds = set(await session.scalars(select(TripSeat.numbered).where(*in_class).distinct()))
        if kinds == {False}:
            raise InvalidInput(
                "seats", f"{request.class_code} is general admission: there are no seats to choose"
            )
        raise InvalidInput(field, f"no {request.class_code} seat {seat_no} on this trip")
    raise SeatsUnavailable(
        f"seat {seat_no} is already taken on this journey",
        details={"field": field, "seat_no": seat_no},
    )


async def run_claiming(db: Database, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one short transaction that may claim seats.

    On PostgreSQL a lock wait is bounded by a lock timeout; a transaction aborted by
    the timeout or the deadlock detector is run again from the start (its claims
    were rolled back with it) after a jittered, growing pause, a few times at most.
    """
    for attempt in range(CLAIM_ATTEMPTS):
        try:
            async with db.transaction() as session:
                if not db.is_sqlite:
                    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
                return await work(session)
        except DBAPIError as exc:
            if attempt == CLAIM_ATTEMPTS - 1 or not _retryable(exc):
                raise
            # Jittered backoff: transactions that deadlocked together must not retry in step.
            await asyncio.sleep(random.uniform(0, RETRY_BACKOFF_S * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    return code in RETRYABLE_SQLSTATES or "database is locked" in str(exc.orig)


async def _take(session: AsyncSession, seat_id: int, mask: int) -> bool:
    result = await session.execute(
        update(TripSeat)
        .where(TripSeat.id == seat_id, is_free(mask))
        .values(legs=TripSeat.legs.op("|")(_mask(mask)))
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


async def _record_claims(
    session: AsyncSession,
    seats: list[Candidate],
    request: SeatRequest,
    order_id: str,
    now: datetime,
) -> list[ClaimedSeat]:
    claims = [
        SeatClaim(
            trip_seat_id=s.id,
            trip_id=request.trip_id,
            order_id=order_id,
            mask=request.mask,
            claimed_at=now,
        )
        for s in seats
    ]
    session.add_all(claims)
    await session.flush()
    return [
        ClaimedSeat(c.id, s.id, s.seat_no, s.section, s.row, s.position, s.numbered)
        for c, s in zip(claims, seats, strict=True)
    ]


async def release_claims(session: AsyncSession, claim_ids: list[int], now: datetime) -> int:
    """Give back the legs of these claims; returns how many were still held."""
    released = 0
    for claim_id in sorted(claim_ids):
        claim = await session.get(SeatClaim, claim_id)
        if claim is None:
            continue
        result = await session.execute(
            update(SeatClaim)
            .where(SeatClaim.id == claim_id, SeatClaim.released_at.is_(None))
            .values(released_at=now)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            continue
        await session.execute(
            update(TripSeat)
            .where(
                TripSeat.id == claim.trip_seat_id,
                TripSeat.legs.op("&")(_mask(claim.mask)) == _mask(claim.mask),
            )
            .values(legs=TripSeat.legs - _mask(claim.mask))
            .execution_options(synchronize_session=False)
        )
        released += 1
    return released


async def open_claims(session: AsyncSession, order_id: str) -> list[int]:
    return list(
        await session.scalars(
            select(SeatClaim.id).where(
                SeatClaim.order_id == order_id, SeatClaim.released_at.is_(None)
            )
        )
    )
