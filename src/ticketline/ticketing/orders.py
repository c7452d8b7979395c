"""Order use cases: book, confirm, issue, pick up, use, cancel, expire; the only writer of
orders.

Every state change goes through `transition`, which consults the one table in
`states.py`, writes an order log line and an audit entry in the same
transaction. A use case that changes an order first bumps its `version` with an
UPDATE: that takes the row's write lock (PostgreSQL) or the database's (SQLite)
before anything is read, so two agents acting on one order are serialised and no
decision is taken on a stale read.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import SYSTEM, Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.ids import human_code, new_id, normalize_human_code, secret_digits
from ticketline.core.ids import secrets_equal as _secrets_equal
from ticketline.db.session import Database
from ticketline.ticketing import events
from ticketline.ticketing.deposits import debit_for_issue
from ticketline.ticketing.errors import (
    HoldExpired,
    OrderNotFound,
    PickupCodeWrong,
    PickupLocked,
    SeatsUnavailable,
    TicketNotUsable,
    TripNotBookable,
)
from ticketline.ticketing.fares import Price, price_ticket
from ticketline.ticketing.finance import book_issue
from ticketline.ticketing.identity import normalize_document, normalize_phone
from ticketline.ticketing.inventory import (
    SeatRequest,
    claim_seats,
    open_claims,
    release_claims,
    run_claiming,
)
from ticketline.ticketing.models import RouteStop, Station, Trip
from ticketline.ticketing.order_models import LedgerEntry, Order, OrderLog, Ticket
from ticketline.ticketing.schemas import BookingIn, BookingOut, OrderOut
from ticketline.ticketing.search import Journey, load_journey
from ticketline.ticketing.states import OPEN_STATES, can, next_state
from ticketline.ticketing.stock import consume_for_issue
from ticketline.ticketing.views import order_view

E = TypeVar("E", bound=events.OrderEvent)


@dataclass(frozen=True)
class OrderPolicy:
    """What an installation decides about orders; app.py builds it from the settings."""

    hold_minutes: int = 15
    pay_hours: int = 24
    insurance_fen: int = 300
    max_pickup_failures: int = 5
    pickup_place: str = "车站售票窗口"
    company: str = "Ticketline"
    credit_reminder_days: int = 2


def pickup_hash(order_id: str, code: str) -> str:
    """The stored form of a pickup code, keyed by the order so equal codes differ."""
    return hmac.new(order_id.encode(), code.encode(), hashlib.sha256).hexdigest()


async def lock_order(session: AsyncSession, code: str) -> Order:
    """Take the order's write lock first, then read it fresh (see the module note)."""
    code = normalize_human_code(code)
    result = await session.execute(
        update(Order)
        .where(Order.code == code)
        .values(version=Order.version + 1)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        raise OrderNotFound(f"no order {code}", details={"field": "code"})
    order = await session.scalar(
        select(Order).where(Order.code == code).execution_options(populate_existing=True)
    )
    assert order is not None
    return order


async def transition(
    session: AsyncSession,
    order: Order,
    action: str,
    actor: Actor,
    now: datetime,
    details: dict[str, Any] | None = None,
    *,
    to_state: str | None = None,
) -> None:
    """Move the order by `action` (or only log it, when `to_state` keeps the state)."""
    before = order.state
    order.state = to_state or next_state(order.state, action)
    session.add(
        OrderLog(
            order_id=order.id,
            at=now,
            actor=actor.name,
            action=action,
            from_state=before,
            to_state=order.state,
            details=details,
        )
    )
    await audit.record(
        session,
        actor=actor,
        action=f"order.{action}",
        entity_type="tk_order",
        entity_id=order.code,
        at=now,
        before={"state": before},
        after={"state": order.state, **(details or {})},
    )


async def paid_fen(session: AsyncSession, order_id: str) -> int:
    """The order's balance in the ledger: payments less refunds."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
            LedgerEntry.order_id == order_id
        )
    )
    return int(total or 0)


def order_event(cls: type[E], order: Order, actor: Actor, **extra: Any) -> E:
    return cls(
        order_id=order.id,
        code=order.code,
        phone=order.contact_phone,
        locale=order.locale,
        total_fen=order.total_fen,
        actor=actor.name,
        **extra,
    )


class OrderService:
    """Booking and the order's life up to pickup; money is in `payments.py`."""

    def __init__(
        self, db: Database, clock: Clock, bus: EventBus, zone: ZoneInfo, policy: OrderPolicy
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone
        self.policy = policy

    async def book(self, actor: Actor, data: BookingIn) -> BookingOut:
        """Hold or book seats for every passenger in one transaction, or nothing."""
        phone = normalize_phone("contact_phone", data.contact_phone)
        documents = _documents(data)
        now = self.clock.now()
        async with self.db.sessions() as session:
            journey = await load_journey(session, data.trip_id, data.from_station, data.to_station)
            self._check_bookable(journey, data, now)
            prices = [
                await price_ticket(
                    session,
                    route_id=journey.trip.route_id,
                    class_code=data.class_code,
                    from_seq=journey.from_seq,
                    to_seq=journey.to_seq,
                    passenger_type=p.passenger_type,
                    travel_date=journey.boards_at.astimezone(self.zone).date(),
                )
                for p in data.passengers
            ]
        pickup = secret_digits(8)
        order = await self._create_with_retries(
            actor, data, journey, prices, documents, phone, pickup
        )
        view = await self.view(order.code)
        await self.bus.publish(self._booked_event(order, actor, pickup, journey))
        return BookingOut(order=view, pickup_code=pickup)

    def _check_bookable(self, journey: Journey, data: BookingIn, now: datetime) -> None:
        if journey.trip.status != "scheduled":
            raise TripNotBookable("trip_id: the trip is cancelled", details={"field": "trip_id"})
        if journey.boards_at <= now:
            raise TripNotBookable("trip_id: the trip has left", details={"field": "trip_id"})
        if data.seats and len(data.seats) != len(data.passengers):
            raise InvalidInput("seats", "choose one seat per passenger, or none")
        if len(set(data.seats)) != len(data.seats):
            raise InvalidInput("seats", "the same seat is chosen twice")
        if data.on_credit:
            if data.hold_only:
                raise InvalidInput("on_credit", "a hold cannot be on credit")
            if data.credit_due is None or data.credit_due < now.astimezone(self.zone).date():
                raise InvalidInput("credit_due", "a due date from today on is required")

    async def _create_with_retries(
        self,
        actor: Actor,
        data: BookingIn,
        journey: Journey,
        prices: list[Price],
        documents: list[str],
        phone: str,
        pickup: str,
    ) -> Order:
        request = SeatRequest(
            journey.trip.id,
            data.class_code,
            journey.from_seq,
            journey.to_seq,
            len(data.passengers),
            journey.legs_total,
            data.preference,
            tuple(data.seats),
        )
        for attempt in range(3):
            work = partial(
                self._create,
                actor=actor,
                data=data,
                request=request,
                prices=prices,
                documents=documents,
                phone=phone,
                pickup=pickup,
                now=self.clock.now(),
            )
            try:
                return await run_claiming(self.db, work)
            except SeatsUnavailable:
                # Expired holds may be what stands in the way: release them, try again.
                if attempt == 2 or not await self.expire_due():
                    raise
            except IntegrityError:  # a booking code drawn twice: draw another
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _create(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        data: BookingIn,
        request: SeatRequest,
        prices: list[Price],
        documents: list[str],
        phone: str,
        pickup: str,
        now: datetime,
    ) -> Order:
        order_id = new_id()
        seats = await claim_seats(session, request, order_id, now)
        insurance = self.policy.insurance_fen if data.insurance else 0
        state = "held" if data.hold_only else "booked"
        order = Order(
            id=order_id,
            code=human_code(6),
            state=state,
            contact_name=data.contact_name,
            contact_phone=phone,
            locale=data.locale,
            total_fen=sum(p.price_fen + insurance for p in prices),
            pickup_hash=pickup_hash(order_id, pickup),
            pickup_failures=0,
            expires_at=self._expiry(data, now),
            credit_due=data.credit_due if data.on_credit else None,
            created_at=now,
            created_by=actor.name,
            version=0,
        )
        session.add(order)
        await session.flush()
        for passenger, document, price, seat in zip(
            data.passengers, documents, prices, seats, strict=True
        ):
            session.add(
                Ticket(
                    order_id=order_id,
                    passenger_name=passenger.name,
                    id_type=passenger.id_type,
                    id_number=document,
                    passenger_type=passenger.passenger_type,
                    trip_id=request.trip_id,
                    trip_seat_id=seat.trip_seat_id,
                    claim_id=seat.claim_id,
                    from_seq=request.from_seq,
                    to_seq=request.to_seq,
                    class_code=request.class_code,
                    seat_no=seat.ticket_seat_no,
                    fare_fen=price.fare_fen,
                    price_fen=price.price_fen,
                    insurance_fen=insurance,
                    status="active",
                )
            )
        details = {"total_fen": order.total_fen, "seats": [s.place for s in seats]}
        await transition(session, order, "create", actor, now, details, to_state=state)
        return order

    def _expiry(self, data: BookingIn, now: datetime) -> datetime | None:
        if data.on_credit:
            return None
        if data.hold_only:
            return now + timedelta(minutes=self.policy.hold_minutes)
        return now + timedelta(hours=self.policy.pay_hours)

    def _booked_event(
        self, order: Order, actor: Actor, pickup: str, journey: Journey
    ) -> events.OrderEvent:
        if order.state == "held":
            return order_event(events.OrderHeld, order, actor)
        return order_event(
            events.OrderBooked,
            order,
            actor,
            pickup_code=pickup,
            trip=self.trip_text(journey),
            pickup_deadline=self.deadline_text(journey),
        )

    def trip_text(self, journey: Journey) -> str:
        local = journey.boards_at.astimezone(self.zone)
        return f"{journey.trip.service} {local:%m-%d %H:%M} {journey.from_name}-{journey.to_name}"

    def deadline_text(self, journey: Journey) -> str:
        return f"{journey.boards_at.astimezone(self.zone) - timedelta(minutes=30):%m-%d %H:%M}"

    async def view(self, code: str) -> OrderOut:
        async with self.db.sessions() as session:
            return await order_view(session, normalize_human_code(code))

    async def confirm(self, actor: Actor, code: str) -> OrderOut:
        """Turn a hold into a booking the customer pays later (before `pay_hours`)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            _refuse_expired(order, now)
            await transition(session, order, "confirm", actor, now)
            order.expires_at = now + timedelta(hours=self.policy.pay_hours)
        return await self.view(order.code)

    async def cancel(self, actor: Actor, code: str, reason: str = "customer") -> OrderOut:
        """Cancel an unpaid booking or hold and give its seats back at once."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if await paid_fen(session, order.id) != 0:
                raise InvalidInput("code", "the order has payments: refund it instead")
            await transition(session, order, "cancel", actor, now, {"reason": reason})
            await release_claims(session, await open_claims(session, order.id), now)
        await self.bus.publish(order_event(events.OrderCancelled, order, actor, reason=reason))
        return await self.view(order.code)

    async def expire_due(self) -> int:
        """Expire every hold or unpaid booking past its deadline; returns how many."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            due = list(
                await session.scalars(
                    select(Order.code).where(
                        Order.state.in_(OPEN_STATES),
                        Order.expires_at.is_not(None),
                        Order.expires_at <= now,
                    )
                )
            )
        expired = 0
        for code in due:
            expired += await self._expire_one(code, now)
        return expired

    async def _expire_one(self, code: str, now: datetime) -> int:
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if order.state not in OPEN_STATES or not order.expires_at or order.expires_at > now:
                return 0  # paid or confirmed meanwhile
            await transition(session, order, "expire", SYSTEM, now)
            await release_claims(session, await open_claims(session, order.id), now)
        await self.bus.publish(order_event(events.OrderCancelled, order, SYSTEM, reason="expired"))
        return 1

    async def verify_pickup(self, actor: Actor, code: str, pickup_code: str) -> OrderOut:
        """Check a pickup code at a counter (constant time, limited attempts); on success
        the tickets are handed over."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if order.pickup_failures >= self.policy.max_pickup_failures:
                raise PickupLocked("too many wrong pickup codes: send a new one")
            if not _secrets_equal(order.pickup_hash, pickup_hash(order.id, pickup_code.strip())):
                order.pickup_failures += 1
                failed = True
            else:
                failed = False
                order.pickup_failures = 0
                await transition(session, order, "pickup", actor, now)
        if failed:
            raise PickupCodeWrong("pickup code does not match", details={"field": "pickup_code"})
        await self.bus.publish(order_event(events.OrderPickedUp, order, actor))
        return await self.view(order.code)

    async def use(self, actor: Actor, code: str) -> OrderOut:
        """Check the tickets in at the gate or the boarding door (检票): issued, changed or
        picked-up tickets become used, once; anything else is TicketNotUsable."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if not can(order.state, "use"):
                reason, why = NOT_USABLE.get(order.state, ("closed", f"the order is {order.state}"))
                raise _not_usable(order, reason, why)
            journey = await self._first_journey(session, order.id)
            if journey.trip.status == "cancelled":
                raise _not_usable(order, "trip_cancelled", "the trip is cancelled: refund instead")
            await transition(session, order, "use", actor, now, {"trip": self.trip_text(journey)})
        await self.bus.publish(order_event(events.OrderUsed, order, actor))
        return await self.view(order.code)

    async def issue(self, actor: Actor, code: str) -> OrderOut:
        """Issue the tickets of a paid order (or one on credit); the customer gets a
        fresh pickup code by SMS with the pickup place and deadline."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if order.state == "booked" and order.credit_due is None:
                raise InvalidInput("code", "the order is not paid and not on credit")
            await transition(session, order, "issue", actor, now)
            order.expires_at = None
            clear = rotate_pickup_code(order)
            journey = await self._first_journey(session, order.id)
            await book_issue(session, order.id, actor, now, now.astimezone(self.zone).date())
            await session.flush()
            alerts: list[object] = [*await debit_for_issue(session, order.id, actor, now)]
            alerts += await consume_for_issue(session, order.id, actor, now)
        for alert in alerts:
            await self.bus.publish(alert)
        await self.bus.publish(
            order_event(
                events.OrderIssued,
                order,
                actor,
                pickup_code=clear,
                trip=self.trip_text(journey),
                pickup_deadline=self.deadline_text(journey),
            )
        )
        return await self.view(order.code)

    async def resend_pickup_code(self, actor: Actor, code: str) -> None:
        """Send a new pickup code by SMS to the order's contact phone (the old one stops
        working: only its hash was kept)."""
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if order.state not in PICKUP_STATES:
                raise InvalidInput("code", f"the order is {order.state}: nothing to pick up")
            clear = rotate_pickup_code(order)
            await transition(
                session, order, "resend_pickup", actor, self.clock.now(), to_state=order.state
            )
        await self.bus.publish(
            order_event(events.PickupCodeResent, order, actor, pickup_code=clear)
        )

    async def _first_journey(self, session: AsyncSession, order_id: str) -> Journey:
        ticket = await session.scalar(
            select(Ticket).where(Ticket.order_id == order_id, Ticket.status == "active").limit(1)
        )
        if ticket is None:
            raise InvalidInput("code", "the order has no active ticket")
        return await journey_of_ticket(session, ticket)


PICKUP_STATES = frozenset({"booked", "paid", "issued", "changed"})
# Why an order in this state cannot be checked in: (details.reason, message).
NOT_USABLE = {
    "used": ("already_used", "the tickets were already used"),
    "refunded": ("refunded", "the tickets were refunded"),
    "void": ("refunded", "the sale was voided"),
    "held": ("not_issued", "the tickets are not issued yet"),
    "booked": ("not_issued", "the tickets are not issued yet"),
    "paid": ("not_issued", "the tickets are not issued yet"),
}


def _not_usable(order: Order, reason: str, why: str) -> TicketNotUsable:
    return TicketNotUsable(
        f"code: {why}", details={"field": "code", "state": order.state, "reason": reason}
    )


def rotate_pickup_code(order: Order) -> str:
    """A fresh pickup code replaces the old one (and clears the failure count)."""
    clear = secret_digits(8)
    order.pickup_hash = pickup_hash(order.id, clear)
    order.pickup_failures = 0
    return clear


async def journey_of_ticket(session: AsyncSession, ticket: Ticket) -> Journey:
    rows = await session.execute(
        select(Station.code)
        .join(RouteStop, RouteStop.station_id == Station.id)
        .join(Trip, Trip.route_id == RouteStop.route_id)
        .where(Trip.id == ticket.trip_id, RouteStop.seq.in_([ticket.from_seq, ticket.to_seq]))
        .order_by(RouteStop.seq)
    )
    codes = list(rows.scalars())
    return await load_journey(session, ticket.trip_id, codes[0], codes[1])


def _refuse_expired(order: Order, now: datetime) -> None:
    if order.expires_at is not None and order.expires_at <= now and order.state in OPEN_STATES:
        raise HoldExpired(f"order {order.code} expired at {order.expires_at.isoformat()}")


def _documents(data: BookingIn) -> list[str]:
    documents = [
        normalize_document(f"passengers.{i}.id_number", p.id_type, p.id_number)
        for i, p in enumerate(data.passengers)
    ]
    if len(set(documents)) != len(documents):
        raise InvalidInput("passengers", "the same document appears twice")
    return documents
