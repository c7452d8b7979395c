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
        seats free on every leg of the journey, by class code (for a general-admission
        class such as "ga", the places left of its quota).
    fares_for(trip_id: str, from_code: str, to_code: str, passenger_type="adult")
            -> dict[str, int]
        the computed price in fen of one ticket, by class code.
    order_status(code: str) -> OrderOut
        state, total/paid/balance, expiry, tickets (masked IDs) of a booking code;
        OrderNotFound ("order_not_found") when there is none.
    resend_pickup_code(code: str, actor=SYSTEM) -> None
        a NEW pickup code goes by SMS to the contact phone (only hashes are kept).
    cancel_unpaid(code: str, actor=SYSTEM) -> OrderOut
        cancels a hold or unpaid booking; refused once money was paid.
    refund_rules(code: str) -> RefundQuote
        allowed?, the rule ("10% from 24h to 48h before departure"), hours left,
        fee and refund in fen per ticket and in total, if refunded now.
    change_rules(code: str, trip_id: str, class_code=None) -> ChangeQuote
        allowed?, rule, fee and fare difference (+ to pay, - to refund) of moving
        the order's tickets to another trip of the same journey.
    performances_on(day: date) -> list[TripOption]
        every performance (trip of an `event` route) on local date `day`, in every
        venue, by starting time, each with its sections' prices and seats left.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from ticketline.admin.security import SYSTEM, Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database
from ticketline.ticketing import rules, search
from ticketline.ticketing.catalog import CatalogService, find_stations
from ticketline.ticketing.changes import ChangeService
from ticketline.ticketing.deposits import DepositService
from ticketline.ticketing.fares import FareService, price_ticket
from ticketline.ticketing.finance import FinanceService, install_categories
from ticketline.ticketing.inventory import is_free, leg_mask
from ticketline.ticketing.models import Fare, Route, RouteStop, Station, TripSeat
from ticketline.ticketing.orders import OrderPolicy, OrderService
from ticketline.ticketing.payments import PaymentService
from ticketline.ticketing.refunds import RefundService
from ticketline.ticketing.schemas import (
    ChangeQuote,
    ChangeQuoteIn,
    OrderOut,
    RefundQuote,
    SeatOut,
    StationOut,
    TripOption,
)
from ticketline.ticketing.search import Journey, load_journey
from ticketline.ticketing.stock import StockService


class TicketingService:
    """Composition of the ticketing writers, plus the read functions callers share."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: EventBus,
        zone: ZoneInfo,
        policy: OrderPolicy | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone
        self.snapshots = search.CatalogSnapshots(db)
        self.catalog = CatalogService(db, clock, bus, zone, changed=self.snapshots.invalidate)
        self.fares = FareService(db, clock, changed=self.snapshots.invalidate)
        self.orders = OrderService(db, clock, bus, zone, policy or OrderPolicy())
        self.payments = PaymentService(db, clock, bus, zone, self.orders)
        self.refunds = RefundService(self.orders)
        self.changes = ChangeService(self.orders)
        self.deposits = DepositService(db, clock, bus)
        self.finance = FinanceService(db, clock, zone)
        self.stock = StockService(db, clock)

    async def install_defaults(self) -> None:
        """Passenger types, fee rules and finance categories an installation starts with."""
        await self.fares.install_default_passenger_types()
        async with self.db.transaction() as session:
            await rules.install_default_rules(session)
            await install_categories(session)

    async def fee_rules(self) -> list[rules.FeeRuleOut]:
        async with self.db.sessions() as session:
            return [rules.rule_out(r) for r in await rules.list_rules(session)]

    async def replace_fee_rules(self, actor: Actor, data: rules.FeeRuleSet) -> None:
        async with self.db.transaction() as session:
            await rules.replace_rules(session, actor, data, self.clock.now())

    async def route_codes(self) -> set[str]:
        """The codes of every route in the catalog (for checking filters that name them)."""
        async with self.db.sessions() as session:
            return set(await session.scalars(select(Route.code)))

    async def find_stations(self, text: str, limit: int = 10) -> list[StationOut]:
        found = await find_stations(self.db, text, limit)
        return [StationOut.model_validate(s, from_attributes=True) for s in found]

    async def timetable(self, from_code: str, to_code: str, day: date) -> list[TripOption]:
        return await search.search_trips(
            self.db, self.snapshots, from_code, to_code, day, zone=self.zone, now=self.clock.now()
        )

    async def performances_on(self, day: date) -> list[TripOption]:
        """Performances on `day` in every venue: the trips of event routes, by time."""
        shows: list[TripOption] = []
        for doors, ends in await self._venues():
            shows += await self.timetable(doors, ends, day)
        return sorted(shows, key=lambda show: (show.departs_at, show.service))

    async def _venues(self) -> list[tuple[str, str]]:
        """(first stop, last stop) station codes of every event route."""
        first, last = func.min(RouteStop.seq), func.max(RouteStop.seq)
        ends = (
            select(RouteStop.route_id, first.label("first"), last.label("last"))
            .join(Route, Route.id == RouteStop.route_id)
            .where(Route.product == "event")
            .group_by(RouteStop.route_id)
            .subquery()
        )
        doors, closing = aliased(RouteStop), aliased(RouteStop)
        doors_at, closing_at = aliased(Station), aliased(Station)
        query = (
            select(doors_at.code, closing_at.code)
            .select_from(ends)
            .join(doors, (doors.route_id == ends.c.route_id) & (doors.seq == ends.c.first))
            .join(closing, (closing.route_id == ends.c.route_id) & (closing.seq == ends.c.last))
            .join(doors_at, doors_at.id == doors.station_id)
            .join(closing_at, closing_at.id == closing.station_id)
            .order_by(doors_at.code)
        )
        async with self.db.sessions() as session:
            return [(a, b) for a, b in await session.execute(query)]

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

    async def seat_map(
        self, trip_id: str, from_code: str, to_code: str, class_code: str
    ) -> list[SeatOut]:
        """Every seat of a class on the trip, and whether it is free from `from_code`
        to `to_code`, in section, row and seat order; none for general admission."""
        journey = await self.journey(trip_id, from_code, to_code)
        mask = leg_mask(journey.from_seq, journey.to_seq)
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(
                    TripSeat.seat_no, TripSeat.section, TripSeat.row, TripSeat.position,
                    is_free(mask),
                )
                .where(
                    TripSeat.trip_id == trip_id,
                    TripSeat.class_code == class_code,
                    TripSeat.numbered.is_(True),
                )
                .order_by(TripSeat.section, TripSeat.row, TripSeat.seat_no)
            )  # fmt: skip
            return [SeatOut(seat_no=n, section=s, row=r, position=p, free=bool(f))
                    for n, s, r, p, f in rows]  # fmt: skip

    async def journey(self, trip_id: str, from_code: str, to_code: str) -> Journey:
        """The trip and the stop numbers of two station codes on it, or a clear error."""
        async with self.db.sessions() as session:
            return await load_journey(session, trip_id, from_code, to_code)

    async def order_status(self, code: str) -> OrderOut:
        """An order by booking code (look-alike characters forgiven)."""
        return await self.orders.view(code)

    async def resend_pickup_code(self, code: str, actor: Actor = SYSTEM) -> None:
        """A new pickup code goes by SMS to the order's contact phone."""
        await self.orders.resend_pickup_code(actor, code)

    async def cancel_unpaid(self, code: str, actor: Actor = SYSTEM) -> OrderOut:
        """Cancel a hold or an unpaid booking; its seats are sellable at once."""
        return await self.orders.cancel(actor, code, reason="customer")

    async def expire_due(self) -> int:
        """Expire holds and unpaid bookings past their deadline (the worker calls it)."""
        return await self.orders.expire_due()

    async def fares_for(
        self, trip_id: str, from_code: str, to_code: str, passenger_type: str = "adult"
    ) -> dict[str, int]:
        """The computed price in fen of one ticket of each class on this journey."""
        async with self.db.sessions() as session:
            journey = await load_journey(session, trip_id, from_code, to_code)
            classes = await session.scalars(
                select(Fare.class_code).where(
                    Fare.route_id == journey.trip.route_id,
                    Fare.from_seq == journey.from_seq,
                    Fare.to_seq == journey.to_seq,
                )
            )
            day = journey.boards_at.astimezone(self.zone).date()
            prices = {}
            for class_code in list(classes):
                price = await price_ticket(
                    session,
                    route_id=journey.trip.route_id,
                    class_code=class_code,
                    from_seq=journey.from_seq,
                    to_seq=journey.to_seq,
                    passenger_type=passenger_type,
                    travel_date=day,
                )
                prices[class_code] = price.price_fen
        return prices

    async def refund_rules(self, code: str) -> RefundQuote:
        """What refunding the whole order would give back now, and the rule applied."""
        return await self.refunds.quote(code)

    async def change_rules(
        self, code: str, trip_id: str, class_code: str | None = None
    ) -> ChangeQuote:
        """The fee and fare difference of moving the order's tickets to `trip_id`."""
        return await self.changes.quote(code, ChangeQuoteIn(trip_id=trip_id, class_code=class_code))
