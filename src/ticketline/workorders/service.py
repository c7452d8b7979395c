"""Work order use cases: the only writer of work orders and their log.

Functions the IVR calls (no HTTP in between):

- ``await workorders.public_status(code, phone) -> PublicView`` — state and last
  public reply; the phone must be the order's or its customer's, else NotFound
  (the same answer as a wrong code, so codes cannot be probed).
- ``await workorders.open(actor, WorkOrderCreate(...)) -> WorkOrder`` — e.g. from a
  voicemail, with ``source="voicemail"``.
- ``await workorders.rate(code, phone, score, comment)`` — satisfaction by SMS/IVR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.models import Department
from ticketline.admin.security import SYSTEM, Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import Page, PageRequest
from ticketline.crm import phones
from ticketline.crm.events import CustomersMerged
from ticketline.crm.models import Customer, CustomerPhone
from ticketline.db.session import Database
from ticketline.workorders import assignment, sla
from ticketline.workorders.errors import AlreadyRated, WorkOrderNotFound
from ticketline.workorders.events import (
    WorkOrderAssigned,
    WorkOrderEscalated,
    WorkOrderOpened,
    WorkOrderReplied,
    WorkOrderStateChanged,
)
from ticketline.workorders.models import CodeCounter, WorkOrder, WorkOrderLog
from ticketline.workorders.replies import read_reply
from ticketline.workorders.schemas import AssignIn, TransferIn, WorkOrderCreate
from ticketline.workorders.states import OPEN_STATES, Action, Effect, State, Step, transition

CUSTOMER_ACTOR = Actor(id=None, name="customer")
RATING_WINDOW = timedelta(days=30)
"""How long after resolution a bare score ("5") by SMS still rates the work order."""


@dataclass(frozen=True)
class SmsOutcome:
    code: str
    action: str  # rated, replied
    score: int | None


@dataclass(frozen=True)
class PublicView:
    code: str
    type: str
    state: str
    updated_at: datetime
    last_reply: str | None
    last_reply_at: datetime | None


@dataclass(frozen=True)
class WorkOrderFilter:
    state: str | None = None
    type: str | None = None
    priority: str | None = None
    department: str | None = None
    assignee_id: str | None = None
    customer_id: str | None = None
    open_only: bool = False
    overdue_at: datetime | None = None


class WorkOrderService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.zone = zone

    # -- opening -----------------------------------------------------------------------

    async def open(self, actor: Actor, data: WorkOrderCreate) -> WorkOrder:
        """Create a work order with its code, SLA due times and (optional) assignee."""
        phone = phones.normalize(data.phone, field="phone") if data.phone else None
        now = self.clock.now()
        async with self.db.transaction() as session:
            dept_id = await assignment.department_id(session, data.department)
            customer_id = await _customer(session, data.customer_id, phone)
            due = await sla.targets(session, data.type, data.priority, now)
            order = WorkOrder(
                code=await _next_code(session, now.astimezone(self.zone).strftime("%y%m")),
                type=data.type,
                priority=data.priority,
                title=data.title,
                description=data.description,
                source=data.source,
                customer_id=customer_id,
                phone=phone,
                order_ref=data.order_ref,
                department_id=dept_id,
                state=State.NEW.value,
                escalation_level=0,
                reopen_count=0,
                created_by=actor.name,
                created_at=now,
                updated_at=now,
                first_response_due=due.first_response_due if due else None,
                resolution_due=due.resolution_due if due else None,
                warned=False,
                response_breached=False,
                resolution_breached=False,
            )
            session.add(order)
            await session.flush()
            _log(session, order, actor, "opened", None, State.NEW, data.description[:500])
            events: list[object] = [
                WorkOrderOpened(
                    order.id, order.code, customer_id, phone, order.type, order.priority,
                    order.title, order.state, data.department, now,
                )
            ]  # fmt: skip
            if data.assignee or data.assignment != "manual":
                choice = AssignIn(assignee=data.assignee, strategy=data.assignment)
                events += await self._assign(session, actor, order, choice)
            await _audit(session, actor, "work_order.open", order, now)
        await self._publish(events)
        return order

    # -- moving through states ---------------------------------------------------------

    async def act(
        self, actor: Actor, work_order_id: str, action: str, comment: str = ""
    ) -> WorkOrder:
        """Start, wait on the customer, resume, resolve, close or reopen."""
        if action in (Action.ASSIGN, Action.TRANSFER):
            raise InvalidInput("action", f"use the {action} operation, which names its target")
        async with self.db.transaction() as session:
            order = await _locked(session, work_order_id)
            step = transition(order.state, action)
            events = await self._apply(session, actor, order, step, comment)
        await self._publish(events)
        return order

    async def _apply(
        self, session: AsyncSession, actor: Actor, order: WorkOrder, step: Step, comment: str
    ) -> list[object]:
        now = self.clock.now()
        for effect in step.effects:
            await self._effect(session, order, effect, now)
        order.state = step.after.value
        order.updated_at = now
        _log(session, order, actor, "transition", step.before, step.after, comment)
        if not step.changes_state:
            return []
        return [
            WorkOrderStateChanged(
                order.id, order.code, order.customer_id, step.before.value, step.after.value,
                actor.name, comment, now,
            )
        ]  # fmt: skip

    async def _effect(
        self, session: AsyncSession, order: WorkOrder, effect: Effect, now: datetime
    ) -> None:
        if effect is Effect.PAUSE_SLA:
            order.sla_paused_at = now
        elif effect is Effect.RESUME_SLA:
            await sla.push_back_after_pause(session, order, now)
        elif effect is Effect.STAMP_RESOLVED:
            order.resolved_at = now
            order.resolved_in_time = order.resolution_due is None or now <= order.resolution_due
        elif effect is Effect.STAMP_CLOSED:
            order.closed_at = now
        elif effect is Effect.COUNT_REOPEN:
            order.reopen_count += 1
            order.resolved_at = order.closed_at = None
            order.resolved_in_time = None
        elif effect is Effect.CLEAR_ASSIGNEE:
            order.assignee_id = None

    # -- assignment, transfer, escalation ----------------------------------------------

    async def assign(self, actor: Actor, work_order_id: str, choice: AssignIn) -> WorkOrder:
        async with self.db.transaction() as session:
            order = await _locked(session, work_order_id)
            events = await self._assign(session, actor, order, choice)
        await self._publish(events)
        return order

    async def _assign(
        self, session: AsyncSession, actor: Actor, order: WorkOrder, choice: AssignIn
    ) -> list[object]:
        step = transition(order.state, Action.ASSIGN)
        if choice.strategy == "manual":
            if not choice.assignee:
                raise InvalidInput("assignee", "name who gets the work order")
            staff_id = await assignment.named(session, choice.assignee)
        elif choice.strategy == "round_robin":
            staff_id = await assignment.round_robin(session, order.department_id)
        else:
            staff_id = await assignment.least_open(session, order.department_id)
        order.assignee_id = staff_id
        events = await self._apply(session, actor, order, step, choice.comment)
        kind = "assign" if choice.strategy == "manual" else "auto_assign"
        _log(session, order, actor, kind, None, None, choice.strategy, {"assignee_id": staff_id})
        dept = await assignment.department_code(session, order.department_id)
        events.append(
            WorkOrderAssigned(order.id, order.code, dept, staff_id, actor.name, choice.comment)
        )
        return events

    async def transfer(self, actor: Actor, work_order_id: str, data: TransferIn) -> WorkOrder:
        """Move to another department's queue, with the reason logged."""
        async with self.db.transaction() as session:
            order = await _locked(session, work_order_id)
            target = await assignment.department_id(session, data.department)
            if target == order.department_id:
                raise InvalidInput("department", "the work order is already there")
            step = transition(order.state, Action.TRANSFER)
            before = await assignment.department_code(session, order.department_id)
            order.department_id = target
            events = await self._apply(session, actor, order, step, data.reason)
            detail = {"from": before, "to": data.department}
            _log(session, order, actor, "transfer", None, None, data.reason, detail)
            events.append(
                WorkOrderAssigned(
                    order.id, order.code, data.department, None, actor.name, data.reason
                )
            )
        await self._publish(events)
        return order

    async def escalate(self, actor: Actor, work_order_id: str, reason: str) -> WorkOrder:
        """Raise to a supervisor, who becomes the assignee; the level counts escalations."""
        async with self.db.transaction() as session:
            order = await _locked(session, work_order_id)
            event = await _escalate(session, actor, order, reason)
        await self._publish([event])
        return order

    async def escalate_breached(self, event: object) -> None:
        """`WorkOrderBreached` handler: a missed resolution goes up one level."""
        if getattr(event, "target", None) != "resolution":
            return
        async with self.db.transaction() as session:
            order = await session.get(WorkOrder, getattr(event, "work_order_id", ""))
            if order is None or order.state not in OPEN_STATES:
                return
            escalated = await _escalate(session, SYSTEM, order, "resolution target missed")
        await self._publish([escalated])

    # -- notes, replies, the customer's side -------------------------------------------

    async def add_note(
        self, actor: Actor, work_order_id: str, text: str, public: bool
    ) -> WorkOrderLog:
        """An internal note, or (`public`) a reply the customer sees; the first reply
        stops the first-response clock."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            order = await _locked(session, work_order_id)
            if public and order.first_response_at is None:
                order.first_response_at = now
            order.updated_at = now
            entry = _log(session, order, actor, "reply" if public else "note", None, None, text)
            entry.public = public
        if public:
            await self.bus.publish(
                WorkOrderReplied(order.id, order.code, order.customer_id, actor.name, now)
            )
        return entry

    async def customer_reply(self, code: str, phone: str, text: str) -> WorkOrder:
        """The customer answered (SMS, web, IVR); a waiting order resumes."""
        async with self.db.transaction() as session:
            order = await _by_code_and_phone(session, code, phone, lock=True)
            _log(session, order, CUSTOMER_ACTOR, "customer", None, None, text[:4000])
            events: list[object] = []
            if order.state == State.WAITING_CUSTOMER:
                step = transition(order.state, Action.RESUME)
                events = await self._apply(session, CUSTOMER_ACTOR, order, step, "customer replied")
        await self._publish(events)
        return order

    async def public_status(self, code: str, phone: str) -> PublicView:
        async with self.db.sessions() as session:
            order = await _by_code_and_phone(session, code, phone)
            reply = (
                await session.execute(
                    select(WorkOrderLog.comment, WorkOrderLog.at)
                    .where(WorkOrderLog.work_order_id == order.id, WorkOrderLog.public.is_(True))
                    .order_by(WorkOrderLog.id.desc())
                    .limit(1)
                )
            ).first()
        return PublicView(
            order.code, order.type, order.state, order.updated_at,
            reply[0] if reply else None, reply[1] if reply else None,
        )  # fmt: skip

    async def rate(
        self, code: str, phone: str, score: int, comment: str = "", via: str = "web"
    ) -> WorkOrder:
        """Satisfaction (1-5) after resolution, once."""
        if not 1 <= score <= 5:
            raise InvalidInput("score", "must be from 1 to 5")
        async with self.db.transaction() as session:
            order = await _by_code_and_phone(session, code, phone, lock=True)
            if order.state not in (State.RESOLVED, State.CLOSED):
                raise InvalidInput("code", "the work order is not resolved yet")
            if order.satisfaction is not None:
                raise AlreadyRated(f"work order {order.code} was already rated")
            order.satisfaction, order.satisfaction_comment = score, comment[:500] or None
            detail = {"score": score, "via": via}
            _log(session, order, CUSTOMER_ACTOR, "rating", None, None, comment, detail)
        return order

    async def sms_reply(self, phone: str, text: str) -> SmsOutcome | None:
        """A customer's text: a score rates the work order it quotes, or else the one
        resolved last for this phone (never an older one: a second "4" correcting a
        "5" must not rate another case); other words quoting a code are a reply to
        that order. None when the text does nothing."""
        reply = read_reply(text)
        code = reply.code
        if code is None and reply.score is not None:
            code = await self._latest_resolved(phone)
        if code is None:
            return None
        try:
            if reply.score is not None:
                order = await self.rate(code, phone, reply.score, via="sms")
                return SmsOutcome(order.code, "rated", reply.score)
            if reply.text:
                order = await self.customer_reply(code, phone, reply.text)
                return SmsOutcome(order.code, "replied", None)
        except (WorkOrderNotFound, AlreadyRated, InvalidInput):
            return None
        return None

    async def _latest_resolved(self, phone: str) -> str | None:
        e164 = phones.try_normalize(phone)
        if e164 is None:
            return None
        since = self.clock.now() - RATING_WINDOW
        async with self.db.sessions() as session:
            holder = await session.scalar(
                select(CustomerPhone.customer_id).where(CustomerPhone.number == e164)
            )
            mine = WorkOrder.phone == e164
            if holder is not None:
                mine = or_(mine, WorkOrder.customer_id == holder)
            return await session.scalar(
                select(WorkOrder.code)
                .where(
                    mine,
                    WorkOrder.state.in_([State.RESOLVED.value, State.CLOSED.value]),
                    WorkOrder.resolved_at >= since,
                )
                .order_by(WorkOrder.resolved_at.desc(), WorkOrder.code.desc())
                .limit(1)
            )

    # -- reading -----------------------------------------------------------------------

    async def get(self, work_order_id: str) -> WorkOrder:
        async with self.db.sessions() as session:
            order = await session.get(WorkOrder, work_order_id)
        if order is None:
            raise WorkOrderNotFound(f"no work order {work_order_id}")
        return order

    async def by_code(self, code: str) -> WorkOrder:
        async with self.db.sessions() as session:
            order = await session.scalar(select(WorkOrder).where(WorkOrder.code == _code(code)))
        if order is None:
            raise WorkOrderNotFound(f"no work order {code}")
        return order

    async def log(self, work_order_id: str, *, public_only: bool = False) -> list[WorkOrderLog]:
        stmt = select(WorkOrderLog).where(WorkOrderLog.work_order_id == work_order_id)
        if public_only:
            stmt = stmt.where(WorkOrderLog.public.is_(True))
        async with self.db.sessions() as session:
            return list(await session.scalars(stmt.order_by(WorkOrderLog.id)))

    async def search(self, where: WorkOrderFilter, page: PageRequest) -> Page[WorkOrder]:
        """Lists with filters: a department's queue, someone's work, the overdue list."""
        async with self.db.sessions() as session:
            stmt = await _filtered(session, select(WorkOrder), where)
            total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
            order_by = (
                (WorkOrder.resolution_due, WorkOrder.created_at)
                if where.overdue_at
                else (WorkOrder.created_at.desc(),)
            )
            rows = await session.scalars(
                stmt.order_by(*order_by, WorkOrder.id).offset(page.offset).limit(page.size)
            )
            return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)

    async def department_codes(self) -> dict[str, str]:
        async with self.db.sessions() as session:
            return {
                r[0]: r[1] for r in await session.execute(select(Department.id, Department.code))
            }

    # -- other areas' events -----------------------------------------------------------

    async def follow_merge(self, event: CustomersMerged) -> None:
        """Customers merged in CRM: their work orders follow the kept record."""
        async with self.db.transaction() as session:
            await session.execute(
                update(WorkOrder)
                .where(WorkOrder.customer_id == event.merged_id)
                .values(customer_id=event.kept_id)
            )

    async def _publish(self, events: list[object]) -> None:
        for event in events:
            await self.bus.publish(event)


# -- helpers ---------------------------------------------------------------------------


def _code(text: str) -> str:
    return text.strip().upper()


async def _next_code(session: AsyncSession, period: str) -> str:
    """WO-YYMM-NNNN: digits only, so nothing to confuse when read aloud."""
    bumped = await session.execute(
        update(CodeCounter)
        .where(CodeCounter.period == period)
        .values(last=CodeCounter.last + 1)
        .returning(CodeCounter.last)
    )
    number = bumped.scalar()
    if number is None:
        session.add(CodeCounter(period=period, last=1))
        await session.flush()
        number = 1
    return f"WO-{period}-{number:04d}"


async def _customer(
    session: AsyncSession, customer_id: str | None, phone: str | None
) -> str | None:
    if customer_id:
        found = await session.get(Customer, customer_id)
        if found is None:
            raise InvalidInput("customer_id", f"no customer {customer_id}")
        return found.merged_into_id or found.id
    if phone:
        return await session.scalar(
            select(CustomerPhone.customer_id).where(CustomerPhone.number == phone)
        )
    return None


async def _locked(session: AsyncSession, work_order_id: str) -> WorkOrder:
    order = await session.get(WorkOrder, work_order_id, with_for_update=True)
    if order is None:
        raise WorkOrderNotFound(f"no work order {work_order_id}")
    return order


async def _by_code_and_phone(
    session: AsyncSession, code: str, phone: str, *, lock: bool = False
) -> WorkOrder:
    stmt = select(WorkOrder).where(WorkOrder.code == _code(code))
    order = await session.scalar(stmt.with_for_update() if lock else stmt)
    e164 = phones.try_normalize(phone)
    if order is None or e164 is None or not await _phone_matches(session, order, e164):
        raise WorkOrderNotFound("no work order with this code and phone number")
    return order


async def _phone_matches(session: AsyncSession, order: WorkOrder, e164: str) -> bool:
    if order.phone == e164:
        return True
    if order.customer_id is None:
        return False
    holder = await session.scalar(
        select(CustomerPhone.customer_id).where(CustomerPhone.number == e164)
    )
    return holder == order.customer_id


async def _escalate(
    session: AsyncSession, actor: Actor, order: WorkOrder, reason: str
) -> WorkOrderEscalated:
    if order.state not in OPEN_STATES:
        raise InvalidInput("state", f"a {order.state} work order cannot be escalated")
    boss = await assignment.supervisor(session, order.department_id)
    order.escalation_level += 1
    if boss is not None:
        order.assignee_id = boss
    detail = {"level": order.escalation_level, "supervisor_id": boss}
    _log(session, order, actor, "escalate", None, None, reason, detail)
    return WorkOrderEscalated(
        order.id, order.code, order.escalation_level, boss, actor.name, reason
    )


def _log(
    session: AsyncSession,
    order: WorkOrder,
    actor: Actor,
    kind: str,
    before: State | None,
    after: State | None,
    comment: str,
    detail: dict[str, Any] | None = None,
) -> WorkOrderLog:
    entry = WorkOrderLog(
        work_order_id=order.id,
        at=order.updated_at,
        actor_name=actor.name,
        kind=kind,
        from_state=before.value if before else None,
        to_state=after.value if after else None,
        comment=comment,
        public=False,
        detail=detail or {},
    )
    session.add(entry)
    return entry


async def _filtered(
    session: AsyncSession, stmt: Select[Any], where: WorkOrderFilter
) -> Select[Any]:
    if where.state:
        stmt = stmt.where(WorkOrder.state == where.state)
    if where.type:
        stmt = stmt.where(WorkOrder.type == where.type)
    if where.priority:
        stmt = stmt.where(WorkOrder.priority == where.priority)
    if where.department:
        dept_id = await assignment.department_id(session, where.department)
        stmt = stmt.where(WorkOrder.department_id == dept_id)
    if where.assignee_id:
        stmt = stmt.where(WorkOrder.assignee_id == where.assignee_id)
    if where.customer_id:
        stmt = stmt.where(WorkOrder.customer_id == where.customer_id)
    if where.open_only or where.overdue_at:
        stmt = stmt.where(WorkOrder.state.in_([s.value for s in OPEN_STATES]))
    if where.overdue_at:
        stmt = stmt.where(WorkOrder.resolution_due < where.overdue_at)
    return stmt


async def _audit(
    session: AsyncSession, actor: Actor, action: str, order: WorkOrder, at: datetime
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="work_order",
        entity_id=order.id,
        at=at,
        after={"code": order.code, "type": order.type, "state": order.state},
    )
