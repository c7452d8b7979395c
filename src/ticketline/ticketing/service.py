"""The ticketing area's front door: what the IVR, the desktop and the API call.

`TicketingService` holds the writers of each sub-concept (`catalog`, `fares`,
`orders`, ...) and offers the plain functions the IVR needs. Every function takes
and returns plain values or pydantic models; errors are `TicketlineError`s with a
stable `code` (see `errors.py`).

For the IVR (all `async`, on `app.ticketing`):

    find_stations(text: str, limit=10) -> list[StationOut]
        by code, Chinese name, pinyin ('beijingnan') or initials ('bjn').
    timetable(from_code: str, to_code: str, day: date) -> list[TripOption]
        trips leaving `from_code` on local date `day` for `to_code`, by departure,
        each with departure/arrival, duration and per class the fare and seats left.
    seats_left(trip_id: str, from_code: str, to_code: str) -> dict[str, int]
        seats free on every leg of the journey, by class code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database
from ticketline.ticketing import order_models, search
from ticketline.ticketing.catalog import CatalogService, find_stations
from ticketline.ticketing.errors import CatalogNotFound, TripNotBookable
from ticketline.ticketing.fares import FareService
from ticketline.ticketing.inventory import is_free
from ticketline.ticketing.models import RouteStop, Station, Trip, TripSeat
from ticketline.ticketing.schemas import StationOut, TripOption

# The order tables belong to this area's schema even before orders are written.
ORDER_TABLE = order_models.Order.__tablename__


@dataclass(frozen=True)
class Journey:
    """A trip and where the passenger boards and leaves it."""

    trip: Trip
    from_seq: int
    to_seq: int
    legs_total: int


class TicketingService:
    """Composition of the ticketing writers, plus the read functions callers share."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone
        self.catalog = CatalogService(db, clock, bus, zone)
        self.fares = FareService(db, clock)

    async def install_defaults(self) -> None:
        """Passenger types and fee rules an installation starts with."""
        await self.fares.install_default_passenger_types()

    async def find_stations(self, text: str, limit: int = 10) -> list[StationOut]:
        found = await find_stations(self.db, text, limit)
        return [StationOut.model_validate(s, from_attributes=True) for s in found]

    async def timetable(self, from_code: str, to_code: str, day: date) -> list[TripOption]:
        return await search.search_trips(
            self.db, from_code, to_code, day, zone=self.zone, now=self.clock.now()
        )

    async def seats_left(self, trip_id: str, from_code: str, to_code: str) -> dict[str, int]:
        journey = await self.journey(trip_id, from_code, to_code)
        mask = (1 << journey.to_seq) - (1 << journey.from_seq)
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(TripSeat.class_code, func.sum(case((is_free(mask), 1), else_=0)))
                .where(TripSeat.trip_id == trip_id)
                .group_by(TripSeat.class_code)
            )
            return {cls: int(n) for cls, n in rows}

    async def journey(self, trip_id: str, from_code: str, to_code: str) -> Journey:
        """The trip and the stop numbers of two station codes on it, or a clear error."""
        async with self.db.sessions() as session:
            trip = await session.get(Trip, trip_id)
            if trip is None:
                raise CatalogNotFound(f"no trip {trip_id}", details={"field": "trip_id"})
            rows = await session.execute(
                select(Station.code, RouteStop.seq)
                .join(RouteStop, RouteStop.station_id == Station.id)
                .where(RouteStop.route_id == trip.route_id)
            )
            seqs = {code: seq for code, seq in rows}
        for field, code in (("from", from_code), ("to", to_code)):
            if code not in seqs:
                raise TripNotBookable(
                    f"{field}: the trip does not stop at {code!r}", details={"field": field}
                )
        if seqs[from_code] >= seqs[to_code]:
            raise TripNotBookable("to: comes before from on this trip", details={"field": "to"})
        return Journey(trip, seqs[from_code], seqs[to_code], len(seqs) - 1)
