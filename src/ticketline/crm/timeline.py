"""The customer timeline, filled from other areas' domain events.

Areas never call CRM: they publish events (`OrderPaid`, `SmsSent`, `WorkOrderOpened`,
a call's end...) and the composition root subscribes `TimelineRecorder.record` to
them. `describe` reads any event by duck typing — the customer is found from a
`customer_id` attribute or a phone (`phone`, `caller`, `to`, ...), the reference
from `order_id`, `work_order_id`, `message_id` or `call_id` — so a new event type
needs a subscription, not new code. Only whitelisted fields are copied into the
entry: secrets such as pickup codes never reach the timeline.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.core.clock import Clock
from ticketline.core.paging import Page, PageRequest
from ticketline.crm import phones
from ticketline.crm.models import Customer, CustomerPhone, OpenItem, TimelineEntry
from ticketline.db.session import Database

PHONE_FIELDS = ("phone", "caller", "customer_phone", "to", "number", "from_number")
REF_FIELDS = (
    ("work_order_id", "work_order"),
    ("order_id", "order"),
    ("call_id", "call"),
    ("message_id", "sms"),
    ("entry_id", "loyalty"),
)
TIME_FIELDS = ("at", "occurred_at", "ended_at", "started_at")
SAFE_FIELDS = frozenset(
    {
        "code",
        "total_fen",
        "amount_fen",
        "refund_fen",
        "fee_fen",
        "difference_fen",
        "method",
        "trip",
        "reason",
        "error",
        "direction",
        "duration_ms",
        "talk_ms",
        "queue",
        "agent",
        "points",
        "balance",
        "type",
        "priority",
        "from_state",
        "to_state",
        "state",
        "department",
        "comment",
        "title",
        "text",
    }
)
ORDER_CLOSED = frozenset({"cancelled", "refunded", "picked_up", "used", "expired", "voided"})
WORK_ORDER_CLOSED = frozenset({"resolved", "closed"})
NO_STATE = frozenset({"PickupCodeResent"})

# Titles in both languages; unknown events get their class name split into words.
TITLES: dict[str, tuple[str, str]] = {
    "OrderHeld": ("订单保留座位", "Seats held"),
    "OrderBooked": ("订票", "Order booked"),
    "OrderPaid": ("支付", "Order paid"),
    "OrderIssued": ("出票", "Tickets issued"),
    "OrderPickedUp": ("取票", "Tickets collected"),
    "OrderUsed": ("检票", "Tickets used"),
    "OrderTripCancelled": ("班次取消", "Trip cancelled"),
    "OrderCancelled": ("取消订单", "Order cancelled"),
    "OrderRefunded": ("退票", "Order refunded"),
    "OrderChanged": ("改签", "Tickets changed"),
    "PickupCodeResent": ("重发取票密码", "Pickup code resent"),
    "SmsSent": ("短信已发送", "SMS sent"),
    "SmsFailed": ("短信发送失败", "SMS failed"),
    "SmsReceived": ("收到短信", "SMS received"),
    "WorkOrderOpened": ("新建工单", "Work order opened"),
    "WorkOrderStateChanged": ("工单状态变更", "Work order updated"),
    "WorkOrderReplied": ("工单回复", "Work order reply"),
    "CallEnded": ("通话", "Call"),
    "PointsChanged": ("积分变动", "Points changed"),
}


@dataclass(frozen=True)
class ItemChange:
    """How an event moves the open-orders / open-work-orders projection."""

    kind: str
    ref_id: str
    code: str | None
    state: str
    title: str | None
    amount_fen: int | None
    closed: bool


@dataclass(frozen=True)
class Fact:
    """What one event means for a customer's timeline."""

    event: str
    kind: str
    title: str
    customer_id: str | None
    phone: str | None
    ref_type: str | None
    ref_id: str | None
    at: datetime | None
    detail: dict[str, Any]
    actor: str | None
    item: ItemChange | None

    @property
    def dedupe_key(self) -> str | None:
        if self.ref_id is None:
            return None
        digest = hashlib.sha1(  # noqa: S324 (a fingerprint, not security)
            json.dumps(self.detail, sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        return f"{self.event}:{self.ref_id}:{digest}"


def kind_of(event_name: str) -> str | None:
    """The timeline kind of an event class name; None for events of no customer interest."""
    rules = (
        ("Refund", "refund"),
        ("Paid", "payment"),
        ("Payment", "payment"),
        ("WorkOrder", "work_order"),
        ("Order", "order"),
        ("Pickup", "order"),
        ("Sms", "sms"),
        ("Call", "call"),
        ("Points", "points"),
    )
    return next((kind for needle, kind in rules if needle in event_name), None)


def describe(event: object) -> Fact | None:
    """Read any domain event into a timeline fact (None: nothing for a timeline)."""
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return None
    name = type(event).__name__
    kind = kind_of(name)
    customer_id = _attr(event, ("customer_id",))
    phone = _attr(event, PHONE_FIELDS)
    if kind is None or (customer_id is None and phone is None):
        return None
    ref_id, ref_type = _reference(event)
    detail = {k: v for k, v in dataclasses.asdict(event).items() if k in SAFE_FIELDS}
    at = _attr(event, TIME_FIELDS)
    return Fact(
        event=name,
        kind=kind,
        title=_title(name, detail),
        customer_id=customer_id,
        phone=phones.try_normalize(phone) if phone else None,
        ref_type=ref_type,
        ref_id=ref_id,
        at=at if isinstance(at, datetime) else None,
        detail={"event": name, **detail},
        actor=_attr(event, ("actor", "actor_name", "agent")),
        item=_item_change(name, event, ref_type, ref_id, detail),
    )


def _attr(event: object, names: tuple[str, ...]) -> Any:
    for name in names:
        value = getattr(event, name, None)
        if value not in (None, ""):
            return value
    return None


def _reference(event: object) -> tuple[str | None, str | None]:
    for field, ref_type in REF_FIELDS:
        value = getattr(event, field, None)
        if value:
            return str(value), ref_type
    return None, None


def _title(name: str, detail: dict[str, Any]) -> str:
    zh, en = TITLES.get(name) or ("", " ".join(re.findall(r"[A-Z][a-z]*", name)).capitalize())
    label = f"{zh} {en}".strip()
    code = detail.get("code")
    return f"{label} · {code}" if code else label


def _item_change(
    name: str, event: object, ref_type: str | None, ref_id: str | None, detail: dict[str, Any]
) -> ItemChange | None:
    if ref_id is None or ref_type not in ("order", "work_order") or name in NO_STATE:
        return None
    if ref_type == "order":
        state = _snake(name.removeprefix("Order"))
        closed = state in ORDER_CLOSED
        amount = getattr(event, "total_fen", None)
    else:
        found = getattr(event, "to_state", None) or getattr(event, "state", None)
        if found is None:
            return None  # a reply or an assignment: no state news
        state = str(found)
        closed = state in WORK_ORDER_CLOSED
        amount = None
    title = detail.get("trip") or detail.get("title")
    return ItemChange(ref_type, ref_id, detail.get("code"), state, title, amount, closed)


def _snake(text: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", text).lower()


class TimelineRecorder:
    """Writes timeline entries and the open-item projection from events."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(self, event: object) -> None:
        """Bus handler: one entry per event (a replay is ignored); unknown customers are
        skipped, except that an order from an unknown number creates its customer."""
        fact = describe(event)
        if fact is None:
            return
        try:
            async with self.db.transaction() as session:
                customer_id = await self._customer_for(session, fact)
                if customer_id is None:
                    return
                await self._write(session, customer_id, fact)
        except IntegrityError:
            return  # the same event was recorded before (dedupe key)

    async def _customer_for(self, session: AsyncSession, fact: Fact) -> str | None:
        if fact.customer_id:
            return await _follow_merges(session, fact.customer_id)
        if fact.phone is None:
            return None
        found = await session.scalar(
            select(CustomerPhone.customer_id).where(CustomerPhone.number == fact.phone)
        )
        if found is None and fact.kind in ("order", "payment"):
            found = await _customer_from_order(session, fact.phone, self.clock.now())
        return found

    async def _write(self, session: AsyncSession, customer_id: str, fact: Fact) -> None:
        at = fact.at or self.clock.now()
        session.add(
            TimelineEntry(
                customer_id=customer_id,
                at=at,
                kind=fact.kind,
                title=fact.title[:200],
                detail=fact.detail,
                ref_type=fact.ref_type,
                ref_id=fact.ref_id,
                actor_name=str(fact.actor)[:64] if fact.actor else None,
                dedupe_key=fact.dedupe_key,
            )
        )
        await session.flush()
        customer = await session.get(Customer, customer_id)
        if customer is not None and (customer.last_contact_at or at) <= at:
            customer.last_contact_at = at
        if fact.item is not None:
            await _project(session, customer_id, fact.item, at)

    async def entries(
        self, customer_id: str, page: PageRequest, kinds: list[str] | None = None
    ) -> Page[TimelineEntry]:
        """A customer's timeline, newest first, optionally only some kinds."""
        stmt = select(TimelineEntry).where(TimelineEntry.customer_id == customer_id)
        if kinds:
            stmt = stmt.where(TimelineEntry.kind.in_(kinds))
        async with self.db.sessions() as session:
            total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
            rows = await session.scalars(
                stmt.order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
                .offset(page.offset)
                .limit(page.size)
            )
            return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)


async def _follow_merges(session: AsyncSession, customer_id: str) -> str | None:
    for _ in range(10):
        row = (
            await session.execute(
                select(Customer.status, Customer.merged_into_id).where(Customer.id == customer_id)
            )
        ).first()
        if row is None:
            return None
        if row.status != "merged" or row.merged_into_id is None:
            return customer_id
        customer_id = row.merged_into_id
    return customer_id


async def _customer_from_order(session: AsyncSession, number: str, now: datetime) -> str:
    """A first order from an unknown number: the caller becomes a customer."""
    customer = Customer(
        name=number,
        gender="U",
        locale="zh_CN",
        preferences={},
        tags=["auto"],
        notes="",
        do_not_call=False,
        status="active",
        points_balance=0,
        created_at=now,
        updated_at=now,
    )
    session.add(customer)
    await session.flush()
    session.add(
        CustomerPhone(customer_id=customer.id, number=number, label="mobile", is_primary=True)
    )
    return customer.id


async def _project(session: AsyncSession, customer_id: str, item: ItemChange, at: datetime) -> None:
    row = await session.scalar(
        select(OpenItem).where(OpenItem.kind == item.kind, OpenItem.ref_id == item.ref_id)
    )
    if item.closed:
        if row is not None:
            await session.execute(delete(OpenItem).where(OpenItem.id == row.id))
        return
    if row is None:
        row = OpenItem(
            customer_id=customer_id,
            kind=item.kind,
            ref_id=item.ref_id,
            code=item.code or item.ref_id[:32],
            title="",
        )
        session.add(row)
    row.state = item.state
    row.title = (item.title or row.title)[:200]
    row.amount_fen = item.amount_fen if item.amount_fen is not None else row.amount_fen
    row.updated_at = at
