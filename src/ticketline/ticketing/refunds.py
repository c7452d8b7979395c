"""Refund (退票) and void: quote first, then confirm the very amounts quoted.

A refund is computed by the fee rules for each ticket, shown to the customer,
and carried out only if the rules still give the amount the agent confirms
(`expected_refund_fen`); otherwise QuoteChanged. The refund is a negative ledger
entry; the order total drops by the same amount, so the ledger still balances
what the order keeps (the fees and the tickets not refunded). A ticket on a trip
the operator cancelled is refunded in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin.security import Actor
from ticketline.core.errors import InvalidInput
from ticketline.core.ids import normalize_human_code
from ticketline.ticketing import events
from ticketline.ticketing.deposits import credit_for_refund
from ticketline.ticketing.errors import NotAllowedByRules, OrderNotFound, QuoteChanged
from ticketline.ticketing.finance import book_refund
from ticketline.ticketing.inventory import release_claims
from ticketline.ticketing.models import Route, RouteStop, Trip
from ticketline.ticketing.order_models import Order, Ticket
from ticketline.ticketing.orders import OrderService, lock_order, order_event, paid_fen, transition
from ticketline.ticketing.payments import add_entry
from ticketline.ticketing.rules import decide
from ticketline.ticketing.schemas import OrderOut, RefundIn, RefundLine, RefundQuote
from ticketline.ticketing.states import can

SETTLED_STATES = frozenset({"paid", "issued", "changed"})
# An unpaid order's quote still reads the rules (what paying then refunding would cost);
# these can never be refunded, so their quote says so.
NEVER_REFUNDABLE = frozenset({"picked_up", "used", "refunded", "void", "cancelled", "expired"})


@dataclass(frozen=True)
class TicketJourney:
    """A ticket with what the fee rules need: its product, departure and trip state."""

    ticket: Ticket
    product: str
    boards_at: datetime
    trip_cancelled: bool


async def ticket_journeys(
    session: AsyncSession, order: Order, ticket_ids: list[str] | None
) -> list[TicketJourney]:
    """The order's active tickets (all, or those named), or InvalidInput."""
    rows = await session.execute(
        select(Ticket, Route.product, Trip.departs_at, RouteStop.depart_min, Trip.status)
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(Route, Route.id == Trip.route_id)
        .join(
            RouteStop, and_(RouteStop.route_id == Trip.route_id, RouteStop.seq == Ticket.from_seq)
        )
        .where(Ticket.order_id == order.id, Ticket.status == "active")
        .order_by(Ticket.seat_no, Ticket.trip_seat_id)  # general admission: no seat_no
    )
    found = [
        TicketJourney(t, product, departs + timedelta(minutes=minutes), status == "cancelled")
        for t, product, departs, minutes, status in rows
    ]
    if ticket_ids is None:
        chosen = found
    else:
        chosen = [j for j in found if j.ticket.id in set(ticket_ids)]
        if len(chosen) != len(set(ticket_ids)):
            raise InvalidInput("ticket_ids", "names a ticket that is not active on this order")
    if not chosen:
        raise InvalidInput("ticket_ids", "no active ticket to act on")
    return chosen


async def require_settled(session: AsyncSession, order: Order) -> None:
    if order.state not in SETTLED_STATES:
        raise NotAllowedByRules(
            f"code: the order is {order.state}", details={"field": "code", "state": order.state}
        )
    if await paid_fen(session, order.id) != order.total_fen:
        raise NotAllowedByRules("code: settle the balance first", details={"field": "code"})


class RefundService:
    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.db = orders.db
        self.clock = orders.clock
        self.bus = orders.bus

    async def quote(self, code: str, ticket_ids: list[str] | None = None) -> RefundQuote:
        """What refunding these tickets (default: all active ones) gives back now."""
        async with self.db.sessions() as session:
            order = await find_order(session, code)
            return await self._quote(session, order, ticket_ids, self.clock.now())

    async def _quote(
        self, session: AsyncSession, order: Order, ticket_ids: list[str] | None, now: datetime
    ) -> RefundQuote:
        journeys = await ticket_journeys(session, order, ticket_ids)
        lines, allowed, reasons, hours = [], True, [], []
        if order.state in NEVER_REFUNDABLE:  # as the refund itself will say
            allowed = False
            reasons.append(f"the order is {order.state}")
        for j in journeys:
            price = j.ticket.price_fen
            decision = await decide(session, j.product, "refund", price, j.boards_at, now)
            fee = 0 if j.trip_cancelled else decision.fee_fen
            allowed = allowed and (decision.allowed or j.trip_cancelled)
            reasons.append("trip cancelled: no fee" if j.trip_cancelled else decision.rule)
            hours.append(decision.hours_left)
            refund = price - fee + j.ticket.insurance_fen
            lines.append(
                RefundLine(
                    ticket_id=j.ticket.id,
                    passenger_name=j.ticket.passenger_name,
                    seat_no=j.ticket.seat_no,
                    price_fen=price,
                    fee_fen=fee,
                    refund_fen=refund,
                )
            )
        return RefundQuote(
            code=order.code,
            allowed=allowed,
            reason="; ".join(sorted(set(reasons))),
            hours_left=round(min(hours), 2),
            lines=lines,
            fee_fen=sum(line.fee_fen for line in lines),
            refund_fen=sum(line.refund_fen for line in lines),
        )

    async def refund(self, actor: Actor, code: str, data: RefundIn) -> OrderOut:
        """Refund as quoted: seats back on sale, money out of the ledger, all or nothing."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            await require_settled(session, order)
            quote = await self._quote(session, order, data.ticket_ids, now)
            if not quote.allowed:
                raise NotAllowedByRules(f"refund not allowed: {quote.reason}")
            if quote.refund_fen != data.expected_refund_fen:
                raise QuoteChanged(
                    f"the refund is now {quote.refund_fen} fen",
                    details={"refund_fen": quote.refund_fen, "fee_fen": quote.fee_fen},
                )
            complete = await self._apply(session, order, quote, data, actor, now)
        await self.bus.publish(
            order_event(
                events.OrderRefunded,
                order,
                actor,
                refund_fen=quote.refund_fen,
                fee_fen=quote.fee_fen,
                complete=complete,
            )
        )
        return await self.orders.view(order.code)

    async def _apply(
        self,
        session: AsyncSession,
        order: Order,
        quote: RefundQuote,
        data: RefundIn,
        actor: Actor,
        now: datetime,
    ) -> bool:
        """Carry out the refund; True when no ticket of the order is left."""
        ids = {line.ticket_id for line in quote.lines}
        tickets = [t for t in await session.scalars(select(Ticket).where(Ticket.id.in_(ids)))]
        for ticket in tickets:
            ticket.status = "refunded"
        await release_claims(session, [t.claim_id for t in tickets], now)
        fees = {line.ticket_id: line.fee_fen for line in quote.lines}
        day = now.astimezone(self.orders.zone).date()
        kept = [(ticket, fees[ticket.id]) for ticket in tickets]
        returned = await book_refund(session, kept, actor, now, day)
        await credit_for_refund(session, order.id, returned, actor, now)
        if quote.refund_fen:
            await add_entry(
                session,
                order,
                kind="refund",
                method=data.method,
                amount_fen=-quote.refund_fen,
                key=data.key,
                actor=actor,
                now=now,
            )
        order.total_fen -= quote.refund_fen
        left = await session.scalar(
            select(Ticket.id).where(Ticket.order_id == order.id, Ticket.status == "active").limit(1)
        )
        details = {"refund_fen": quote.refund_fen, "fee_fen": quote.fee_fen, "tickets": sorted(ids)}
        if left is None and can(order.state, "refund"):
            await transition(session, order, "refund", actor, now, details)
        else:
            await transition(
                session, order, "refund_partial", actor, now, details, to_state=order.state
            )
        return left is None

    async def void(self, actor: Actor, code: str, method: str, key: str) -> OrderOut:
        """Undo a sale made in error: the same local day, before departure, no fee."""
        now = self.clock.now()
        zone = self.orders.zone
        async with self.db.transaction() as session:
            order = await lock_order(session, code)
            await require_settled(session, order)
            if order.created_at.astimezone(zone).date() != now.astimezone(zone).date():
                raise NotAllowedByRules("void: only on the day of sale; refund instead")
            journeys = await ticket_journeys(session, order, None)
            if any(j.boards_at <= now for j in journeys):
                raise NotAllowedByRules("void: the trip has left")
            paid = await paid_fen(session, order.id)
            if paid:
                await add_entry(
                    session,
                    order,
                    kind="refund",
                    method=method,
                    amount_fen=-paid,
                    key=key,
                    actor=actor,
                    now=now,
                )
            for j in journeys:
                j.ticket.status = "refunded"
            await release_claims(session, [j.ticket.claim_id for j in journeys], now)
            day = now.astimezone(zone).date()
            returned = await book_refund(
                session, [(j.ticket, 0) for j in journeys], actor, now, day
            )
            await credit_for_refund(session, order.id, returned, actor, now)
            order.total_fen -= paid
            await transition(session, order, "void", actor, now, {"refund_fen": paid})
        await self.bus.publish(
            order_event(events.OrderRefunded, order, actor, refund_fen=paid, fee_fen=0)
        )
        return await self.orders.view(order.code)


async def find_order(session: AsyncSession, code: str) -> Order:
    order = await session.scalar(select(Order).where(Order.code == normalize_human_code(code)))
    if order is None:
        raise OrderNotFound(f"no order {code}", details={"field": "code"})
    return order
