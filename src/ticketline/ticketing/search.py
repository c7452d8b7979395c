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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.errors import CatalogNotFound, TripNotBookable
from ticketline.ticketing.inventory import is_free, leg_mask
from ticketline.ticketing.models import Fare, Operator, Route, RouteStop, Station, Trip, TripSeat
from ticketline.ticketing.schemas import SEAT_CLASSES, ClassAvailability, TripOption

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


@dataclass(frozen=True)
class DayTrip:
    id: str
    route_id: str
    service: str
    departs_at: datetime


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
    async with db.sessions() as session:
        trips = await _trips_leaving(session, pairs, day, zone, now)
        if not trips:
            return []
        seats = await _seats_left(session, trips, pairs)
    options = []
    for trip in trips:
        pair = pairs[trip.route_id]
        operator, product = snapshot.routes[trip.route_id]
        option = _option(trip, operator, product, pair, names[from_code][1], names[to_code][1])
        fares = snapshot.fares.get((trip.route_id, pair.from_seq, pair.to_seq), {})
        option.classes = [
            ClassAvailability(
                class_code=cls,
                name_zh=SEAT_CLASSES[cls][0],
                name_en=SEAT_CLASSES[cls][1],
                fare_fen=fares.get(cls),
                seats_left=left,
            )
            for cls, left in sorted(seats[trip.id].items(), key=_class_order)
        ]
        options.append(option)
    return sorted(options, key=lambda o: (o.departs_at, o.service))


def _station_names(snapshot: Snapshot, from_code: str, to_code: str) -> dict[str, tuple[str, str]]:
    if from_code == to_code:
        raise InvalidInput("to", "is the same station as from")
    for name, code in (("from", from_code), ("to", to_code)):
        if code not in snapshot.stations:
            raise CatalogNotFound(f"{name}: no station {code!r}", details={"field": name})
    return {code: snapshot.stations[code] for code in (from_code, to_code)}


async def _trips_leaving(
    session: AsyncSession,
    pairs: dict[str, RoutePair],
    day: date,
    zone: ZoneInfo,
    now: datetime,
) -> list[DayTrip]:
    longest = max(p.depart_min for p in pairs.values())
    first_day = day - timedelta(days=longest // 1440 + 1)
    rows = await session.execute(
        select(Trip.id, Trip.route_id, Trip.service, Trip.departs_at).where(
            Trip.route_id.in_(list(pairs)),
            Trip.service_date.between(first_day, day),
            Trip.status == "scheduled",
        )
    )
    kept = []
    for trip in rows:
        boards = trip.departs_at + timedelta(minutes=pairs[trip.route_id].depart_min)
        if boards.astimezone(zone).date() == day and boards > now:
            kept.append(DayTrip(trip.id, trip.route_id, trip.service, trip.departs_at))
    return kept


async def _seats_left(
    session: AsyncSession, trips: list[DayTrip], pairs: dict[str, RoutePair]
) -> dict[str, dict[str, int]]:
    by_mask: defaultdict[int, list[str]] = defaultdict(list)
    for trip in trips:
        by_mask[pairs[trip.route_id].mask].append(trip.id)
    # One simple count per leg mask (trips of a route share it), glued by UNION ALL:
    # cheaper per row than one CASE testing every mask against IN lists.
    counts = [
        select(TripSeat.trip_id, TripSeat.class_code, func.sum(case((is_free(mask), 1), else_=0)))
        .where(TripSeat.trip_id.in_(ids))
        .group_by(TripSeat.trip_id, TripSeat.class_code)
        for mask, ids in by_mask.items()
    ]
    rows = await session.execute(counts[0] if len(counts) == 1 else union_all(*counts))
    seats: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for trip_id, cls, left in rows:
        seats[trip_id][cls] = int(left or 0)
    return seats


def _option(
    trip: DayTrip, operator: str, product: str, pair: RoutePair, from_name: str, to_name: str
) -> TripOption:
    departs = trip.departs_at + timedelta(minutes=pair.depart_min)
    arrives = trip.departs_at + timedelta(minutes=pair.arrive_min)
    return TripOption(
        trip_id=trip.id,
        service=trip.service,
        operator=operator,
        product=product,
        from_station=from_name,
        to_station=to_name,
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
