"""Deposit accounts with carriers: topped up by finance, drawn on when tickets issue.

Issuing an order debits, inside the issue's own transaction, each carrier on deposit
by what it is owed for its active tickets in the order (the price less the agency's
commission, see `finance`); a refund or void of issued tickets gives back that cost
less the fee the carrier keeps, never more than the order drew. The debit is one conditional UPDATE
(`balance >= amount`), so two agents issuing at once cannot overdraw the account; when
the money is not there the whole issue is refused and nothing is written. A balance
left under the account's threshold announces `DepositLow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.catalog import by_code
from ticketline.ticketing.errors import CatalogNotFound, DepositInsufficient
from ticketline.ticketing.events import DepositLow
from ticketline.ticketing.models import Operator, Route, Trip
from ticketline.ticketing.order_models import CarrierDeposit, DepositEntry, Ticket

MAX_TOP_UP_FEN = 100_000_000_00  # one hundred million yuan


@dataclass(frozen=True)
class DepositView:
    operator: str
    name: str
    balance_fen: int
    alert_below_fen: int
    low: bool
    updated_at: datetime


async def debit_for_issue(
    session: AsyncSession, order_id: str, actor: Actor, now: datetime
) -> list[DepositLow]:
    """Draw what the order's active tickets cost from their carriers' deposits (those on
    deposit); `finance.book_issue` has set their commission."""
    owed = await session.execute(
        select(CarrierDeposit.id, Operator.code, func.sum(Ticket.price_fen - Ticket.commission_fen))
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(Route, Route.id == Trip.route_id)
        .join(Operator, Operator.id == Route.operator_id)
        .join(CarrierDeposit, CarrierDeposit.operator_id == Operator.id)
        .where(Ticket.order_id == order_id, Ticket.status == "active")
        .group_by(CarrierDeposit.id, Operator.code)
    )
    alerts = []
    for deposit_id, operator, amount in owed:
        amount = int(amount or 0)
        if amount == 0:
            continue
        done: CursorResult[tuple[()]] = await session.execute(  # type: ignore[assignment]
            update(CarrierDeposit)
            .where(CarrierDeposit.id == deposit_id, CarrierDeposit.balance_fen >= amount)
            .values(balance_fen=CarrierDeposit.balance_fen - amount, updated_at=now)
        )
        if done.rowcount != 1:
            raise DepositInsufficient(
                f"the deposit with {operator} does not cover {amount / 100:.2f} yuan; "
                "top it up before issuing",
                details={"operator": operator, "needed_fen": amount},
            )
        deposit = await session.get(CarrierDeposit, deposit_id, populate_existing=True)
        assert deposit is not None
        session.add(_entry(deposit, "issue", -amount, actor, now, order_id=order_id))
        if deposit.balance_fen < deposit.alert_below_fen:
            alerts.append(DepositLow(operator, deposit.balance_fen, deposit.alert_below_fen))
    return alerts


async def credit_for_refund(
    session: AsyncSession, order_id: str, returned: dict[str, int], actor: Actor, now: datetime
) -> None:
    """The carriers give back what refunded tickets return (`returned`: ticket id to
    fen, from `finance.book_refund`), never more than this order drew from each deposit
    on issue."""
    if not returned:
        return
    rows = await session.execute(
        select(CarrierDeposit.id, Ticket.id)
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(Route, Route.id == Trip.route_id)
        .join(CarrierDeposit, CarrierDeposit.operator_id == Route.operator_id)
        .where(Ticket.id.in_(list(returned)))
    )
    per_deposit: dict[str, int] = {}
    for deposit_id, ticket_id in rows:
        per_deposit[deposit_id] = per_deposit.get(deposit_id, 0) + returned[ticket_id]
    for deposit_id, amount in per_deposit.items():
        drawn = await session.scalar(
            select(func.coalesce(func.sum(DepositEntry.amount_fen), 0)).where(
                DepositEntry.deposit_id == deposit_id,
                DepositEntry.order_id == order_id,
                DepositEntry.kind.in_(["issue", "refund", "change"]),
            )
        )
        credit = min(amount, -int(drawn or 0))
        if credit <= 0:
            continue  # issued before the carrier went on deposit, or already given back
        deposit = await session.get(CarrierDeposit, deposit_id, with_for_update=True)
        assert deposit is not None
        deposit.balance_fen += credit
        deposit.updated_at = now
        session.add(_entry(deposit, "refund", credit, actor, now, order_id=order_id))


async def settle_change(
    session: AsyncSession, order_id: str, owed: dict[str, int], actor: Actor, now: datetime
) -> list[DepositLow]:
    """Draw (or give back) what a change of issued tickets owes each carrier on deposit
    (`owed`: carrier id to fen, from `finance.book_change`)."""
    alerts = []
    for operator_id, amount in owed.items():
        deposit = await _deposit_of(session, operator_id, lock=True)
        if deposit is None or amount == 0:
            continue
        if deposit.balance_fen < amount:
            operator = await session.scalar(select(Operator.code).where(Operator.id == operator_id))
            raise DepositInsufficient(
                f"the deposit with {operator} does not cover {amount / 100:.2f} yuan; "
                "top it up before changing",
                details={"operator": operator, "needed_fen": amount},
            )
        deposit.balance_fen -= amount
        deposit.updated_at = now
        session.add(_entry(deposit, "change", -amount, actor, now, order_id=order_id))
        if amount > 0 and deposit.balance_fen < deposit.alert_below_fen:
            operator = await session.scalar(select(Operator.code).where(Operator.id == operator_id))
            alerts.append(DepositLow(str(operator), deposit.balance_fen, deposit.alert_below_fen))
    return alerts


class DepositService:
    """The only writer of carrier deposits besides the debit on issue."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def open_or_set(self, actor: Actor, operator: str, alert_below_fen: int) -> DepositView:
        """Put a carrier on deposit (balance 0) or change its alert threshold."""
        if alert_below_fen < 0:
            raise InvalidInput("alert_below_fen", "must not be negative")
        now = self.clock.now()
        async with self.db.transaction() as session:
            carrier = await by_code(session, Operator, operator, "operator")
            deposit = await _deposit_of(session, carrier.id, lock=True)
            if deposit is None:
                deposit = CarrierDeposit(
                    operator_id=carrier.id, balance_fen=0, alert_below_fen=alert_below_fen,
                    updated_at=now,
                )  # fmt: skip
                session.add(deposit)
            deposit.alert_below_fen, deposit.updated_at = alert_below_fen, now
            await audit.record(
                session, actor=actor, action="deposit.set", entity_type="operator",
                entity_id=carrier.code, at=now, after={"alert_below_fen": alert_below_fen},
            )  # fmt: skip
        return _view(deposit, carrier)

    async def top_up(
        self, actor: Actor, operator: str, amount_fen: int, reference: str | None
    ) -> DepositView:
        if not 0 < amount_fen <= MAX_TOP_UP_FEN:
            raise InvalidInput("amount_fen", "must be more than 0 and at most 100,000,000 yuan")
        now = self.clock.now()
        async with self.db.transaction() as session:
            carrier = await by_code(session, Operator, operator, "operator")
            deposit = await _deposit_of(session, carrier.id, lock=True)
            if deposit is None:
                raise CatalogNotFound(
                    f"operator: {operator} is not on deposit; open its account first",
                    details={"field": "operator"},
                )
            deposit.balance_fen += amount_fen
            deposit.updated_at = now
            session.add(_entry(deposit, "top_up", amount_fen, actor, now, reference=reference))
            await audit.record(
                session, actor=actor, action="deposit.top_up", entity_type="operator",
                entity_id=carrier.code, at=now,
                after={"amount_fen": amount_fen, "reference": reference},
            )  # fmt: skip
        return _view(deposit, carrier)

    async def accounts(self) -> list[DepositView]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(CarrierDeposit, Operator)
                .join(Operator, Operator.id == CarrierDeposit.operator_id)
                .order_by(Operator.code)
            )
            return [_view(deposit, carrier) for deposit, carrier in rows]

    async def entries(self, operator: str, limit: int = 100) -> list[DepositEntry]:
        """The latest movements of a carrier's deposit, newest first."""
        async with self.db.sessions() as session:
            carrier = await by_code(session, Operator, operator, "operator")
            deposit = await _deposit_of(session, carrier.id)
            if deposit is None:
                return []
            return list(
                await session.scalars(
                    select(DepositEntry)
                    .where(DepositEntry.deposit_id == deposit.id)
                    .order_by(DepositEntry.id.desc())
                    .limit(limit)
                )
            )


async def _deposit_of(
    session: AsyncSession, operator_id: str, *, lock: bool = False
) -> CarrierDeposit | None:
    stmt = select(CarrierDeposit).where(CarrierDeposit.operator_id == operator_id)
    return await session.scalar(stmt.with_for_update() if lock else stmt)


def _entry(
    deposit: CarrierDeposit,
    kind: str,
    amount: int,
    actor: Actor,
    now: datetime,
    *,
    order_id: str | None = None,
    reference: str | None = None,
) -> DepositEntry:
    return DepositEntry(
        deposit_id=deposit.id, kind=kind, amount_fen=amount,
        balance_after_fen=deposit.balance_fen, order_id=order_id, reference=reference,
        at=now, actor=actor.name,
    )  # fmt: skip


def _view(deposit: CarrierDeposit, carrier: Operator) -> DepositView:
    return DepositView(
        carrier.code, carrier.name_zh, deposit.balance_fen, deposit.alert_below_fen,
        deposit.balance_fen < deposit.alert_below_fen, deposit.updated_at,
    )  # fmt: skip
