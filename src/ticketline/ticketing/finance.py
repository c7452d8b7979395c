"""Commission, profit per ticket and the finance journal by income and cost category.

Issuing a ticket books its price as ticket sales and what the carrier is owed (the
price less the agency's commission) as carrier cost; insurance likewise. The
commission comes from the policy of the ticket's carrier and product, or the
product's default policy. A refund reverses what the issue booked and books the fee:
the carrier keeps the fee of an issued ticket (the agency loses its commission), the
agency keeps the fee of one never issued. A change moves the sale to the new ticket and
books its fee, which the carrier keeps. A ticket's profit is its income less its
costs. Entries are only ever added, each on the local day it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.ticketing.catalog import by_code
from ticketline.ticketing.errors import CodeTaken
from ticketline.ticketing.models import Operator, Route, Trip
from ticketline.ticketing.order_models import (
    CommissionPolicy,
    FinanceCategory,
    FinanceEntry,
    Order,
    Ticket,
)

PRODUCTS = ("rail", "coach", "event", "insurance")
MAX_PERCENT = 1000  # tenths of a percent: 1000 = 100 %
MAX_MANUAL_FEN = 100_000_000_00
MAX_REPORT_DAYS = 366

# code, kind, Chinese, English, booked by the product itself
CATEGORIES = (
    ("ticket_sales", "income", "票款收入", "Ticket sales", True),
    ("insurance", "income", "保险收入", "Insurance", True),
    ("fees", "income", "退改签手续费", "Refund and change fees", True),
    ("surcharges", "income", "机场建设费及燃油附加费", "Airport and fuel surcharges", False),
    ("other_income", "income", "其他收入", "Other income", False),
    ("carrier_cost", "cost", "应付承运人票款", "Owed to carriers", True),
    ("insurance_cost", "cost", "应付保险公司", "Owed to insurers", True),
    ("other_cost", "cost", "其他成本", "Other costs", False),
)


@dataclass(frozen=True)
class Posting:
    category: str
    amount_fen: int
    ticket: Ticket
    operator_id: str | None


@dataclass(frozen=True)
class CategoryTotal:
    code: str
    kind: str
    name_zh: str
    name_en: str
    amount_fen: int


@dataclass(frozen=True)
class TicketProfit:
    code: str
    ticket_id: str
    passenger_name: str
    operator: str
    issued_on: date
    income_fen: int
    cost_fen: int
    profit_fen: int


def commission_on(policy: CommissionPolicy | None, amount_fen: int) -> int:
    """The policy's share of an amount, rounded to the fen, never more than the amount."""
    if policy is None or amount_fen <= 0:
        return 0
    share = (amount_fen * policy.percent + 500) // 1000 + policy.fixed_fen
    return max(0, min(amount_fen, share))


async def policy_for(
    session: AsyncSession, operator_id: str | None, product: str
) -> CommissionPolicy | None:
    """The carrier's own policy for the product, else the product's default."""
    rows = await session.scalars(
        select(CommissionPolicy)
        .where(
            CommissionPolicy.product == product,
            (CommissionPolicy.operator_id == operator_id) | CommissionPolicy.operator_id.is_(None),
        )
        .order_by(CommissionPolicy.operator_id.is_(None))
    )
    return rows.first()


async def install_categories(session: AsyncSession) -> None:
    known = set(await session.scalars(select(FinanceCategory.code)))
    for code, kind, zh, en, system in CATEGORIES:
        if code not in known:
            session.add(
                FinanceCategory(code=code, kind=kind, name_zh=zh, name_en=en, system=system)
            )


async def book_issue(
    session: AsyncSession, order_id: str, actor: Actor, now: datetime, day: date
) -> None:
    """Set each active ticket's commission and book the sale (inside the issue)."""
    rows = await session.execute(
        select(Ticket, Route.operator_id, Route.product)
        .join(Trip, Trip.id == Ticket.trip_id)
        .join(Route, Route.id == Trip.route_id)
        .where(Ticket.order_id == order_id, Ticket.status == "active")
    )
    postings: list[Posting] = []
    for ticket, operator_id, product in rows:
        postings += await _sale(session, ticket, operator_id, product)
    _add(session, postings, actor, now, day)


async def book_change(
    session: AsyncSession,
    moved: list[tuple[Ticket, Ticket]],
    fee_fen: int,
    actor: Actor,
    now: datetime,
    day: date,
) -> dict[str, int]:
    """Move the sale of issued tickets (`old, new`) to their new trip and book the change
    fee, which the carrier keeps. Returns per carrier id what it is owed more (+) or
    gives back (-); tickets never issued book nothing."""
    owed: dict[str, int] = {}
    postings: list[Posting] = []
    for old, new in moved:
        booked = await _booked(session, old.id)
        if "carrier_cost" not in booked:
            continue
        postings += _reversal(old, booked)
        operator_id, product = await _carrier_of(session, new.trip_id)
        postings += await _sale(session, new, operator_id, product)
        if fee_fen:
            postings += [Posting("fees", fee_fen, new, None),
                         Posting("carrier_cost", fee_fen, new, operator_id)]  # fmt: skip
        change = new.price_fen - new.commission_fen + fee_fen - booked["carrier_cost"][0]
        owed[operator_id] = owed.get(operator_id, 0) + change
        fee_fen = 0  # the order's fee is booked once, on its first ticket
    _add(session, postings, actor, now, day)
    return owed


async def _sale(
    session: AsyncSession, ticket: Ticket, operator_id: str, product: str
) -> list[Posting]:
    ticket.commission_fen = commission_on(
        await policy_for(session, operator_id, product), ticket.price_fen
    )
    postings = [
        Posting("ticket_sales", ticket.price_fen, ticket, operator_id),
        Posting("carrier_cost", ticket.price_fen - ticket.commission_fen, ticket, operator_id),
    ]
    if ticket.insurance_fen:
        kept = commission_on(await policy_for(session, None, "insurance"), ticket.insurance_fen)
        postings += [
            Posting("insurance", ticket.insurance_fen, ticket, None),
            Posting("insurance_cost", ticket.insurance_fen - kept, ticket, None),
        ]
    return postings


async def _carrier_of(session: AsyncSession, trip_id: str) -> tuple[str, str]:
    row = (
        await session.execute(
            select(Route.operator_id, Route.product)
            .join(Trip, Trip.route_id == Route.id)
            .where(Trip.id == trip_id)
        )
    ).one()
    return row[0], row[1]


def _reversal(ticket: Ticket, booked: dict[str, tuple[int, str | None]]) -> list[Posting]:
    return [
        Posting(category, -amount, ticket, operator_id)
        for category, (amount, operator_id) in booked.items()
        if amount
    ]


async def book_refund(
    session: AsyncSession,
    tickets: list[tuple[Ticket, int]],
    actor: Actor,
    now: datetime,
    day: date,
) -> dict[str, int]:
    """Reverse the sale of refunded tickets (`ticket, fee kept`) and book the fees.

    Returns what each carrier gives back per ticket id: its cost less the fee it keeps.
    """
    given_back: dict[str, int] = {}
    postings: list[Posting] = []
    for ticket, fee in tickets:
        booked = await _booked(session, ticket.id)
        postings += _reversal(ticket, booked)
        if fee:
            postings.append(Posting("fees", fee, ticket, None))
        if "carrier_cost" in booked:
            cost, operator_id = booked["carrier_cost"]
            carrier_keeps = min(fee, cost)
            given_back[ticket.id] = cost - carrier_keeps
            if carrier_keeps:
                postings.append(Posting("carrier_cost", carrier_keeps, ticket, operator_id))
    _add(session, postings, actor, now, day)
    return given_back


async def _booked(session: AsyncSession, ticket_id: str) -> dict[str, tuple[int, str | None]]:
    rows = await session.execute(
        select(FinanceEntry.category, func.sum(FinanceEntry.amount_fen), FinanceEntry.operator_id)
        .where(FinanceEntry.ticket_id == ticket_id)
        .group_by(FinanceEntry.category, FinanceEntry.operator_id)
    )
    return {category: (int(amount), operator_id) for category, amount, operator_id in rows}


def _add(
    session: AsyncSession, postings: list[Posting], actor: Actor, now: datetime, day: date
) -> None:
    for p in postings:
        session.add(
            FinanceEntry(
                day=day,
                category=p.category,
                amount_fen=p.amount_fen,
                order_id=p.ticket.order_id,
                ticket_id=p.ticket.id,
                operator_id=p.operator_id,
                at=now,
                actor=actor.name,
            )
        )


class FinanceService:
    """Commission policies, categories, manual entries and the finance reports."""

    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone

    async def policies(self) -> list[tuple[CommissionPolicy, str | None]]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(CommissionPolicy, Operator.code)
                .outerjoin(Operator, Operator.id == CommissionPolicy.operator_id)
                .order_by(CommissionPolicy.product, Operator.code.nulls_first())
            )
            return [(policy, code) for policy, code in rows]

    async def set_policy(
        self, actor: Actor, operator: str | None, product: str, percent: int, fixed_fen: int
    ) -> CommissionPolicy:
        _check_policy(operator, product, percent, fixed_fen)
        try:
            return await self._write_policy(actor, operator, product, percent, fixed_fen)
        except IntegrityError:  # a concurrent first write of the same scope won: update it
            return await self._write_policy(actor, operator, product, percent, fixed_fen)

    async def _write_policy(
        self, actor: Actor, operator: str | None, product: str, percent: int, fixed_fen: int
    ) -> CommissionPolicy:
        now = self.clock.now()
        async with self.db.transaction() as session:
            operator_id = None
            if operator is not None:
                operator_id = (await by_code(session, Operator, operator, "operator")).id
            policy = await session.scalar(
                select(CommissionPolicy).where(
                    CommissionPolicy.product == product,
                    CommissionPolicy.operator_id.is_(None)
                    if operator_id is None
                    else CommissionPolicy.operator_id == operator_id,
                )
            )
            before = (
                None
                if policy is None
                else {"percent": policy.percent, "fixed_fen": policy.fixed_fen}
            )
            if policy is None:
                policy = CommissionPolicy(operator_id=operator_id, product=product)
                session.add(policy)
            policy.percent, policy.fixed_fen = percent, fixed_fen
            policy.updated_at, policy.updated_by = now, actor.name
            await audit.record(
                session,
                actor=actor,
                action="commission.set",
                entity_type="commission",
                entity_id=f"{operator or '*'}/{product}",
                at=now,
                before=before,
                after={"percent": percent, "fixed_fen": fixed_fen},
            )
        return policy

    async def categories(self) -> list[FinanceCategory]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(FinanceCategory).order_by(FinanceCategory.kind.desc(), FinanceCategory.code)
            )
            return list(rows)

    async def add_category(
        self, actor: Actor, code: str, kind: str, name_zh: str, name_en: str
    ) -> FinanceCategory:
        if kind not in ("income", "cost"):
            raise InvalidInput("kind", "must be income or cost")
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await session.get(FinanceCategory, code) is not None:
                raise CodeTaken(f"code: category {code!r} exists", details={"field": "code"})
            category = FinanceCategory(
                code=code, kind=kind, name_zh=name_zh, name_en=name_en, system=False
            )
            session.add(category)
            await audit.record(
                session,
                actor=actor,
                action="finance.category.add",
                entity_type="finance_category",
                entity_id=code,
                at=now,
                after={"kind": kind, "name_zh": name_zh, "name_en": name_en},
            )
        return category

    async def add_entry(
        self, actor: Actor, category: str, amount_fen: int, day: date, note: str
    ) -> FinanceEntry:
        """A manual income or cost (rent, a surcharge remitted, a correction)."""
        if amount_fen == 0 or abs(amount_fen) > MAX_MANUAL_FEN:
            raise InvalidInput("amount_fen", "must not be 0 or beyond 100,000,000 yuan")
        now = self.clock.now()
        if day > now.astimezone(self.zone).date():
            raise InvalidInput("day", "must not be in the future")
        async with self.db.transaction() as session:
            found = await session.get(FinanceCategory, category)
            if found is None:
                raise InvalidInput("category", f"no category {category!r}")
            if found.system:
                raise InvalidInput("category", "is booked by issues and refunds, not by hand")
            entry = FinanceEntry(
                day=day,
                category=category,
                amount_fen=amount_fen,
                note=note,
                at=now,
                actor=actor.name,
            )
            session.add(entry)
            await audit.record(
                session,
                actor=actor,
                action="finance.entry.add",
                entity_type="finance_category",
                entity_id=category,
                at=now,
                after={"amount_fen": amount_fen, "day": day.isoformat(), "note": note},
            )
        return entry

    async def report(self, first: date, last: date) -> list[CategoryTotal]:
        """Every category with its total over the days `first`..`last` (inclusive)."""
        _check_range(first, last)
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(FinanceEntry.category, func.sum(FinanceEntry.amount_fen))
                .where(FinanceEntry.day.between(first, last))
                .group_by(FinanceEntry.category)
            )
            totals = {category: int(amount) for category, amount in rows}
            categories = await session.scalars(
                select(FinanceCategory).order_by(FinanceCategory.kind.desc(), FinanceCategory.code)
            )
            return [
                CategoryTotal(c.code, c.kind, c.name_zh, c.name_en, int(totals.get(c.code) or 0))
                for c in categories
            ]

    async def ticket_profits(self, first: date, last: date, limit: int = 500) -> list[TicketProfit]:
        """Tickets issued on `first`..`last` with their income, costs and profit so far."""
        _check_range(first, last)
        is_income = FinanceCategory.kind == "income"
        signed = case((is_income, FinanceEntry.amount_fen), else_=-FinanceEntry.amount_fen)
        income = case((is_income, FinanceEntry.amount_fen), else_=0)
        issued = (
            select(FinanceEntry.ticket_id, func.min(FinanceEntry.day).label("day"))
            .where(FinanceEntry.category == "ticket_sales", FinanceEntry.amount_fen > 0)
            .group_by(FinanceEntry.ticket_id)
            .subquery()
        )
        stmt = (
            select(
                Order.code,
                Ticket.id,
                Ticket.passenger_name,
                Operator.code,
                issued.c.day,
                func.sum(income),
                func.sum(signed),
            )
            .join(issued, issued.c.ticket_id == Ticket.id)
            .join(FinanceEntry, FinanceEntry.ticket_id == Ticket.id)
            .join(FinanceCategory, FinanceCategory.code == FinanceEntry.category)
            .join(Order, Order.id == Ticket.order_id)
            .join(Trip, Trip.id == Ticket.trip_id)
            .join(Route, Route.id == Trip.route_id)
            .join(Operator, Operator.id == Route.operator_id)
            .where(issued.c.day.between(first, last))
            .group_by(Order.code, Ticket.id, Ticket.passenger_name, Operator.code, issued.c.day)
            .order_by(issued.c.day, Order.code, Ticket.id)
            .limit(limit)
        )
        async with self.db.sessions() as session:
            rows = await session.execute(stmt)
            return [
                TicketProfit(code, tid, name, op, day, int(inc), int(inc) - int(net), int(net))
                for code, tid, name, op, day, inc, net in rows
            ]


def _check_policy(operator: str | None, product: str, percent: int, fixed_fen: int) -> None:
    if product not in PRODUCTS:
        raise InvalidInput("product", f"must be one of {', '.join(PRODUCTS)}")
    if product == "insurance" and operator is not None:
        raise InvalidInput("operator", "insurance commission is not per carrier")
    if not 0 <= percent <= MAX_PERCENT:
        raise InvalidInput("percent", "must be 0 to 1000 tenths of a percent")
    if not 0 <= fixed_fen <= 100_000:
        raise InvalidInput("fixed_fen", "must be 0 to 1000 yuan")


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput("to", "must not be before from")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise InvalidInput("to", f"a report covers at most {MAX_REPORT_DAYS} days")
