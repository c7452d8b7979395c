"""Timetable search: trips between two stations on a date, with fares and seats left.

This is what the IVR and the agent desktop ask most, so it is a fixed number of
queries whatever the number of trips: stations, route pairs, trips, seat counts,
fares (five round trips).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.errors import CatalogNotFound, TripNotBookable
from ticketline.ticketing.inventory import is_free, leg_mask
from ticketline.ticketing.models import Fare, Operator, Route, RouteStop, Station, Trip, TripSeat
from ticketline.ticketing.schemas import SEAT_CLASSES, ClassAvailability, TripOption

MAX_SEARCH_DAYS_AHEAD = 60


@dataclass(frozen=True)
class RoutePair:
    """Where two stations sit on one route."""

    route_id: str
    from_seq: int
    to_seq: int
    depart_min: int
    arrive_min: int

    @property
    def mask(self) -> int:
        return leg_mask(self.from_seq, self.to_seq)


async def search_trips(
    db: Database, from_code: str, to_code: str, day: date, *, zone: ZoneInfo, now: datetime
) -> list[TripOption]:
    """Scheduled trips leaving `from_code` on local date `day` for `to_code`, by departure."""
    today = now.astimezone(zone).date()
    if day < today:
        raise InvalidInput("date", "is in the past")
    if day > today + timedelta(days=MAX_SEARCH_DAYS_AHEAD):
        raise InvalidInput("date", f"at most {MAX_SEARCH_DAYS_AHEAD} days ahead")
    async with db.sessions() as session:
        names = await _station_names(session, from_code, to_code)
        pairs = await route_pairs(session, names[from_code][0], names[to_code][0])
        if not pairs:
            return []
        trips = await _trips_leaving(session, pairs, day, zone, now)
        if not trips:
            return []
        seats = await _seats_left(session, trips, pairs)
        fares = await _fares(session, pairs)
    options = [
        _option(trip, operator, product, pairs[trip.route_id], names, from_code, to_code)
        for trip, operator, product in trips
    ]
    for option, (trip, _, _) in zip(options, trips, strict=True):
        option.classes = [
            ClassAvailability(
                class_code=cls,
                name_zh=SEAT_CLASSES[cls][0],
                name_en=SEAT_CLASSES[cls][1],
                fare_fen=fares.get((trip.route_id, cls)),
                seats_left=left,
            )
            for cls, left in sorted(seats[trip.id].items(), key=_class_order)
        ]
    return sorted(options, key=lambda o: (o.departs_at, o.service))


async def _station_names(
    session: AsyncSession, from_code: str, to_code: str
) -> dict[str, tuple[str, str]]:
    if from_code == to_code:
        raise InvalidInput("to", "is the same station as from")
    rows = await session.execute(
        select(Station.code, Station.id, Station.name_zh).where(
            Station.code.in_([from_code, to_code])
        )
    )
    found = {code: (sid, name) for code, sid, name in rows}
    for field, code in (("from", from_code), ("to", to_code)):
        if code not in found:
            raise CatalogNotFound(f"{field}: no station {code!r}", details={"field": field})
    return found


async def route_pairs(
    session: AsyncSession, from_station_id: str, to_station_id: str
) -> dict[str, RoutePair]:
    """Every route that stops at both stations, in that order."""
    a, b = aliased(RouteStop), aliased(RouteStop)
    rows = await session.execute(
        select(a.route_id, a.seq, b.seq, a.depart_min, b.arrive_min)
        .join(b, and_(b.route_id == a.route_id, b.seq > a.seq))
        .where(a.station_id == from_station_id, b.station_id == to_station_id)
    )
    return {r[0]: RoutePair(*r) for r in rows}


async def _trips_leaving(
    session: AsyncSession,
    pairs: dict[str, RoutePair],
    day: date,
    zone: ZoneInfo,
    now: datetime,
) -> list[tuple[Trip, str, str]]:
    longest = max(p.depart_min for p in pairs.values())
    first_day = day - timedelta(days=longest // 1440 + 1)
    rows = await session.execute(
        select(Trip, Operator.name_zh, Route.product)
        .join(Route, Route.id == Trip.route_id)
        .join(Operator, Operator.id == Route.operator_id)
        .where(
            Trip.route_id.in_(list(pairs)),
            Trip.service_date.between(first_day, day),
            Trip.status == "scheduled",
        )
    )
    kept = []
    for trip, operator, product in rows:
        boards = trip.departs_at + timedelta(minutes=pairs[trip.route_id].depart_min)
        if boards.astimezone(zone).date() == day and boards > now:
            kept.append((trip, operator, product))
    return kept


async def _seats_left(
    session: AsyncSession, trips: list[tuple[Trip, str, str]], pairs: dict[str, RoutePair]
) -> dict[str, dict[str, int]]:
    by_mask: defaultdict[int, list[str]] = defaultdict(list)
    for trip, _, _ in trips:
        by_mask[pairs[trip.route_id].mask].append(trip.id)
    free = or_(*[and_(TripSeat.trip_id.in_(ids), is_free(mask)) for mask, ids in by_mask.items()])
    rows = await session.execute(
        select(TripSeat.trip_id, TripSeat.class_code, func.sum(case((free, 1), else_=0)))
        .where(TripSeat.trip_id.in_([t.id for t, _, _ in trips]))
        .group_by(TripSeat.trip_id, TripSeat.class_code)
    )
    seats: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for trip_id, cls, left in rows:
        seats[trip_id][cls] = int(left or 0)
    return seats


async def _fares(session: AsyncSession, pairs: dict[str, RoutePair]) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(Fare.route_id, Fare.class_code, Fare.amount_fen).where(
            or_(
                *[
                    and_(
                        Fare.route_id == p.route_id,
                        Fare.from_seq == p.from_seq,
                        Fare.to_seq == p.to_seq,
                    )
                    for p in pairs.values()
                ]
            )
        )
    )
    return {(route, cls): amount for route, cls, amount in rows}


def _option(
    trip: Trip,
    operator: str,
    product: str,
    pair: RoutePair,
    names: dict[str, tuple[str, str]],
    from_code: str,
    to_code: str,
) -> TripOption:
    departs = trip.departs_at + timedelta(minutes=pair.depart_min)
    arrives = trip.departs_at + timedelta(minutes=pair.arrive_min)
    return TripOption(
        trip_id=trip.id,
        service=trip.service,
        operator=operator,
        product=product,
        from_station=names[from_code][1],
        to_station=names[to_code][1],
        departs_at=departs,
        arrives_at=arrives,
        duration_min=pair.arrive_min - pair.depart_min,
        classes=[],
    )


_CLASS_RANK = {code: i for i, code in enumerate(SEAT_CLASSES)}


def _class_order(item: tuple[str, int]) -> int:
    return _CLASS_RANK.get(item[0], len(_CLASS_RANK))


@dataclass(frozen=True)
class Journey:
    """A trip and where the passenger boards and leaves it."""

    trip: Trip
    from_seq: int
    to_seq: int
    legs_total: int
    boards_at: datetime
    arrives_at: datetime
    product: str
    from_name: str
    to_name: str

    @property
    def mask(self) -> int:
        return leg_mask(self.from_seq, self.to_seq)


async def load_journey(
    session: AsyncSession, trip_id: str, from_code: str, to_code: str
) -> Journey:
    """The trip and the stop numbers of two station codes on it, or a clear error."""
    trip = await session.get(Trip, trip_id)
    if trip is None:
        raise CatalogNotFound(f"no trip {trip_id}", details={"field": "trip_id"})
    rows = await session.execute(
        select(
            Station.code, Station.name_zh, RouteStop.seq, RouteStop.arrive_min, RouteStop.depart_min
        )
        .join(RouteStop, RouteStop.station_id == Station.id)
        .where(RouteStop.route_id == trip.route_id)
    )
    stops = {code: (name, seq, arrive, depart) for code, name, seq, arrive, depart in rows}
    for field, code in (("from_station", from_code), ("to_station", to_code)):
        if code not in stops:
            raise TripNotBookable(
                f"{field}: the trip does not stop at {code!r}", details={"field": field}
            )
    board, alight = stops[from_code], stops[to_code]
    if board[1] >= alight[1]:
        raise TripNotBookable(
            "to_station: comes before from_station on this trip",
            details={"field": "to_station"},
        )
    product = await session.scalar(select(Route.product).where(Route.id == trip.route_id))
    return Journey(
        trip=trip,
        from_seq=board[1],
        to_seq=alight[1],
        legs_total=len(stops) - 1,
        boards_at=trip.departs_at + timedelta(minutes=board[3]),
        arrives_at=trip.departs_at + timedelta(minutes=alight[2]),
        product=product or "rail",
        from_name=board[0],
        to_name=alight[0],
    )
