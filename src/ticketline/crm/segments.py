"""Customer segments: customers by purchase history (routes, spend, last trip), tier,
tags and language; saved by code, counted, paged and exported as CSV.

A filter becomes ONE query: active customers left-joined to a subquery that groups
their purchases that were not refunded (`customer_purchase`, see `purchases.py`) into
spend, trips, last trip and "on one of the routes". Written in SQLAlchemy core, it runs
on SQLite and PostgreSQL alike; only "has all these tags" differs (JSON functions).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import Page, PageRequest
from ticketline.crm.errors import SegmentNotFound
from ticketline.crm.models import Customer, CustomerPhone, Purchase, Segment, VipTier
from ticketline.crm.schemas import SegmentFilter, SegmentIn
from ticketline.db.session import Database

EXPORT_BATCH = 500  # the largest page
UTF8_BOM = "\ufeff"
EXPORT_COLUMNS = ("name", "phone", "tier", "tags", "spend_yuan", "trips", "last_trip")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

RouteCodes = Callable[[], Awaitable[set[str]]]


@dataclass(frozen=True)
class Member:
    """One customer of a segment, with the figures the filter looked at."""

    customer_id: str
    name: str
    phone: str | None
    tier: str | None
    tags: list[str]
    spend_fen: int
    trips: int
    last_trip_at: datetime | None


class SegmentService:
    """Runs filters and is the only writer of saved segments (audited)."""

    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo, route_codes: RouteCodes):
        self.db = db
        self.clock = clock
        self.zone = zone
        self._route_codes = route_codes

    # -- running a filter --------------------------------------------------------------

    async def preview(self, flt: SegmentFilter, page: PageRequest) -> Page[Member]:
        """The customers a filter holds (by name), after checking it."""
        await self.check(flt)
        return await self._page(flt, page)

    async def check(self, flt: SegmentFilter) -> None:
        """Refuse a filter that cannot mean anything, naming the field."""
        if (
            flt.min_spend_fen is not None
            and flt.max_spend_fen is not None
            and flt.min_spend_fen > flt.max_spend_fen
        ):
            raise InvalidInput("max_spend_fen", "must not be less than min_spend_fen")
        after, before = flt.last_trip_after, flt.last_trip_before
        if after and before and after >= before:
            raise InvalidInput("last_trip_before", "must be a later day than last_trip_after")
        async with self.db.sessions() as session:
            if flt.tiers:
                known = set(await session.scalars(select(VipTier.code)))
                _refuse_unknown("tiers", "tier", flt.tiers, known)
            if flt.routes:
                known = set(await session.scalars(select(Purchase.route).distinct()))
                unknown = set(flt.routes) - known
                if unknown:  # a route nobody bought yet must still be in the catalog
                    _refuse_unknown(
                        "routes", "route", flt.routes, known | await self._route_codes()
                    )

    async def _page(self, flt: SegmentFilter, page: PageRequest) -> Page[Member]:
        stmt = self._query(flt)
        async with self.db.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = await session.execute(
                stmt.order_by(Customer.name, Customer.id).offset(page.offset).limit(page.size)
            )
            items = [_member(row) for row in rows]
        return Page(items=items, total=total or 0, page=page.page, size=page.size)

    def _query(self, flt: SegmentFilter) -> Select[Any]:
        now = self.clock.now()
        amount: Any = Purchase.amount_fen
        if flt.spend_days:
            since = now - timedelta(days=flt.spend_days)
            amount = case((Purchase.paid_at >= since, Purchase.amount_fen), else_=0)
        figures = [
            Purchase.customer_id.label("customer_id"),
            func.sum(amount).label("spend"),
            func.count().label("trips"),
            func.max(func.coalesce(Purchase.travel_at, Purchase.paid_at)).label("last_trip"),
        ]
        if flt.routes:
            on_route = case((Purchase.route.in_(flt.routes), 1), else_=0)
            figures.append(func.max(on_route).label("on_route"))
        history = (
            select(*figures)
            .where(Purchase.refunded.is_(False))
            .group_by(Purchase.customer_id)
            .subquery("history")
        )
        spend = func.coalesce(history.c.spend, 0)
        phone = (
            select(CustomerPhone.number)
            .where(CustomerPhone.customer_id == Customer.id)
            .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.number)
            .limit(1)
            .correlate(Customer)
            .scalar_subquery()
        )
        tier = (
            select(VipTier.code)
            .where(VipTier.id == Customer.vip_tier_id)
            .correlate(Customer)
            .scalar_subquery()
        )
        stmt = (
            select(
                Customer.id,
                Customer.name,
                phone.label("phone"),
                tier.label("tier"),
                Customer.tags,
                spend.label("spend"),
                func.coalesce(history.c.trips, 0).label("trips"),
                history.c.last_trip,
            )
            .outerjoin(history, history.c.customer_id == Customer.id)
            .where(Customer.status == "active")
        )
        last_trip = history.c.last_trip
        if flt.routes:
            stmt = stmt.where(history.c.on_route == 1)
        if flt.min_spend_fen is not None:
            stmt = stmt.where(spend >= flt.min_spend_fen)
        if flt.max_spend_fen is not None:
            stmt = stmt.where(spend <= flt.max_spend_fen)
        if flt.last_trip_after:
            stmt = stmt.where(last_trip >= self._start_of(flt.last_trip_after))
        if flt.last_trip_before:
            stmt = stmt.where(last_trip < self._start_of(flt.last_trip_before))
        if flt.no_trip_since_days:
            cutoff = now - timedelta(days=flt.no_trip_since_days)
            stmt = stmt.where(or_(last_trip.is_(None), last_trip < cutoff))
        if flt.tiers:
            wanted = select(VipTier.id).where(VipTier.code.in_(flt.tiers))
            stmt = stmt.where(Customer.vip_tier_id.in_(wanted))
        for tag in flt.tags:
            stmt = stmt.where(self._has_tag(tag))
        if flt.language:
            stmt = stmt.where(Customer.locale == flt.language)
        if flt.exclude_do_not_call:
            stmt = stmt.where(Customer.do_not_call.is_(False))
        return stmt

    def _has_tag(self, tag: str) -> Any:
        if self.db.is_sqlite:
            values = func.json_each(Customer.tags).table_valued("value")
            return exists().select_from(values).where(values.c.value == tag)
        return cast(Customer.tags, JSONB).contains([tag])

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    # -- saved segments ----------------------------------------------------------------

    async def save(self, actor: Actor, code: str, data: SegmentIn) -> Segment:
        """Create the segment `code`, or change its name and filter."""
        if not _CODE.match(code):
            raise InvalidInput("code", "1 to 32 letters, digits, '-' or '_'")
        await self.check(data.filter)
        now = self.clock.now()
        stored = data.filter.model_dump(mode="json")
        async with self.db.transaction() as session:
            segment = await session.scalar(select(Segment).where(Segment.code == code))
            before = _values(segment) if segment else None
            if segment is None:
                segment = Segment(code=code, created_at=now)
                session.add(segment)
            segment.name, segment.filter = data.name, stored
            await session.flush()
            await _audit(session, actor, "customer_segment.save", segment, now, before)
        return segment

    async def get(self, code: str) -> Segment:
        async with self.db.sessions() as session:
            segment = await session.scalar(select(Segment).where(Segment.code == code))
        if segment is None:
            raise SegmentNotFound(f"code: no segment {code!r}", details={"field": "code"})
        return segment

    async def segments(self) -> list[Segment]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(Segment).order_by(Segment.code)))

    async def delete(self, actor: Actor, code: str) -> None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            segment = await session.scalar(select(Segment).where(Segment.code == code))
            if segment is None:
                raise SegmentNotFound(f"code: no segment {code!r}", details={"field": "code"})
            before = _values(segment)
            await session.delete(segment)
            await audit.record(session, actor=actor, action="customer_segment.delete",
                               entity_type="customer_segment", entity_id=segment.id, at=now,
                               before=before)  # fmt: skip

    async def run(self, code: str, page: PageRequest) -> Page[Member]:
        """The customers of a saved segment now (its total is the count)."""
        return await self.preview(filter_of(await self.get(code)), page)

    async def count(self, code: str) -> int:
        return (await self.run(code, PageRequest(1, 1))).total

    async def export_csv(self, actor: Actor, code: str) -> AsyncIterator[bytes]:
        """The segment as CSV (UTF-8 with a BOM, so Excel reads Chinese), in batches;
        the export itself is audited before the first byte goes out."""
        segment = await self.get(code)
        flt = filter_of(segment)
        await self.check(flt)
        async with self.db.transaction() as session:
            await _audit(session, actor, "customer_segment.export", segment, self.clock.now())
        return self._csv_chunks(flt)

    async def _csv_chunks(self, flt: SegmentFilter) -> AsyncIterator[bytes]:
        yield (UTF8_BOM + _csv_line(EXPORT_COLUMNS)).encode()
        number = 1
        while True:
            found = await self._page(flt, PageRequest(number, EXPORT_BATCH))
            if found.items:
                yield "".join(_csv_line(self._export_row(m)) for m in found.items).encode()
            if number * EXPORT_BATCH >= found.total or not found.items:
                return
            number += 1

    def _export_row(self, member: Member) -> tuple[str, ...]:
        last = (
            member.last_trip_at.astimezone(self.zone).date().isoformat()
            if member.last_trip_at
            else ""
        )
        spend = f"{member.spend_fen // 100}.{member.spend_fen % 100:02d}"
        return (member.name, member.phone or "", member.tier or "", ";".join(member.tags),
                spend, str(member.trips), last)  # fmt: skip


def filter_of(segment: Segment) -> SegmentFilter:
    return SegmentFilter.model_validate(segment.filter)


def _refuse_unknown(name: str, what: str, given: list[str], known: set[str]) -> None:
    unknown = [code for code in given if code not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise InvalidInput(
            name, f"unknown {what} {', '.join(map(repr, unknown))} (known: {listed})"
        )


def _member(row: Any) -> Member:
    return Member(
        customer_id=row.id,
        name=row.name,
        phone=row.phone,
        tier=row.tier,
        tags=list(row.tags or []),
        spend_fen=int(row.spend or 0),
        trips=int(row.trips or 0),
        last_trip_at=row.last_trip,
    )


def _csv_line(values: tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _values(segment: Segment) -> dict[str, Any]:
    return {"code": segment.code, "name": segment.name, "filter": segment.filter}


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    segment: Segment,
    at: datetime,
    before: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="customer_segment",
        entity_id=segment.id,
        at=at,
        before=before,
        after=_values(segment),
    )
