"""Catalog use cases: operators, stations, routes, seat layouts, timetables and trips.

The only writer of the catalog tables; every change is audited. Trips are
generated from a timetable for a date range, each with its own copy of the
layout's seats (the inventory rows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.errors import CatalogNotFound, CodeTaken
from ticketline.ticketing.events import OrderTripCancelled, TripCancelled
from ticketline.ticketing.models import (
    LayoutSeat,
    Operator,
    Route,
    RouteStop,
    SeatLayout,
    Station,
    Timetable,
    Trip,
    TripSeat,
)
from ticketline.ticketing.order_models import Order, Ticket
from ticketline.ticketing.schemas import (
    LayoutIn,
    LayoutOut,
    OperatorIn,
    OperatorOut,
    RouteIn,
    RouteOut,
    RouteStopOut,
    StationIn,
    StationOut,
    TimetableIn,
    TripOut,
)

MAX_GENERATION_DAYS = 400


def initials_of(pinyin: str) -> str:
    """'bei jing nan' -> 'bjn': what people type to find a station fast."""
    return "".join(word[0] for word in pinyin.split())


class CatalogService:
    """Writes the catalog and lists it for the admin pages; searches are in `search.py`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: EventBus,
        zone: ZoneInfo,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone
        self.changed = changed  # told after stations, operators or routes change

    async def create_operator(self, actor: Actor, data: OperatorIn) -> Operator:
        async with self.db.transaction() as session:
            await refuse_taken(session, Operator, data.code)
            operator = Operator(**data.model_dump())
            session.add(operator)
            await self._audit(session, actor, "operator.create", operator.code, data.model_dump())
        self.changed()
        return operator

    async def create_station(self, actor: Actor, data: StationIn) -> Station:
        async with self.db.transaction() as session:
            await refuse_taken(session, Station, data.code)
            station = Station(
                **data.model_dump(exclude={"pinyin"}),
                pinyin=data.pinyin.replace(" ", ""),
                initials=initials_of(data.pinyin),
            )
            session.add(station)
            await self._audit(session, actor, "station.create", station.code, data.model_dump())
        self.changed()
        return station

    async def create_route(self, actor: Actor, data: RouteIn) -> Route:
        _check_stops(data)
        async with self.db.transaction() as session:
            await refuse_taken(session, Route, data.code)
            operator = await by_code(session, Operator, data.operator, "operator")
            stations = {
                s.station: await by_code(session, Station, s.station, "stops.station")
                for s in data.stops
            }
            route = Route(
                code=data.code, operator_id=operator.id, name=data.name, product=data.product
            )
            session.add(route)
            await session.flush()
            for seq, stop in enumerate(data.stops):
                session.add(
                    RouteStop(
                        route_id=route.id,
                        seq=seq,
                        station_id=stations[stop.station].id,
                        arrive_min=stop.arrive_min,
                        depart_min=stop.depart_min,
                        km=stop.km,
                    )
                )
            await self._audit(session, actor, "route.create", route.code, data.model_dump())
        self.changed()
        return route

    async def create_layout(self, actor: Actor, data: LayoutIn) -> SeatLayout:
        """Record a layout: its numbered seats, and a place per general-admission quota."""
        seats = layout_places(data)
        async with self.db.transaction() as session:
            await refuse_taken(session, SeatLayout, data.code)
            layout = SeatLayout(code=data.code, name=data.name)
            session.add(layout)
            await session.flush()
            await session.execute(
                insert(LayoutSeat), [{"layout_id": layout.id, **seat} for seat in seats]
            )
            summary = {
                "code": data.code,
                "name": data.name,
                "seats": len(data.seats),
                "quotas": [q.model_dump() for q in data.quotas],
            }
            await self._audit(session, actor, "layout.create", layout.code, summary)
        return layout

    async def add_timetable(self, actor: Actor, data: TimetableIn) -> tuple[Timetable, int]:
        """Record a timetable and generate its trips; returns it and the trips made."""
        if data.valid_to < data.valid_from:
            raise InvalidInput("valid_to", "is before valid_from")
        if (data.valid_to - data.valid_from).days > MAX_GENERATION_DAYS:
            raise InvalidInput("valid_to", f"at most {MAX_GENERATION_DAYS} days after valid_from")
        async with self.db.transaction() as session:
            route = await by_code(session, Route, data.route, "route")
            layout = await by_code(session, SeatLayout, data.layout, "layout")
            timetable = Timetable(
                route_id=route.id,
                layout_id=layout.id,
                service=data.service,
                departs_local=data.departs_local,
                weekdays=sum(1 << (d - 1) for d in set(data.weekdays)),
                valid_from=data.valid_from,
                valid_to=data.valid_to,
            )
            session.add(timetable)
            await session.flush()
            made = await self._generate(session, timetable, data.valid_from, data.valid_to)
            after = data.model_dump(mode="json") | {"trips": made}
            await self._audit(session, actor, "timetable.create", timetable.id, after)
        return timetable, made

    async def extend_timetable(self, actor: Actor, timetable_id: str, until: date) -> int:
        """Generate the trips of a timetable up to `until` (existing runs are kept)."""
        async with self.db.transaction() as session:
            timetable = await session.get(Timetable, timetable_id)
            if timetable is None:
                raise CatalogNotFound(f"no timetable {timetable_id}", details={"field": "id"})
            start = timetable.valid_to + timedelta(days=1)
            if until < start:
                return 0
            timetable.valid_to = until
            made = await self._generate(session, timetable, start, until)
            await self._audit(
                session, actor, "timetable.extend", timetable.id, {"until": until.isoformat()}
            )
        return made

    async def cancel_trip(self, actor: Actor, trip_id: str) -> Trip:
        """Cancel one run: it disappears from search, its tickets refund without a fee,
        and every order with tickets on it gets an OrderTripCancelled (an SMS)."""
        async with self.db.transaction() as session:
            trip = await session.get(Trip, trip_id)
            if trip is None:
                raise CatalogNotFound(f"no trip {trip_id}", details={"field": "trip_id"})
            before = trip.status
            trip.status = "cancelled"
            await audit.record(
                session,
                actor=actor,
                action="trip.cancel",
                entity_type="tk_trip",
                entity_id=trip.id,
                at=self.clock.now(),
                before={"status": before},
                after={"status": trip.status},
            )
            affected = await orders_on_trip(session, trip.id) if before != "cancelled" else []
        if before != "cancelled":
            await self.bus.publish(
                TripCancelled(trip.id, trip.service, trip.service_date.isoformat())
            )
            name = f"{trip.service} {trip.service_date.isoformat()}"
            for order in affected:
                await self.bus.publish(
                    OrderTripCancelled(
                        order.id, order.code, order.contact_phone, order.locale,
                        order.total_fen, actor.name, trip=name,
                    )
                )  # fmt: skip
        return trip

    async def operators(self) -> list[OperatorOut]:
        async with self.db.sessions() as session:
            found = await session.scalars(select(Operator).order_by(Operator.code))
            return [OperatorOut.model_validate(o, from_attributes=True) for o in found]

    async def stations(self) -> list[StationOut]:
        async with self.db.sessions() as session:
            found = await session.scalars(select(Station).order_by(Station.code))
            return [StationOut.model_validate(s, from_attributes=True) for s in found]

    async def routes(self) -> list[RouteOut]:
        """Every route with its stops in order."""
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Route, Operator.code)
                    .join(Operator, Operator.id == Route.operator_id)
                    .order_by(Route.code)
                )
            ).all()
            stops = await route_stops(session, [route.id for route, _ in rows])
        return [
            RouteOut(
                code=route.code,
                operator=operator,
                name=route.name,
                product=route.product,
                stops=stops.get(route.id, []),
            )
            for route, operator in rows
        ]

    async def layouts(self) -> list[LayoutOut]:
        """Every seat layout with its number of seats per class."""
        query = (
            select(SeatLayout.code, SeatLayout.name, LayoutSeat.class_code, func.count())
            .join(LayoutSeat, LayoutSeat.layout_id == SeatLayout.id)
            .group_by(SeatLayout.code, SeatLayout.name, LayoutSeat.class_code)
            .order_by(SeatLayout.code, LayoutSeat.class_code)
        )
        layouts: dict[str, LayoutOut] = {}
        async with self.db.sessions() as session:
            for code, name, class_code, count in await session.execute(query):
                layouts.setdefault(code, LayoutOut(code=code, name=name, seats={}))
                layouts[code].seats[class_code] = count
        return list(layouts.values())

    async def trips_on(self, day: date, route: str | None = None) -> list[TripOut]:
        """The runs of one service date (cancelled ones too), by departure."""
        query = (
            select(Trip, Route.code)
            .join(Route, Route.id == Trip.route_id)
            .where(Trip.service_date == day)
            .order_by(Trip.departs_at, Trip.service)
        )
        async with self.db.sessions() as session:
            if route is not None:
                query = query.where(
                    Trip.route_id == (await by_code(session, Route, route, "route")).id
                )
            rows = (await session.execute(query)).all()
        return [self._trip_out(trip, code) for trip, code in rows]

    def _trip_out(self, trip: Trip, route: str) -> TripOut:
        return TripOut(
            id=trip.id,
            route=route,
            service=trip.service,
            service_date=trip.service_date,
            departs_at=trip.departs_at.astimezone(self.zone),
            status=trip.status,
        )

    async def _generate(
        self, session: AsyncSession, timetable: Timetable, start: date, end: date
    ) -> int:
        seats = list(
            await session.scalars(
                select(LayoutSeat).where(LayoutSeat.layout_id == timetable.layout_id)
            )
        )
        existing = set(
            await session.scalars(
                select(Trip.service_date).where(Trip.timetable_id == timetable.id)
            )
        )
        made = 0
        day = start
        while day <= end:
            if timetable.weekdays & (1 << day.weekday()) and day not in existing:
                await self._add_trip(session, timetable, day, seats)
                made += 1
            day += timedelta(days=1)
        return made

    async def _add_trip(
        self, session: AsyncSession, timetable: Timetable, day: date, seats: list[LayoutSeat]
    ) -> None:
        hours, minutes = (int(p) for p in timetable.departs_local.split(":"))
        departs = datetime.combine(day, time(hours, minutes), tzinfo=self.zone)
        trip = Trip(
            route_id=timetable.route_id,
            timetable_id=timetable.id,
            layout_id=timetable.layout_id,
            service=timetable.service,
            service_date=day,
            departs_at=departs,
            status="scheduled",
        )
        session.add(trip)
        await session.flush()
        await session.execute(insert(TripSeat), [_trip_seat(trip.id, s) for s in seats])

    async def _audit(
        self, session: AsyncSession, actor: Actor, action: str, entity: str, after: dict[str, Any]
    ) -> None:
        await audit.record(
            session,
            actor=actor,
            action=f"ticketing.{action}",
            entity_type="ticketing",
            entity_id=entity,
            at=self.clock.now(),
            after=after,
        )


MAX_LAYOUT_PLACES = 10_000
# Orders whose customers hold tickets they may still travel on (or were deciding on).
STILL_TRAVELLING = ("held", "booked", "paid", "issued", "changed", "picked_up")


async def orders_on_trip(session: AsyncSession, trip_id: str) -> list[Order]:
    """Orders with active tickets on the trip that the customer may still travel on."""
    found = await session.scalars(
        select(Order)
        .where(
            Order.state.in_(STILL_TRAVELLING),
            Order.id.in_(
                select(Ticket.order_id).where(Ticket.trip_id == trip_id, Ticket.status == "active")
            ),
        )
        .order_by(Order.code)
    )
    return list(found)


def layout_places(data: LayoutIn) -> list[dict[str, Any]]:
    """The rows of a layout: its seats, then one unnumbered place per unit of quota.

    A place's key starts with "~", which no seat number may hold, and is never shown.
    A class is either numbered or general admission, so a booking in it gets what its
    fare promises (a seat, or a place without one)."""
    numbers = [s.seat_no for s in data.seats]
    if len(set(numbers)) != len(numbers):
        raise InvalidInput("seats", "seat numbers repeat")
    rows = [seat.model_dump() for seat in data.seats]
    places = [quota for quota in data.quotas for _ in range(quota.places)]
    rows += [
        {"seat_no": f"~{n:05d}", "class_code": quota.class_code, "section": quota.section,
         "row": 0, "position": "none", "numbered": False}
        for n, quota in enumerate(places, start=1)
    ]  # fmt: skip
    if not rows:
        raise InvalidInput("seats", "a layout needs seats or a general-admission quota")
    if len(rows) > MAX_LAYOUT_PLACES:
        raise InvalidInput("quotas", f"at most {MAX_LAYOUT_PLACES} seats and places in all")
    kinds: dict[str, set[bool]] = {}
    for row in rows:
        kinds.setdefault(row["class_code"], set()).add(row["numbered"])
    mixed = sorted(code for code, numbered in kinds.items() if len(numbered) > 1)
    if mixed:
        raise InvalidInput(
            "quotas", f"class {mixed[0]} has numbered seats: general admission needs its own"
        )
    return rows


def _trip_seat(trip_id: str, seat: LayoutSeat) -> dict[str, Any]:
    return {
        "trip_id": trip_id,
        "seat_no": seat.seat_no,
        "class_code": seat.class_code,
        "section": seat.section,
        "row": seat.row,
        "position": seat.position,
        "numbered": seat.numbered,
        "legs": 0,
    }


def _check_stops(data: RouteIn) -> None:
    codes = [s.station for s in data.stops]
    if len(set(codes)) != len(codes):
        raise InvalidInput("stops", "a station appears twice on the route")
    previous = -1
    for i, stop in enumerate(data.stops):
        if stop.arrive_min > stop.depart_min or stop.arrive_min < previous:
            raise InvalidInput(f"stops.{i}", "times must not go backwards")
        previous = stop.depart_min
    kms = [s.km for s in data.stops]
    if kms != sorted(kms):
        raise InvalidInput("stops", "distances must grow along the route")


async def refuse_taken(session: AsyncSession, model: Any, code: str) -> None:
    if await session.scalar(select(model.id).where(model.code == code)):
        raise CodeTaken(f"code {code!r} is already used", details={"field": "code"})


async def by_code(session: AsyncSession, model: Any, code: str, field: str) -> Any:
    found = await session.scalar(select(model).where(model.code == code))
    if found is None:
        raise CatalogNotFound(f"{field}: no {code!r}", details={"field": field})
    return found


async def route_stops(session: AsyncSession, route_ids: list[str]) -> dict[str, list[RouteStopOut]]:
    """The stops of each route, in order, by route id."""
    rows = await session.execute(
        select(RouteStop, Station)
        .join(Station, Station.id == RouteStop.station_id)
        .where(RouteStop.route_id.in_(route_ids))
        .order_by(RouteStop.route_id, RouteStop.seq)
    )
    stops: dict[str, list[RouteStopOut]] = {}
    for stop, station in rows:
        stops.setdefault(stop.route_id, []).append(
            RouteStopOut(
                seq=stop.seq,
                station=station.code,
                name_zh=station.name_zh,
                name_en=station.name_en,
                arrive_min=stop.arrive_min,
                depart_min=stop.depart_min,
                km=stop.km,
            )
        )
    return stops


async def find_stations(db: Database, text: str, limit: int = 10) -> list[Station]:
    """Stations by code, Chinese name, pinyin or initials ('bjn', 'beijing', '北京')."""
    query = text.strip()
    if not query:
        return []
    squashed = query.lower().replace(" ", "")
    stmt = (
        select(Station)
        .where(
            or_(
                Station.code == query.upper(),
                Station.name_zh.startswith(query, autoescape=True),
                Station.initials.startswith(squashed, autoescape=True),
                Station.pinyin.startswith(squashed, autoescape=True),
                Station.name_en.istartswith(query, autoescape=True),
            )
        )
        .order_by(Station.name_zh)
        .limit(limit)
    )
    async with db.sessions() as session:
        return list(await session.scalars(stmt))
