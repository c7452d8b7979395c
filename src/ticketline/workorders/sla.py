"""SLA policies and calendars, due times, and the breach check the scheduler runs.

Due times are computed when a work order opens (business minutes on the policy's
calendar) and pushed back by the business time spent waiting on the customer.
The check marks near-breaches (`warn_percent` of the target used) and breaches
once each, publishes `WorkOrderNearBreach` / `WorkOrderBreached`, and escalates a
breached resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.workorders.calendar import BusinessCalendar, parse_week
from ticketline.workorders.errors import NoPolicy
from ticketline.workorders.events import WorkOrderBreached, WorkOrderNearBreach
from ticketline.workorders.models import BusinessCalendarRow, Holiday, SlaPolicy, WorkOrder
from ticketline.workorders.schemas import CalendarIn, HolidayIn, PolicyIn
from ticketline.workorders.states import OPEN_STATES, State


@dataclass(frozen=True)
class Targets:
    first_response_due: datetime
    resolution_due: datetime
    calendar_id: str


async def load_calendar(session: AsyncSession, calendar_id: str) -> BusinessCalendar:
    row = await session.get(BusinessCalendarRow, calendar_id)
    if row is None:
        raise NoPolicy(f"no calendar {calendar_id}")
    days = list(await session.scalars(select(Holiday).where(Holiday.calendar_id == calendar_id)))
    return BusinessCalendar(
        zone=ZoneInfo(row.timezone),
        week=parse_week(row.week),
        closed=frozenset(d.day for d in days if not d.working),
        extra_working=frozenset(d.day for d in days if d.working),
    )


async def policy_for(session: AsyncSession, type_: str, priority: str) -> SlaPolicy | None:
    return await session.scalar(
        select(SlaPolicy).where(SlaPolicy.type == type_, SlaPolicy.priority == priority)
    )


async def targets(
    session: AsyncSession, type_: str, priority: str, start: datetime
) -> Targets | None:
    """Due times for a new work order, or None when no policy covers it."""
    policy = await policy_for(session, type_, priority)
    if policy is None:
        return None
    calendar = await load_calendar(session, policy.calendar_id)
    return Targets(
        calendar.add(start, policy.first_response_minutes),
        calendar.add(start, policy.resolution_minutes),
        policy.calendar_id,
    )


async def push_back_after_pause(session: AsyncSession, order: WorkOrder, now: datetime) -> None:
    """Move the due times by the business time spent waiting on the customer."""
    if order.sla_paused_at is None:
        return
    policy = await policy_for(session, order.type, order.priority)
    paused_from, order.sla_paused_at = order.sla_paused_at, None
    if policy is None:
        return
    calendar = await load_calendar(session, policy.calendar_id)
    paused = calendar.minutes_between(paused_from, now)
    if order.resolution_due is not None:
        order.resolution_due = calendar.add(order.resolution_due, paused)
    if order.first_response_due is not None and order.first_response_at is None:
        order.first_response_due = calendar.add(order.first_response_due, paused)


class SlaService:
    """Calendars, holidays and policies (configuration), and the periodic check."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def save_calendar(self, actor: Actor, data: CalendarIn) -> BusinessCalendarRow:
        parse_week(data.week)
        try:
            ZoneInfo(data.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput("timezone", f"unknown time zone {data.timezone!r}") from exc
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await session.scalar(
                select(BusinessCalendarRow).where(BusinessCalendarRow.code == data.code)
            )
            if row is None:
                row = BusinessCalendarRow(code=data.code, created_at=now)
                session.add(row)
            row.name, row.timezone, row.week = data.name, data.timezone, data.week
            await session.flush()
            await _audit(session, actor, "wo_calendar.save", row.id, now, data.model_dump())
        return row

    async def set_holiday(self, actor: Actor, calendar_code: str, data: HolidayIn) -> Holiday:
        now = self.clock.now()
        async with self.db.transaction() as session:
            calendar_id = await _calendar_id(session, calendar_code)
            row = await session.scalar(
                select(Holiday).where(Holiday.calendar_id == calendar_id, Holiday.day == data.day)
            )
            if row is None:
                row = Holiday(calendar_id=calendar_id, day=data.day)
                session.add(row)
            row.name, row.working = data.name, data.working
            await session.flush()
            await _audit(
                session, actor, "wo_holiday.save", row.id, now, data.model_dump(mode="json")
            )
        return row

    async def save_policy(self, actor: Actor, data: PolicyIn) -> SlaPolicy:
        if data.resolution_minutes < data.first_response_minutes:
            raise InvalidInput("resolution_minutes", "must not be shorter than first response")
        now = self.clock.now()
        async with self.db.transaction() as session:
            calendar_id = await _calendar_id(session, data.calendar)
            row = await policy_for(session, data.type, data.priority)
            if row is None:
                row = SlaPolicy(type=data.type, priority=data.priority)
                session.add(row)
            row.first_response_minutes = data.first_response_minutes
            row.resolution_minutes = data.resolution_minutes
            row.warn_percent = data.warn_percent
            row.calendar_id = calendar_id
            await session.flush()
            await _audit(session, actor, "wo_sla_policy.save", row.id, now, data.model_dump())
        return row

    async def policies(self) -> list[SlaPolicy]:
        async with self.db.sessions() as session:
            return list(
                await session.scalars(
                    select(SlaPolicy).order_by(SlaPolicy.type, SlaPolicy.priority)
                )
            )

    async def check(self) -> list[WorkOrderBreached | WorkOrderNearBreach]:
        """Mark and announce near-breaches and breaches of open work orders (scheduled)."""
        now = self.clock.now()
        found: list[WorkOrderBreached | WorkOrderNearBreach] = []
        async with self.db.transaction() as session:
            open_orders = await session.scalars(
                select(WorkOrder).where(
                    WorkOrder.state.in_([s.value for s in OPEN_STATES]),
                    WorkOrder.state != State.WAITING_CUSTOMER.value,
                    WorkOrder.resolution_due.is_not(None),
                )
            )
            for order in open_orders:
                found.extend(await _judge(session, order, now))
        for event in found:
            await self.bus.publish(event)
        return found


async def _judge(
    session: AsyncSession, order: WorkOrder, now: datetime
) -> list[WorkOrderBreached | WorkOrderNearBreach]:
    events: list[WorkOrderBreached | WorkOrderNearBreach] = []
    dept = order.department_id
    due = order.first_response_due
    if order.first_response_at is None and due and due <= now and not order.response_breached:
        order.response_breached = True
        events.append(
            WorkOrderBreached(order.id, order.code, "first_response", due, dept, order.assignee_id)
        )
    due = order.resolution_due
    if due is None:
        return events
    if due <= now and not order.resolution_breached:
        order.resolution_breached = True
        events.append(
            WorkOrderBreached(order.id, order.code, "resolution", due, dept, order.assignee_id)
        )
    elif not order.warned and not order.resolution_breached:
        policy = await policy_for(session, order.type, order.priority)
        warn = policy.warn_percent if policy else 80
        if now >= order.created_at + (due - order.created_at) * warn / 100:
            order.warned = True
            events.append(
                WorkOrderNearBreach(
                    order.id, order.code, "resolution", due, dept, order.assignee_id
                )
            )
    return events


async def _calendar_id(session: AsyncSession, code: str) -> str:
    found = await session.scalar(
        select(BusinessCalendarRow.id).where(BusinessCalendarRow.code == code)
    )
    if found is None:
        raise InvalidInput("calendar", f"no calendar {code!r}")
    return found


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_id: str,
    at: datetime,
    after: dict[str, object],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=action.split(".")[0],
        entity_id=entity_id,
        at=at,
        after={
            k: (str(v) if not isinstance(v, (int, str, bool, list, dict)) else v)
            for k, v in after.items()
        },
    )
