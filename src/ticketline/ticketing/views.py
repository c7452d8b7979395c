"""Read models of orders: one order with its tickets, payments and history.

Four queries whatever the number of tickets (order, tickets with their trips and
stations, ledger, log).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ticketline.ticketing.errors import OrderNotFound
from ticketline.ticketing.identity import mask_document
from ticketline.ticketing.models import RouteStop, Station, Trip, TripSeat
from ticketline.ticketing.order_models import LedgerEntry, Order, OrderLog, Ticket
from ticketline.ticketing.schemas import SEAT_CLASSES, LedgerOut, OrderLogOut, OrderOut, TicketOut


async def order_view(session: AsyncSession, code: str) -> OrderOut:
    order = await session.scalar(select(Order).where(Order.code == code))
    if order is None:
        raise OrderNotFound(f"no order {code}", details={"field": "code"})
    tickets = await ticket_views(session, order.id)
    ledger = list(
        await session.scalars(
            select(LedgerEntry).where(LedgerEntry.order_id == order.id).order_by(LedgerEntry.id)
        )
    )
    log = list(
        await session.scalars(
            select(OrderLog).where(OrderLog.order_id == order.id).order_by(OrderLog.id)
        )
    )
    paid = sum(e.amount_fen for e in ledger)
    return OrderOut(
        code=order.code,
        state=order.state,
        contact_name=order.contact_name,
        contact_phone=order.contact_phone,
        total_fen=order.total_fen,
        paid_fen=paid,
        balance_fen=order.total_fen - paid,
        expires_at=order.expires_at,
        credit_due=order.credit_due,
        created_at=order.created_at,
        tickets=tickets,
        payments=[LedgerOut.model_validate(e, from_attributes=True) for e in ledger],
        log=[OrderLogOut.model_validate(e, from_attributes=True) for e in log],
    )


async def ticket_views(session: AsyncSession, order_id: str) -> list[TicketOut]:
    board, alight = aliased(RouteStop), aliased(RouteStop)
    from_station, to_station = aliased(Station), aliased(Station)
    rows = await session.execute(
        select(
            Ticket, Trip, TripSeat.section, board.depart_min, from_station.name_zh,
            to_station.name_zh,
        )
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(TripSeat, TripSeat.id == Ticket.trip_seat_id)
        .join(board, and_(board.route_id == Trip.route_id, board.seq == Ticket.from_seq))
        .join(alight, and_(alight.route_id == Trip.route_id, alight.seq == Ticket.to_seq))
        .join(from_station, from_station.id == board.station_id)
        .join(to_station, to_station.id == alight.station_id)
        .where(Ticket.order_id == order_id)
        .order_by(Ticket.status, TripSeat.section, TripSeat.seat_no)
    )  # fmt: skip
    return [
        TicketOut(
            id=ticket.id,
            passenger_name=ticket.passenger_name,
            id_type=ticket.id_type,
            id_number=mask_document(ticket.id_number),
            passenger_type=ticket.passenger_type,
            service=trip.service,
            service_date=trip.service_date,
            from_station=from_name,
            to_station=to_name,
            departs_at=trip.departs_at + timedelta(minutes=depart_min),
            class_code=ticket.class_code,
            section=section,
            seat_no=ticket.seat_no,
            place=ticket.seat_no or general_admission_name(ticket.class_code),
            price_fen=ticket.price_fen,
            insurance_fen=ticket.insurance_fen,
            status=ticket.status,
        )
        for ticket, trip, section, depart_min, from_name, to_name in rows
    ]


def general_admission_name(class_code: str) -> str:
    """What a ticket without a seat number says instead: its class, in both languages."""
    name_zh, name_en = SEAT_CLASSES.get(class_code, (class_code, class_code))
    return f"{name_zh} {name_en}"
