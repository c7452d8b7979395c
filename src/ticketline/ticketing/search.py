"""Timetable search: trips between two stations on a date, with fares and seats left.

This is what the IVR and the agent desktop ask most. The static part of the catalog
(stations, routes and their stops, operators, fares) is read from a snapshot in
memory; the database answers only the two things that move: the trips of the day
and the seats left on them (two round trips, whatever the number of trips).

The snapshot is dropped by every catalog or fare write in this process and is at
most `SNAPSHOT_TTL` old otherwise, so another process's edit shows within that time.
Bookings never read it: prices and seats are always taken from the database.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Executable,
    Select,
    String,
    any_,
    bindparam,
    case,
    func,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.errors import CatalogNotFound, TripNotBookable
from ticketline.ticketing.inventory import is_free, leg_mask
from ticketline.ticketing.models import Fare, Operator, Route, RouteStop, Station, Trip, TripSeat
from ticketline.ticketing.schemas import SEAT_CLASSES, TripOption

MAX_SEARCH_DAYS_AHEAD = 60
SNAPSHOT_TTL = 30.0  # seconds


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


@dataclass(frozen=True)
class Stop:
    route_id: str
    seq: int
    arrive_min: int
    depart_min: int


@dataclass
class Snapshot:
    """What a search needs that changes only when the catalog is edited."""

    stations: dict[str, tuple[str, str]] = field(default_factory=dict)  # code: (id, name)
    stops: dict[str, list[Stop]] = field(default_factory=dict)  # by station id
    routes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id: (operator, product)
    fares: dict[tuple[str, int, int], dict[str, int]] = field(default_factory=dict)

    def pairs(self, from_station_id: str, to_station_id: str) -> dict[str, RoutePair]:
        """Every route that stops at both stations, in that order."""
        arrivals = {s.route_id: s for s in self.stops.get(to_station_id, [])}
        found = {}
        for board in self.stops.get(from_station_id, []):
            alight = arrivals.get(board.route_id)
            if alight is not None and alight.seq > board.seq:
                found[board.route_id] = RoutePair(
                    board.route_id, board.seq, alight.seq, board.depart_min, alight.arrive_min
                )
        return found


class CatalogSnapshots:
    """Keeps one snapshot. A write here drops it (the next search waits for a fresh
    one); past its TTL it is still served while a fresh one loads beside it, so no
    search pays for the reload."""

    def __init__(self, db: Database, ttl: float = SNAPSHOT_TTL) -> None:
        self.db = db
        self.ttl = ttl
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._lock = asyncio.Lock()
        self._refresh: asyncio.Task[Snapshot] | None = None

    def invalidate(self) -> None:
        self._snapshot = None
        self._generation += 1

    async def current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None:
            return await self._reload()
        if time.monotonic() - self._loaded_at >= self.ttl and self._refresh is None:
            self._refresh = asyncio.create_task(self._reload(), name="catalog-snapshot")
            self._refresh.add_done_callback(self._refreshed)
        return snapshot

    def _refreshed(self, task: asyncio.Task[Snapshot]) -> None:
        self._refresh = None
        if not task.cancelled() and task.exception() is not None:
            self._loaded_at = time.monotonic()  # keep serving the old one; retry after the TTL

    async def _reload(self) -> Snapshot:
        async with self._lock:
            if self._snapshot is not None and time.monotonic() - self._loaded_at < self.ttl:
                return self._snapshot
            generation = self._generation
            loaded_at = time.monotonic()
            async with self.db.sessions() as session:
                fresh = await _load_snapshot(session)
            if generation == self._generation:  # no write happened while we read
                self._snapshot, self._loaded_at = fresh, loaded_at
            return fresh


async def _load_snapshot(session: AsyncSession) -> Snapshot:
    snapshot = Snapshot()
    for code, sid, name in await session.execute(select(Station.code, Station.id, Station.name_zh)):
        snapshot.stations[code] = (sid, name)
    for route_id, seq, station_id, arrive, depart in await session.execute(
        select(
            RouteStop.route_id,
            RouteStop.seq,
            RouteStop.station_id,
            RouteStop.arrive_min,
            RouteStop.depart_min,
        )
    ):
        snapshot.stops.setdefault(station_id, []).append(Stop(route_id, seq, arrive, depart))
    for route_id, operator, product in await session.execute(
        select(Route.id, Operator.name_zh, Route.product).join(
            Operator, Operator.id == Route.operator_id
        )
    ):
        snapshot.routes[route_id] = (operator, product)
    for route_id, cls, from_seq, to_seq, amount in await session.execute(
        select(Fare.route_id, Fare.class_code, Fare.from_seq, Fare.to_seq, Fare.amount_fen)
    ):
        snapshot.fares.setdefault((route_id, from_seq, to_seq), {})[cls] = amount
    return snapshot


async def search_trips(
    db: Database,
    snapshots: CatalogSnapshots,
    from_code: str,
    to_code: str,
    day: date,
    *,
    zone: ZoneInfo,
    now: datetime,
) -> list[TripOption]:
    """Scheduled trips leaving `from_code` on local date `day` for `to_code`, by departure."""
    today = now.astimezone(zone).date()
    if day < today:
        raise InvalidInput("date", "is in the past")
    if day > today + timedelta(days=MAX_SEARCH_DAYS_AHEAD):
        raise InvalidInput("date", f"at most {MAX_SEARCH_DAYS_AHEAD} days ahead")
    snapshot = await snapshots.current()
    names = _station_names(snapshot, from_code, to_code)
    pairs = snapshot.pairs(names[from_code][0], names[to_code][0])
    if not pairs:
        return []
    routes = list(pairs.values())
    async with db.sessions() as session:
        trips = (
            await session.execute(_trips_query(len(routes)), _window_params(routes, day, zone, now))
        ).all()
        if not trips:
            return []
        seats = await _seats_left(session, trips, pairs, db.is_sqlite)
    ends = (names[from_code][1], names[to_code][1])
    options = [_option(trip, pairs, snapshot, seats[trip[0]], ends) for trip in trips]
    options.sort(key=lambda o: (o["departs_at"], o["service"]))
    # Validating the whole answer at once is cheaper than building (or even
    # model_construct-ing) the models one by one.
    return _TRIP_OPTIONS.validate_python(options)


def _station_names(snapshot: Snapshot, from_code: str, to_code: str) -> dict[str, tuple[str, str]]:
    if from_code == to_code:
        raise InvalidInput("to", "is the same station as from")
    for name, code in (("from", from_code), ("to", to_code)):
        if code not in snapshot.stations:
            raise CatalogNotFound(f"{name}: no station {code!r}", details={"field": name})
    return {code: snapshot.stations[code] for code in (from_code, to_code)}


# Both statements are built once per number of routes (one UNION ALL branch each);
# a search only binds values, which spares building and compiling SQL every time.


@lru_cache(maxsize=64)
def _trips_query(routes: int) -> Executable:
    branches = [_route_trips(i) for i in range(routes)]
    return branches[0] if routes == 1 else union_all(*branches)


def _route_trips(i: int) -> Select[str, str, str, datetime]:
    """Scheduled trips of route `i` whose boarding falls in the window of `_window_params`."""
    return select(Trip.id, Trip.route_id, Trip.service, Trip.departs_at).where(
        Trip.route_id == bindparam(f"route{i}"),
        Trip.service_date.between(bindparam(f"first_day{i}"), bindparam("day")),
        Trip.status == "scheduled",
        Trip.departs_at >= bindparam(f"from{i}"),
        Trip.departs_at < bindparam(f"until{i}"),
        Trip.departs_at > bindparam(f"after{i}"),
    )


def _window_params(
    routes: list[RoutePair], day: date, zone: ZoneInfo, now: datetime
) -> dict[str, object]:
    """Per route, bounds on the trip's own departure such that boarding at the searched
    station falls on local `day` and after `now` (bounds, so the trip index serves)."""
    day_starts = datetime.combine(day, clock_time(), zone).astimezone(UTC)
    day_ends = datetime.combine(day + timedelta(days=1), clock_time(), zone).astimezone(UTC)
    params: dict[str, object] = {"day": day}
    for i, pair in enumerate(routes):
        boarding = timedelta(minutes=pair.depart_min)
        params[f"route{i}"] = pair.route_id
        params[f"first_day{i}"] = day - timedelta(days=pair.depart_min // 1440 + 1)
        params[f"from{i}"] = day_starts - boarding
        params[f"until{i}"] = day_ends - boarding
        params[f"after{i}"] = now - boarding
    return params


async def _seats_left(
    session: AsyncSession,
    trips: Sequence[Sequence[Any]],
    pairs: dict[str, RoutePair],
    is_sqlite: bool,
) -> defaultdict[str, dict[str, int]]:
    """Seats free on every leg of the journey, by trip and class."""
    by_route: dict[str, list[str]] = {}
    for trip_id, route_id, *_ in trips:
        by_route.setdefault(route_id, []).append(trip_id)
    params: dict[str, object] = {}
    for i, (route_id, trip_ids) in enumerate(by_route.items()):
        params[f"mask{i}"] = pairs[route_id].mask
        params[f"trips{i}"] = trip_ids
    rows = await session.execute(_seats_query(len(by_route), is_sqlite), params)
    seats: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for trip_id, class_code, free in rows:
        seats[trip_id][class_code] = int(free or 0)
    return seats


@lru_cache(maxsize=128)
def _seats_query(routes: int, is_sqlite: bool) -> Executable:
    branches = [_route_seats(i, is_sqlite) for i in range(routes)]
    return branches[0] if routes == 1 else union_all(*branches)


def _route_seats(i: int, is_sqlite: bool) -> Select[str, str, Any]:
    """Seats by trip and class of the trips `trips{i}` free on the legs of `mask{i}`."""
    free = is_free(bindparam(f"mask{i}", type_=BigInteger))
    return (
        select(TripSeat.trip_id, TripSeat.class_code, func.sum(case((free, 1), else_=0)))
        .where(_one_of(TripSeat.trip_id, f"trips{i}", is_sqlite))
        .group_by(TripSeat.trip_id, TripSeat.class_code)
    )


def _one_of(column: InstrumentedAttribute[str], name: str, is_sqlite: bool) -> ColumnElement[bool]:
    # PostgreSQL takes the ids as ONE array parameter: an IN list costs a parameter and
    # a cast to render per id at every execution, about 2 ms for 140 trips.
    if is_sqlite:
        return column.in_(bindparam(name, expanding=True))
    return column == any_(bindparam(name, type_=ARRAY(String)))


def _option(
    trip: Sequence[Any],
    pairs: dict[str, RoutePair],
    snapshot: Snapshot,
    seats: dict[str, int],
    ends: tuple[str, str],
) -> dict[str, Any]:
    trip_id, route_id, service, departs_at = trip
    pair = pairs[route_id]
    operator, product = snapshot.routes[route_id]
    fares = snapshot.fares.get((route_id, pair.from_seq, pair.to_seq), {})
    return {
        "trip_id": trip_id,
        "service": service,
        "operator": operator,
        "product": product,
        "from_station": ends[0],
        "to_station": ends[1],
        "departs_at": departs_at + timedelta(minutes=pair.depart_min),
        "arrives_at": departs_at + timedelta(minutes=pair.arrive_min),
        "duration_min": pair.arrive_min - pair.depart_min,
        "classes": [
            _availability(class_code, fares.get(class_code), left)
            for class_code, left in sorted(seats.items(), key=_class_order)
        ],
    }


def _availability(class_code: str, fare_fen: int | None, seats_left: int) -> dict[str, Any]:
    name_zh, name_en = SEAT_CLASSES[class_code]
    return {
        "class_code": class_code,
        "name_zh": name_zh,
        "name_en": name_en,
        "fare_fen": fare_fen,
        "seats_left": seats_left,
    }


_TRIP_OPTIONS = TypeAdapter(list[TripOption])
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
    for name, code in (("from_station", from_code), ("to_station", to_code)):
        if code not in stops:
            raise TripNotBookable(
                f"{name}: the trip does not stop at {code!r}", details={"field": name}
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
