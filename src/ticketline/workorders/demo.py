"""The demo's work orders: a service calendar, SLA policies for every type and priority,
and 50 work orders of demo customers in every state, some of them opened days ago so
that the overdue list and the reports have something to show.

Each work order goes through the real service (state machine, SLA clock, log), with a
clock set back to when it was opened.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from ticketline.admin.security import SYSTEM, Actor
from ticketline.core.clock import Clock, FixedClock
from ticketline.workorders.models import WorkOrder
from ticketline.workorders.schemas import TYPES, AssignIn, CalendarIn, PolicyIn, WorkOrderCreate
from ticketline.workorders.service import WorkOrderService
from ticketline.workorders.sla import SlaService

HOURS = [["08:00", "20:00"]]
CALENDAR = CalendarIn(code="service", name="客服工作时间 Service hours",
                      week={str(d): HOURS for d in range(7)})  # fmt: skip
TARGETS = {"urgent": (30, 4 * 60), "high": (60, 8 * 60), "normal": (4 * 60, 24 * 60),
           "low": (8 * 60, 72 * 60)}  # fmt: skip
TITLES = {
    "complaint": ("司机态度差 Rude driver", "车辆晚点两小时 Coach two hours late",
                  "座位被占 Seat taken by someone else"),
    "refund_dispute": ("退票手续费有异议 Disputes the refund fee",
                       "退款未到账 Refund not received"),
    "lost_property": ("遗失手机 Phone left on the train", "遗失行李箱 Suitcase lost"),
    "special_assistance": ("轮椅协助 Wheelchair help at boarding",
                           "无人陪伴儿童 Unaccompanied child"),
    "information": ("询问团体票 Group ticket enquiry", "回电：语音留言 Call back a voicemail"),
    "technical_fault": ("取票机不出票 Ticket machine fails", "短信未收到 No pickup SMS"),
}  # fmt: skip
# (state reached, how many, the actions that get there after assignment)
PATHS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("new", 10, ()),
    ("assigned", 8, ("assign",)),
    ("in_progress", 10, ("assign", "start")),
    ("waiting_customer", 5, ("assign", "start", "wait")),
    ("resolved", 8, ("assign", "start", "resolve")),
    ("closed", 6, ("assign", "start", "resolve", "close")),
    ("reopened", 3, ("assign", "start", "resolve", "reopen")),
)
AGENTS = ("agent1", "agent2", "agent3", "supervisor")
DEPARTMENTS = ("callcenter", "customer-care")


async def seed_work_orders(
    service: WorkOrderService, sla: SlaService, clock: Clock, phones: list[str]
) -> int:
    """Write the demo work orders unless there are some; returns how many."""
    async with service.db.sessions() as session:
        if await session.scalar(select(func.count()).select_from(WorkOrder)):
            return 0
    await _policies(sla)
    rng = random.Random(4242)
    made = 0
    for _state, count, actions in PATHS:
        for _ in range(count):
            await _one(service, clock, rng, phones, actions, made)
            made += 1
    return made


async def _policies(sla: SlaService) -> None:
    await sla.save_calendar(SYSTEM, CALENDAR)
    for type_ in TYPES:
        for priority, (first, resolve) in TARGETS.items():
            await sla.save_policy(SYSTEM, PolicyIn(type=type_, priority=priority,
                                                   first_response_minutes=first,
                                                   resolution_minutes=resolve,
                                                   calendar=CALENDAR.code))  # fmt: skip


async def _one(
    service: WorkOrderService,
    clock: Clock,
    rng: random.Random,
    phones: list[str],
    actions: tuple[str, ...],
    n: int,
) -> None:
    back_then = FixedClock(clock.now() - timedelta(hours=rng.randint(1, 24 * 10)))
    past = WorkOrderService(service.db, back_then, service.bus, service.zone)
    type_ = TYPES[n % len(TYPES)]
    order = await past.open(SYSTEM, WorkOrderCreate(
        type=type_, priority=rng.choice(("low", "normal", "normal", "high", "urgent")),
        title=rng.choice(TITLES[type_]), description="客户来电反映。Reported by phone.",
        phone=phones[n % len(phones)] if phones else None,
        department=DEPARTMENTS[n % len(DEPARTMENTS)]))  # fmt: skip
    agent = Actor(None, AGENTS[n % len(AGENTS)])
    for action in actions:
        back_then.advance(timedelta(minutes=rng.randint(10, 300)))
        if action == "assign":
            await past.assign(SYSTEM, order.id, AssignIn(assignee=agent.name))
        else:
            await past.act(agent, order.id, action, _comment(action))
        if action == "start":
            await past.add_note(agent, order.id, "已联系客户，正在核实。We called back.", True)
    if actions[-1:] in (("resolve",), ("close",)) and n % 2 == 0 and order.phone:
        await past.rate(order.code, order.phone, rng.randint(3, 5), "谢谢 Thanks")


def _comment(action: str) -> str:
    return {
        "wait": "等客户提供车票照片 Waiting for a photo of the ticket",
        "resolve": "已处理完毕 Done",
        "reopen": "客户再次来电 The customer called again",
    }.get(action, "")
