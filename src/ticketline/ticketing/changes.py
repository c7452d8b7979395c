"""Change (改签): move tickets to another trip of the same journey, fee and fare
difference quoted first and confirmed as quoted.

The fee follows the rules for "change" by time before the old departure; as in
the published rail rules, it is due only when moving to a later date (an earlier
or same-day trip is free). The difference = new prices + fee - old prices is
collected (positive) or refunded (negative) in the same transaction that claims
the new seats and frees the old ones, so the ledger always matches the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin.security import Actor
from ticketline.core.errors import InvalidInput
from ticketline.ticketing import events
from ticketline.ticketing.deposits import settle_change
from ticketline.ticketing.errors import NotAllowedByRules, QuoteChanged, TripNotBookable
from ticketline.ticketing.events import DepositLow
from ticketline.ticketing.fares import price_ticket
from ticketline.ticketing.finance import book_change
from ticketline.ticketing.inventory import SeatRequest, claim_seats, release_claims, run_claiming
from ticketline.ticketing.models import RouteStop, Station, Trip
from ticketline.ticketing.order_models import Order, Ticket
from ticketline.ticketing.orders import OrderService, lock_order, order_event, transition
from ticketline.ticketing.payments import add_entry
from ticketline.ticketing.refunds import TicketJourney, find_order, require_settled, ticket_journeys
from ticketline.ticketing.rules import decide
from ticketline.ticketing.schemas import ChangeIn, ChangeQuote, ChangeQuoteIn, OrderOut
from ticketline.ticketing.search import Journey, load_journey


@dataclass(frozen=True)
class ChangePlan:
    quote: ChangeQuote
    old: list[TicketJourney]
    new_journey: Journey
    class_code: str
    new_prices: list[int]


class ChangeService:
    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.db = orders.db
        self.clock = orders.clock
        self.bus = orders.bus
        self.zone = orders.zone

    async def quote(self, code: str, data: ChangeQuoteIn) -> ChangeQuote:
        async with self.db.sessions() as session:
            order = await find_order(session, code)
            return (await self._plan(session, order, data, self.clock.now())).quote

    async def _plan(
        self, session: AsyncSession, order: Order, data: ChangeQuoteIn, now: datetime
    ) -> ChangePlan:
        old = await ticket_journeys(session, order, data.ticket_ids)
        first = old[0].ticket
        if any(
            (j.ticket.trip_id, j.ticket.from_seq, j.ticket.to_seq)
            != (first.trip_id, first.from_seq, first.to_seq)
            for j in old
        ):
            raise InvalidInput("ticket_ids", "change tickets of one journey at a time")
        if (
            data.trip_id == first.trip_id
            and (data.class_code or first.class_code) == first.class_code
        ):
            raise InvalidInput("trip_id", "is the trip the tickets are already on")
        from_code, to_code = await _station_codes(session, first)
        journey = await load_journey(session, data.trip_id, from_code, to_code)
        if journey.trip.status != "scheduled" or journey.boards_at <= now:
            raise TripNotBookable(
                "trip_id: the new trip is not on sale", details={"field": "trip_id"}
            )
        class_code = data.class_code or first.class_code
        day = journey.boards_at.astimezone(self.zone).date()
        new_prices = []
        for j in old:
            price = await price_ticket(
                session,
                route_id=journey.trip.route_id,
                class_code=class_code,
                from_seq=journey.from_seq,
                to_seq=journey.to_seq,
                passenger_type=j.ticket.passenger_type,
                travel_date=day,
            )
            new_prices.append(price.price_fen)
        later = day > old[0].boards_at.astimezone(self.zone).date()
        fee, allowed, reason, hours = 0, True, "", 0.0
        for j in old:
            decision = await decide(
                session, j.product, "change", j.ticket.price_fen, j.boards_at, now
            )
            allowed = allowed and decision.allowed
            fee += decision.fee_fen if later else 0
            reason, hours = decision.rule, decision.hours_left
        if not later and allowed:
            reason = "same or earlier date: no fee"
        old_fen = sum(j.ticket.price_fen for j in old)
        quote = ChangeQuote(
            code=order.code,
            allowed=allowed,
            reason=reason,
            hours_left=round(hours, 2),
            old_fen=old_fen,
            new_fen=sum(new_prices),
            fee_fen=fee,
            difference_fen=sum(new_prices) + fee - old_fen,
        )
        return ChangePlan(quote, old, journey, class_code, new_prices)

    async def change(self, actor: Actor, code: str, data: ChangeIn) -> OrderOut:
        """Move the tickets as quoted, or nothing at all."""
        work = partial(self._change, actor=actor, code=code, data=data, now=self.clock.now())
        order, quote, alerts = await run_claiming(self.db, work)
        for alert in alerts:
            await self.bus.publish(alert)
        await self.bus.publish(
            order_event(
                events.OrderChanged,
                order,
                actor,
                fee_fen=quote.fee_fen,
                difference_fen=quote.difference_fen,
            )
        )
        return await self.orders.view(order.code)

    async def _change(
        self, session: AsyncSession, *, actor: Actor, code: str, data: ChangeIn, now: datetime
    ) -> tuple[Order, ChangeQuote, list[DepositLow]]:
        order = await lock_order(session, code)
        await require_settled(session, order)
        plan = await self._plan(session, order, data, now)
        quote = plan.quote
        if not quote.allowed:
            raise NotAllowedByRules(f"change not allowed: {quote.reason}")
        if quote.difference_fen != data.expected_difference_fen:
            raise QuoteChanged(
                f"the difference is now {quote.difference_fen} fen",
                details={"difference_fen": quote.difference_fen, "fee_fen": quote.fee_fen},
            )
        new = plan.new_journey
        request = SeatRequest(
            new.trip.id, plan.class_code, new.from_seq, new.to_seq, len(plan.old), new.legs_total
        )
        seats = await claim_seats(session, request, order.id, now)
        await release_claims(session, [j.ticket.claim_id for j in plan.old], now)
        moved = []
        for j, seat, price in zip(plan.old, seats, plan.new_prices, strict=True):
            j.ticket.status = "changed"
            new_ticket = _moved_ticket(
                j.ticket, request, seat.trip_seat_id, seat.claim_id, seat.ticket_seat_no, price
            )
            session.add(new_ticket)
            moved.append((j.ticket, new_ticket))
        await session.flush()
        day = now.astimezone(self.orders.zone).date()
        owed = await book_change(session, moved, quote.fee_fen, actor, now, day)
        alerts = await settle_change(session, order.id, owed, actor, now)
        order.total_fen += quote.difference_fen
        if quote.difference_fen:
            kind = "payment" if quote.difference_fen > 0 else "refund"
            await add_entry(
                session,
                order,
                kind=kind,
                method=data.method,
                amount_fen=quote.difference_fen,
                key=data.key,
                actor=actor,
                now=now,
            )
        details = {
            "trip_id": new.trip.id,
            "fee_fen": quote.fee_fen,
            "difference_fen": quote.difference_fen,
            "seats": [s.place for s in seats],
        }
        await transition(session, order, "change", actor, now, details)
        return order, quote, alerts


def _moved_ticket(
    old: Ticket,
    request: SeatRequest,
    seat_id: int,
    claim_id: int,
    seat_no: str | None,
    price: int,
) -> Ticket:
    return Ticket(
        order_id=old.order_id,
        passenger_name=old.passenger_name,
        id_type=old.id_type,
        id_number=old.id_number,
        passenger_type=old.passenger_type,
        trip_id=request.trip_id,
        trip_seat_id=seat_id,
        claim_id=claim_id,
        from_seq=request.from_seq,
        to_seq=request.to_seq,
        class_code=request.class_code,
        seat_no=seat_no,
        fare_fen=price,
        price_fen=price,
        insurance_fen=old.insurance_fen,
        status="active",
    )


async def _station_codes(session: AsyncSession, ticket: Ticket) -> tuple[str, str]:
    rows = await session.execute(
        select(Station.code)
        .join(RouteStop, RouteStop.station_id == Station.id)
        .join(Trip, Trip.route_id == RouteStop.route_id)
        .where(Trip.id == ticket.trip_id, RouteStop.seq.in_([ticket.from_seq, ticket.to_seq]))
        .order_by(RouteStop.seq)
    )
    codes = list(rows.scalars())
    return codes[0], codes[1]
