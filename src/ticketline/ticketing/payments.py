"""Payments: the order ledger, credit (IOU) lists and the daily settlement.

The ledger is append-only: a payment is a positive entry, a refund a negative
one, and nothing is ever updated or deleted. A payment carries a client key: the
same key again returns the payment already recorded instead of taking the money
twice. An order is never paid beyond its total, and never refunded below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database
from ticketline.ticketing import events
from ticketline.ticketing.errors import PaymentRejected
from ticketline.ticketing.models import Route, Trip
from ticketline.ticketing.order_models import LedgerEntry, Order, Ticket
from ticketline.ticketing.orders import OrderService, lock_order, order_event, paid_fen, transition
from ticketline.ticketing.schemas import OrderOut, PaymentIn
from ticketline.ticketing.states import can


@dataclass(frozen=True)
class CreditLine:
    """An order on credit that still owes money."""

    code: str
    contact_name: str
    contact_phone: str
    due: date
    owed_fen: int


@dataclass(frozen=True)
class SettlementLine:
    actor: str
    method: str
    payments_fen: int
    refunds_fen: int
    count: int


async def add_entry(
    session: AsyncSession,
    order: Order,
    *,
    kind: str,
    method: str,
    amount_fen: int,
    key: str,
    actor: Actor,
    now: datetime,
    reference: str | None = None,
) -> LedgerEntry:
    """Append one ledger entry inside the caller's transaction (order already locked)."""
    if kind == "payment" and amount_fen <= 0:
        raise PaymentRejected("amount_fen: a payment must be positive")
    if kind == "refund" and amount_fen >= 0:
        raise PaymentRejected("amount_fen: a refund is recorded as a negative amount")
    balance = await paid_fen(session, order.id)
    if kind == "payment" and balance + amount_fen > order.total_fen:
        raise PaymentRejected(
            f"amount_fen: only {order.total_fen - balance} fen are due",
            details={"field": "amount_fen", "due_fen": order.total_fen - balance},
        )
    if kind == "refund" and balance + amount_fen < 0:
        raise PaymentRejected("amount_fen: more than was paid", details={"field": "amount_fen"})
    entry = LedgerEntry(
        order_id=order.id,
        kind=kind,
        method=method,
        amount_fen=amount_fen,
        key=key,
        reference=reference,
        at=now,
        actor=actor.name,
    )
    session.add(entry)
    await session.flush()
    return entry


class PaymentService:
    """The only writer of payment entries; refunds add theirs through `add_entry`."""

    def __init__(
        self, db: Database, clock: Clock, bus: EventBus, zone: ZoneInfo, orders: OrderService
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone
        self.orders = orders

    async def pay(self, actor: Actor, code: str, data: PaymentIn) -> OrderOut:
        """Record a payment (one of several, for instalments); paying the whole total
        moves a held or booked order to paid. The same key twice pays once."""
        now = self.clock.now()
        became_paid = False
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            if await self._already_recorded(session, order, data):
                return await self.orders.view(order.code)
            if order.state not in {"held", "booked", "issued"}:
                raise PaymentRejected(
                    f"code: the order is {order.state}", details={"field": "code"}
                )
            if order.expires_at is not None and order.expires_at <= now:
                raise PaymentRejected("code: the order has expired", details={"field": "code"})
            await add_entry(
                session,
                order,
                kind="payment",
                method=data.method,
                amount_fen=data.amount_fen,
                key=data.key,
                actor=actor,
                now=now,
                reference=data.reference,
            )
            paid = await paid_fen(session, order.id)
            details = {"amount_fen": data.amount_fen, "method": data.method}
            if paid == order.total_fen and can(order.state, "pay"):
                await transition(session, order, "pay", actor, now, details)
                order.expires_at = None
                became_paid = True
            else:
                await transition(
                    session, order, "payment", actor, now, details, to_state=order.state
                )
            route, departs_at = await first_trip(session, order.id) if became_paid else ("", "")
        if became_paid:
            await self.bus.publish(
                order_event(
                    events.OrderPaid,
                    order,
                    actor,
                    amount_fen=data.amount_fen,
                    method=data.method,
                    route=route,
                    departs_at=departs_at,
                )
            )
        return await self.orders.view(order.code)

    async def _already_recorded(self, session: AsyncSession, order: Order, data: PaymentIn) -> bool:
        entry = await session.scalar(select(LedgerEntry).where(LedgerEntry.key == data.key))
        if entry is None:
            return False
        if entry.order_id != order.id or entry.amount_fen != data.amount_fen:
            raise PaymentRejected("key: already used for another payment", details={"field": "key"})
        return True

    async def credit_owed(self, *, due_before: date | None = None) -> list[CreditLine]:
        """Orders on credit still owing, earliest due first; `due_before` for reminders
        (due soon) or the overdue list (due before today)."""
        balance = (
            select(LedgerEntry.order_id, func.sum(LedgerEntry.amount_fen).label("paid"))
            .group_by(LedgerEntry.order_id)
            .subquery()
        )
        stmt = (
            select(Order, func.coalesce(balance.c.paid, 0))
            .outerjoin(balance, balance.c.order_id == Order.id)
            .where(
                Order.credit_due.is_not(None),
                Order.state.not_in(["cancelled", "expired", "refunded", "void"]),
            )
            .order_by(Order.credit_due, Order.code)
        )
        if due_before is not None:
            stmt = stmt.where(Order.credit_due < due_before)
        async with self.db.sessions() as session:
            rows = (await session.execute(stmt)).all()
        return [
            CreditLine(o.code, o.contact_name, o.contact_phone, o.credit_due, o.total_fen - paid)
            for o, paid in rows
            if o.credit_due is not None and o.total_fen - int(paid) > 0
        ]

    async def remind_credit_due(self) -> int:
        """Announce `CreditDueSoon` once for each order on credit due within the policy's
        reminder days that still owes money; returns how many were reminded."""
        days = self.orders.policy.credit_reminder_days
        if days <= 0:
            return 0
        today = self.clock.now().astimezone(self.zone).date()
        due_soon = [
            line
            for line in await self.credit_owed(due_before=today + timedelta(days=days + 1))
            if line.due >= today
        ]
        reminded = []
        async with self.db.transaction() as session:
            for line in due_soon:
                order = await lock_order(session, line.code)
                if order.credit_reminded_on is None:
                    order.credit_reminded_on = today
                    reminded.append(events.CreditDueSoon(
                        order.code, order.contact_phone, order.locale, line.due.isoformat(),
                        line.owed_fen,
                    ))  # fmt: skip
        for event in reminded:
            await self.bus.publish(event)
        return len(reminded)

    async def overdue(self) -> list[CreditLine]:
        return await self.credit_owed(due_before=self.clock.now().astimezone(self.zone).date())

    async def settlement(self, day: date) -> list[SettlementLine]:
        """Money taken and given back on a local day, per agent and payment method."""
        start = datetime.combine(day, time(0), tzinfo=self.zone)
        end = start + timedelta(days=1)
        payments = func.sum(case((LedgerEntry.amount_fen > 0, LedgerEntry.amount_fen), else_=0))
        refunds = func.sum(LedgerEntry.amount_fen) - payments
        stmt = (
            select(LedgerEntry.actor, LedgerEntry.method, payments, refunds, func.count())
            .where(LedgerEntry.at >= start, LedgerEntry.at < end)
            .group_by(LedgerEntry.actor, LedgerEntry.method)
            .order_by(LedgerEntry.actor, LedgerEntry.method)
        )
        async with self.db.sessions() as session:
            rows = (await session.execute(stmt)).all()
        return [SettlementLine(a, m, int(p), int(r), int(n)) for a, m, p, r, n in rows]


async def first_trip(session: AsyncSession, order_id: str) -> tuple[str, str]:
    """Route code and departure (ISO, UTC) of the order's earliest trip, or blanks."""
    row = (
        await session.execute(
            select(Route.code, Trip.departs_at)
            .join(Trip, Trip.route_id == Route.id)
            .join(Ticket, Ticket.trip_id == Trip.id)
            .where(Ticket.order_id == order_id)
            .order_by(Trip.departs_at)
            .limit(1)
        )
    ).first()
    if row is None:
        return "", ""
    return row[0], row[1].isoformat()
