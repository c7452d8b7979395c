"""Blank ticket stock per carrier and insurance policy forms: received, consumed by
issues, counted; an alert when low.

Issuing consumes, inside the issue's transaction, one blank of the carrier for each
active ticket and one insurance form for each insured ticket, when that stock is
tracked (an item exists). Consuming is one conditional UPDATE (`on_hand >= n`), so
concurrent issues cannot take the last blank twice; when the stock is not there the
whole issue is refused. A voided or refunded ticket does not give its blank back: the
printed blank is spoiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.catalog import by_code
from ticketline.ticketing.errors import CatalogNotFound, CodeTaken, StockExhausted
from ticketline.ticketing.events import StockLow
from ticketline.ticketing.models import Operator, Route, Trip
from ticketline.ticketing.order_models import StockItem, StockMovement, Ticket

KINDS = ("blank_ticket", "insurance")
MAX_RECEIVED = 100_000


@dataclass(frozen=True)
class StockView:
    code: str
    kind: str
    operator: str | None
    name: str
    on_hand: int
    alert_below: int
    low: bool
    updated_at: datetime


async def consume_for_issue(
    session: AsyncSession, order_id: str, actor: Actor, now: datetime
) -> list[StockLow]:
    """Take the blanks and insurance forms the order's active tickets need."""
    rows = await session.execute(
        select(Route.operator_id, func.count(), func.count().filter(Ticket.insurance_fen > 0))
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(Route, Route.id == Trip.route_id)
        .where(Ticket.order_id == order_id, Ticket.status == "active")
        .group_by(Route.operator_id)
    )
    needs: list[tuple[str, str | None, int]] = []
    insured = 0
    for operator_id, tickets, with_insurance in rows:
        needs.append(("blank_ticket", operator_id, int(tickets)))
        insured += int(with_insurance)
    needs.append(("insurance", None, insured))
    alerts = []
    for kind, carrier_id, count in needs:
        item = await _item_for(session, kind, carrier_id)
        if item is None or count == 0:
            continue  # not tracked
        await _take(session, item, count, now)
        session.add(_movement(item, "consumed", -count, actor, now, order_id=order_id))
        if item.on_hand < item.alert_below:
            alerts.append(StockLow(item.code, item.on_hand, item.alert_below))
    return alerts


async def _take(session: AsyncSession, item: StockItem, count: int, now: datetime) -> None:
    done: CursorResult[tuple[()]] = await session.execute(  # type: ignore[assignment]
        update(StockItem)
        .where(StockItem.id == item.id, StockItem.on_hand >= count)
        .values(on_hand=StockItem.on_hand - count, updated_at=now)
    )
    if done.rowcount != 1:
        raise StockExhausted(
            f"{item.name} ({item.code}): fewer than {count} left; receive more before issuing",
            details={"item": item.code, "needed": count},
        )
    await session.refresh(item)


async def _item_for(session: AsyncSession, kind: str, operator_id: str | None) -> StockItem | None:
    owner = (
        StockItem.operator_id.is_(None)
        if operator_id is None
        else (StockItem.operator_id == operator_id)
    )
    return await session.scalar(select(StockItem).where(StockItem.kind == kind, owner))


class StockService:
    """The only writer of stock besides the consumption on issue."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(
        self, actor: Actor, code: str, kind: str, operator: str | None, name: str, alert_below: int
    ) -> StockView:
        """Start tracking a stock (on hand 0): a carrier's blanks, or insurance forms."""
        _check_item(kind, operator, alert_below)
        now = self.clock.now()
        async with self.db.transaction() as session:
            carrier = (
                None if operator is None else await by_code(session, Operator, operator, "operator")
            )
            if await session.scalar(select(StockItem.id).where(StockItem.code == code)):
                raise CodeTaken(f"code: stock {code!r} exists", details={"field": "code"})
            if await _item_for(session, kind, carrier.id if carrier else None):
                raise CodeTaken("kind: this stock is already tracked", details={"field": "kind"})
            item = StockItem(
                code=code,
                kind=kind,
                operator_id=carrier.id if carrier else None,
                name=name,
                on_hand=0,
                alert_below=alert_below,
                updated_at=now,
            )
            session.add(item)
            await audit.record(
                session,
                actor=actor,
                action="stock.create",
                entity_type="stock",
                entity_id=code,
                at=now,
                after={"kind": kind, "operator": operator, "alert_below": alert_below},
            )
        return _view(item, operator)

    async def receive(
        self, actor: Actor, code: str, quantity: int, serial_from: str | None, serial_to: str | None
    ) -> StockView:
        if not 0 < quantity <= MAX_RECEIVED:
            raise InvalidInput("quantity", f"must be 1 to {MAX_RECEIVED}")
        if (serial_from is None) != (serial_to is None):
            raise InvalidInput("serial_to", "give both ends of the serial range, or neither")
        return await self._move(actor, code, "received", quantity, serial_from, serial_to, None)

    async def count(self, actor: Actor, code: str, on_hand: int, note: str) -> StockView:
        """Set the stock to what was counted; the difference is kept as a movement."""
        if not 0 <= on_hand <= 10 * MAX_RECEIVED:
            raise InvalidInput("on_hand", "must be 0 or more")
        if not note.strip():
            raise InvalidInput("note", "say why the count differs")
        return await self._move(actor, code, "counted", on_hand, None, None, note)

    async def _move(
        self,
        actor: Actor,
        code: str,
        kind: str,
        quantity: int,
        serial_from: str | None,
        serial_to: str | None,
        note: str | None,
    ) -> StockView:
        now = self.clock.now()
        async with self.db.transaction() as session:
            item = await self._locked(session, code)
            change = quantity if kind == "received" else quantity - item.on_hand
            item.on_hand += change
            item.updated_at = now
            session.add(
                _movement(
                    item,
                    kind,
                    change,
                    actor,
                    now,
                    serial_from=serial_from,
                    serial_to=serial_to,
                    note=note,
                )
            )
            await audit.record(
                session,
                actor=actor,
                action=f"stock.{kind}",
                entity_type="stock",
                entity_id=code,
                at=now,
                after={"change": change, "on_hand": item.on_hand, "note": note},
            )
            operator = await _operator_code(session, item)
        return _view(item, operator)

    async def items(self) -> list[StockView]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(StockItem, Operator.code)
                .outerjoin(Operator, Operator.id == StockItem.operator_id)
                .order_by(StockItem.kind, StockItem.code)
            )
            return [_view(item, operator) for item, operator in rows]

    async def movements(self, code: str, limit: int = 100) -> list[StockMovement]:
        async with self.db.sessions() as session:
            item = await self._find(session, code)
            rows = await session.scalars(
                select(StockMovement)
                .where(StockMovement.item_id == item.id)
                .order_by(StockMovement.id.desc())
                .limit(limit)
            )
            return list(rows)

    async def _locked(self, session: AsyncSession, code: str) -> StockItem:
        item = await session.scalar(
            select(StockItem).where(StockItem.code == code).with_for_update()
        )
        if item is None:
            raise CatalogNotFound(f"stock: no {code!r}", details={"field": "code"})
        return item

    async def _find(self, session: AsyncSession, code: str) -> StockItem:
        item = await session.scalar(select(StockItem).where(StockItem.code == code))
        if item is None:
            raise CatalogNotFound(f"stock: no {code!r}", details={"field": "code"})
        return item


async def _operator_code(session: AsyncSession, item: StockItem) -> str | None:
    if item.operator_id is None:
        return None
    return await session.scalar(select(Operator.code).where(Operator.id == item.operator_id))


def _check_item(kind: str, operator: str | None, alert_below: int) -> None:
    if kind not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    if kind == "blank_ticket" and operator is None:
        raise InvalidInput("operator", "blank tickets belong to a carrier")
    if kind == "insurance" and operator is not None:
        raise InvalidInput("operator", "insurance forms are not per carrier")
    if not 0 <= alert_below <= MAX_RECEIVED:
        raise InvalidInput("alert_below", f"must be 0 to {MAX_RECEIVED}")


def _movement(
    item: StockItem, kind: str, quantity: int, actor: Actor, now: datetime, **extra: str | None
) -> StockMovement:
    return StockMovement(
        item_id=item.id,
        kind=kind,
        quantity=quantity,
        on_hand_after=item.on_hand,
        at=now,
        actor=actor.name,
        **extra,
    )


def _view(item: StockItem, operator: str | None) -> StockView:
    return StockView(
        item.code,
        item.kind,
        operator,
        item.name,
        item.on_hand,
        item.alert_below,
        item.on_hand < item.alert_below,
        item.updated_at,
    )
