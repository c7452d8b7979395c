"""The loyalty points ledger: earn on paid travel by rules, redeem, adjust, expire.

Invariants: the balance on the customer row equals the sum of the ledger and is
never negative (a CHECK constraint backs the code); every entry names its cause
(`cause_type`, `cause_id`), and a cause earns or redeems at most once (unique key),
so a replayed `OrderPaid` never pays twice. Earned points are lots with a
`remaining` count and an expiry; spending and expiring take the oldest lots first.

For the IVR: ``await loyalty.balance(customer_id) -> int`` and
``await loyalty.statement(customer_id, PageRequest(1, 5))`` (newest first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import SYSTEM, Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.ids import new_id
from ticketline.core.paging import Page, PageRequest
from ticketline.crm.errors import CustomerNotFound, InsufficientPoints
from ticketline.crm.events import PointsChanged
from ticketline.crm.models import (
    Customer,
    CustomerPhone,
    LoyaltyEntry,
    LoyaltyRule,
    OpenItem,
    VipTier,
)
from ticketline.crm.schemas import RuleIn
from ticketline.db.session import Database

ADJUSTMENT_EXPIRY = timedelta(days=365)
MAX_POINTS = 10_000_000


@dataclass(frozen=True)
class Movement:
    """One ledger entry to write: signed points and what caused them."""

    kind: str
    points: int
    cause_type: str
    cause_id: str
    note: str
    expires_at: datetime | None = None


class LoyaltyService:
    """The only writer of the points ledger and of customers' balances."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # -- rules -------------------------------------------------------------------------

    async def save_rule(self, actor: Actor, data: RuleIn) -> LoyaltyRule:
        """Create an earning rule, or change the one with the same code."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            rule = await session.scalar(select(LoyaltyRule).where(LoyaltyRule.code == data.code))
            if rule is None:
                rule = LoyaltyRule(created_at=now, **data.model_dump())
                session.add(rule)
            else:
                for name, value in data.model_dump().items():
                    setattr(rule, name, value)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="loyalty_rule.save",
                entity_type="loyalty_rule",
                entity_id=rule.id,
                at=now,
                after=data.model_dump(),
            )
        return rule

    async def rules(self) -> list[LoyaltyRule]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(LoyaltyRule).order_by(LoyaltyRule.code)))

    # -- reading -----------------------------------------------------------------------

    async def balance(self, customer_id: str) -> int:
        async with self.db.sessions() as session:
            value = await session.scalar(
                select(Customer.points_balance).where(Customer.id == customer_id)
            )
        if value is None:
            raise CustomerNotFound(f"no customer {customer_id}")
        return value

    async def statement(self, customer_id: str, page: PageRequest) -> Page[LoyaltyEntry]:
        """The ledger of one customer, newest first."""
        stmt = select(LoyaltyEntry).where(LoyaltyEntry.customer_id == customer_id)
        async with self.db.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = await session.scalars(
                stmt.order_by(LoyaltyEntry.at.desc(), LoyaltyEntry.id)
                .offset(page.offset)
                .limit(page.size)
            )
            return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)

    # -- earning from orders (bus handlers) --------------------------------------------

    async def earn_for_paid_order(self, event: object) -> None:
        """`OrderPaid` handler: points by the best matching active rule, once per order."""
        order_id, phone = getattr(event, "order_id", None), getattr(event, "phone", None)
        total = int(getattr(event, "total_fen", 0) or 0)
        if not order_id or not phone or total <= 0:
            return
        async with self.db.transaction() as session:
            customer_id = await _customer_by_phone(session, phone)
            if customer_id is None:
                return
            points, rule = await self._points_for(session, customer_id, str(order_id), total)
            if points <= 0 or rule is None:
                return
            expires = self.clock.now() + timedelta(days=rule.expiry_days)
            note = f"{rule.code}: {total / 100:.2f} yuan"
            movement = Movement("earn", points, "order", str(order_id), note, expires)
            written = await self._write_once(session, customer_id, movement, SYSTEM)
        if written:
            await self.bus.publish(written)

    async def reverse_for_refunded_order(self, event: object) -> None:
        """`OrderRefunded` handler: take back what the order earned (never below zero)."""
        order_id = getattr(event, "order_id", None)
        if not order_id:
            return
        async with self.db.transaction() as session:
            earned = await session.scalar(
                select(LoyaltyEntry).where(
                    LoyaltyEntry.kind == "earn",
                    LoyaltyEntry.cause_type == "order",
                    LoyaltyEntry.cause_id == str(order_id),
                )
            )
            if earned is None:
                return
            customer = await _locked_customer(session, earned.customer_id)
            points = min(earned.points, customer.points_balance)
            if points == 0:
                return
            note = f"refund of order: {earned.points} earned, {points} taken back"
            movement = Movement("reverse", -points, "order", str(order_id), note)
            written = await self._write_once(session, customer.id, movement, SYSTEM)
        if written:
            await self.bus.publish(written)

    async def _points_for(
        self, session: AsyncSession, customer_id: str, order_id: str, total_fen: int
    ) -> tuple[int, LoyaltyRule | None]:
        trip = await session.scalar(
            select(OpenItem.title).where(OpenItem.kind == "order", OpenItem.ref_id == order_id)
        )
        rules = await session.scalars(select(LoyaltyRule).where(LoyaltyRule.active.is_(True)))
        matching = [r for r in rules if total_fen >= r.min_amount_fen and _on_route(r, trip)]
        if not matching:
            return 0, None
        rule = max(matching, key=lambda r: (r.points_per_yuan, r.code))
        percent = await session.scalar(
            select(VipTier.points_percent)
            .join(Customer, Customer.vip_tier_id == VipTier.id)
            .where(Customer.id == customer_id)
        )
        return total_fen // 100 * rule.points_per_yuan * (percent or 100) // 100, rule

    # -- agents' operations ------------------------------------------------------------

    async def redeem(
        self, actor: Actor, customer_id: str, points: int, cause_type: str, cause_id: str, note: str
    ) -> PointsChanged:
        """Spend points on something (an order, a gift); refused beyond the balance."""
        _check_amount(points)
        movement = Movement("redeem", -points, cause_type, cause_id, note)
        return await self._apply(actor, customer_id, movement)

    async def adjust(
        self, actor: Actor, customer_id: str, points: int, reason: str
    ) -> PointsChanged:
        """A manual correction (signed); a positive one is a lot expiring in a year."""
        if points == 0:
            raise InvalidInput("points", "must not be zero")
        _check_amount(abs(points))
        if not reason.strip():
            raise InvalidInput("reason", "an adjustment needs a reason")
        expires = self.clock.now() + ADJUSTMENT_EXPIRY if points > 0 else None
        movement = Movement("adjust", points, "manual", new_id(), reason.strip(), expires)
        return await self._apply(actor, customer_id, movement)

    async def _apply(self, actor: Actor, customer_id: str, movement: Movement) -> PointsChanged:
        async with self.db.transaction() as session:
            written = await self._write_once(session, customer_id, movement, actor)
            if written is None:
                raise InvalidInput("cause_id", f"{movement.cause_id} was already used")
            await audit.record(
                session,
                actor=actor,
                action=f"loyalty.{movement.kind}",
                entity_type="customer",
                entity_id=customer_id,
                at=written.at,
                after={"points": movement.points, "cause": movement.cause_id},
            )
        await self.bus.publish(written)
        return written

    # -- expiry ------------------------------------------------------------------------

    async def expire_due(self) -> int:
        """Expire every lot past its date (scheduled); returns how many lots expired."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            due = list(
                await session.execute(
                    select(LoyaltyEntry.id, LoyaltyEntry.customer_id)
                    .where(LoyaltyEntry.remaining > 0, LoyaltyEntry.expires_at <= now)
                    .limit(1000)
                )
            )
        events = []
        for lot_id, customer_id in due:
            async with self.db.transaction() as session:
                lot = await session.get(LoyaltyEntry, lot_id, with_for_update=True)
                if lot is None or lot.remaining == 0:
                    continue
                movement = Movement("expire", -lot.remaining, "lot", lot.id, "points expired")
                written = await self._write_once(session, customer_id, movement, SYSTEM)
            if written:
                events.append(written)
        for event in events:
            await self.bus.publish(event)
        return len(events)

    # -- the one writer ----------------------------------------------------------------

    async def _write_once(
        self, session: AsyncSession, customer_id: str, movement: Movement, actor: Actor
    ) -> PointsChanged | None:
        """Write one entry and move the balance; None if this cause was already booked."""
        duplicate = await session.scalar(
            select(LoyaltyEntry.id).where(
                LoyaltyEntry.kind == movement.kind,
                LoyaltyEntry.cause_type == movement.cause_type,
                LoyaltyEntry.cause_id == movement.cause_id,
            )
        )
        if duplicate is not None:
            return None
        customer = await _locked_customer(session, customer_id)
        balance = customer.points_balance + movement.points
        if balance < 0:
            raise InsufficientPoints(
                f"points: balance {customer.points_balance} is less than {-movement.points}",
                details={"field": "points", "balance": customer.points_balance},
            )
        if movement.points < 0:
            await _consume_lots(session, customer_id, -movement.points, movement)
        now = self.clock.now()
        entry = LoyaltyEntry(
            customer_id=customer_id,
            at=now,
            kind=movement.kind,
            points=movement.points,
            balance_after=balance,
            remaining=max(movement.points, 0),
            expires_at=movement.expires_at,
            cause_type=movement.cause_type,
            cause_id=movement.cause_id,
            note=movement.note[:200],
            actor_name=actor.name,
        )
        session.add(entry)
        customer.points_balance = balance
        await session.flush()
        return PointsChanged(customer_id, entry.id, movement.kind, movement.points, balance, now)


async def _consume_lots(
    session: AsyncSession, customer_id: str, points: int, movement: Movement
) -> None:
    """Take `points` from the lots, the expiring one first for an expiry, else oldest."""
    stmt = select(LoyaltyEntry).where(
        LoyaltyEntry.customer_id == customer_id, LoyaltyEntry.remaining > 0
    )
    if movement.kind == "expire":
        stmt = stmt.where(LoyaltyEntry.id == movement.cause_id)
    elif movement.kind == "reverse":
        stmt = stmt.order_by(
            (LoyaltyEntry.cause_id == movement.cause_id).desc(), LoyaltyEntry.expires_at
        )
    else:
        stmt = stmt.order_by(LoyaltyEntry.expires_at, LoyaltyEntry.at)
    left = points
    for lot in await session.scalars(stmt.with_for_update()):
        taken = min(lot.remaining, left)
        lot.remaining -= taken
        left -= taken
        if left == 0:
            return


async def _locked_customer(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise CustomerNotFound(f"customer_id: no customer {customer_id}")
    return customer


async def _customer_by_phone(session: AsyncSession, phone: str) -> str | None:
    return await session.scalar(
        select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
    )


def _on_route(rule: LoyaltyRule, trip: str | None) -> bool:
    if not rule.routes:
        return True
    return trip is not None and any(route in trip for route in rule.routes)


def _check_amount(points: int) -> None:
    if not 0 < points <= MAX_POINTS:
        raise InvalidInput("points", f"must be between 1 and {MAX_POINTS}")
