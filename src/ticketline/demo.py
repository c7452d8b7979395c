"""Demo data: the staff, departments, skills and extensions of a small hotline."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass

from rich.progress import Progress

from ticketline.acd.config import OverflowKind, Strategy
from ticketline.acd.schemas import (
    MembershipIn,
    OverflowIn,
    QueueIn,
    ReasonCodeIn,
    SkillNeedIn,
    StepIn,
)
from ticketline.admin.errors import CodeTaken, ExtensionTaken, UsernameTaken
from ticketline.admin.permissions import Role
from ticketline.admin.schemas import (
    DepartmentIn,
    ExtensionCreate,
    SkillIn,
    SkillLevel,
    StaffCreate,
)
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.crm.demo import demo_mobiles, seed_customers
from ticketline.kb.demo import seed_kb
from ticketline.telephony.schemas import TrunkIn
from ticketline.telephony.trunks import TrunkNameTaken
from ticketline.ticketing.demo import seed_ticketing
from ticketline.workorders.demo import seed_work_orders

DEMO_PASSWORD = "Ticketline2026"  # noqa: S105 (published demo login)
DEMO_SIP_PASSWORD = "sip-secret-2026"  # noqa: S105 (published demo login)


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    role: Role
    department: str | None
    extension: str | None = None
    skills: tuple[tuple[str, int], ...] = ()


DEPARTMENTS = (
    ("callcenter", "呼叫中心", "Call center"),
    ("customer-care", "客户关怀部", "Customer care"),
)
SKILLS = (
    ("booking", "订票", "Booking"),
    ("refund", "退改签", "Refund and change"),
    ("complaint", "投诉", "Complaints"),
    ("english", "英语服务", "English service"),
)
PEOPLE = (
    DemoPerson("admin", "系统管理员", Role.ADMIN, None),
    DemoPerson("supervisor", "王班长", Role.SUPERVISOR, "callcenter"),
    DemoPerson("agent1", "李敏", Role.AGENT, "callcenter", "1001", (("booking", 5), ("refund", 3))),
    DemoPerson(
        "agent2", "张伟", Role.AGENT, "callcenter", "1002", (("booking", 3), ("complaint", 4))
    ),
    DemoPerson(
        "agent3", "Emma Chen", Role.AGENT, "callcenter", "1003", (("booking", 4), ("english", 5))
    ),
)

# ACD queues for the demo agents: (queue, its settings, [(agent, penalty)])
QUEUES = (
    QueueIn(
        code="booking",
        name_zh="订票",
        name_en="Booking",
        skills=[SkillNeedIn(skill="booking", min_level=3)],
        steps=[StepIn(after_seconds=30, lower_levels=2)],
        max_wait=600,
        wrap_up=30,  # time to note the booking before the next caller
        overflow=OverflowIn(kind=OverflowKind.CALLBACK),
        announce_every=45,
        message_key="1",
        callback_key="2",
    ),
    QueueIn(
        code="refund",
        name_zh="退改签",
        name_en="Refund and change",
        skills=[SkillNeedIn(skill="refund", min_level=2)],
        steps=[StepIn(after_seconds=60, extra_queues=["booking"])],
        max_wait=300,
        overflow=OverflowIn(kind=OverflowKind.VOICEMAIL),
        message_key="1",
    ),
    QueueIn(
        code="complaint",
        name_zh="投诉",
        name_en="Complaints",
        strategy=Strategy.BEST_SKILL,
        skills=[SkillNeedIn(skill="complaint", min_level=3)],
        wrap_up=30,
    ),
    QueueIn(
        code="english",
        name_zh="英语服务",
        name_en="English service",
        skills=[SkillNeedIn(skill="english", min_level=3)],
        max_wait=120,
        overflow=OverflowIn(kind=OverflowKind.QUEUE, target_queue="booking"),
    ),
    QueueIn(  # the theatre's box office (flow theatre.yaml, number 95106)
        code="box_office",
        name_zh="剧院售票处",
        name_en="Theatre box office",
        skills=[SkillNeedIn(skill="booking", min_level=3)],
        max_wait=300,
        overflow=OverflowIn(kind=OverflowKind.VOICEMAIL),
    ),
)
MEMBERS = (
    ("booking", "agent1", 0),
    ("booking", "agent2", 0),
    ("booking", "agent3", 1),
    ("refund", "agent1", 0),
    ("complaint", "agent2", 0),
    ("english", "agent3", 0),
    ("box_office", "agent1", 1),
    ("box_office", "agent3", 0),
)
REASONS = (
    ("lunch", "午餐", "Lunch"),
    ("break", "休息", "Break"),
    ("training", "培训", "Training"),
    ("meeting", "会议", "Meeting"),
    ("after_call", "话后处理", "After-call work"),
)


async def seed_acd(app: Application) -> None:
    """The demo queues, their members and the not-ready reasons; idempotent."""
    for code, zh, en in REASONS:
        await app.acd.put_reason(SYSTEM, ReasonCodeIn(code=code, name_zh=zh, name_en=en))
    for queue in QUEUES:
        await _ignore_existing(app.acd.create_queue(SYSTEM, queue))
    for queue_code, agent, penalty in MEMBERS:
        await app.acd.set_member(SYSTEM, queue_code, MembershipIn(agent=agent, penalty=penalty))


DEMO_TRUNK = TrunkIn(
    name="demo-carrier",
    host="127.0.0.1",
    port=5090,
    inbound_sources=["127.0.0.1/32"],
    caller_id="95105",
)
"""Calls from 127.0.0.1 come in as carrier calls (a SIPp uac can call 1001 at once)."""


async def seed_demo(app: Application) -> None:
    """Create the demo records; running it again changes nothing."""
    steps = len(DEPARTMENTS) + len(SKILLS) + 2 * len(PEOPLE) + 1
    with Progress(transient=True) as progress:
        task = progress.add_task("Seeding demo data", total=steps)
        for code, zh, en in DEPARTMENTS:
            await _ignore_existing(
                app.admin.create_department(SYSTEM, DepartmentIn(code=code, name_zh=zh, name_en=en))
            )
            progress.advance(task)
        for code, zh, en in SKILLS:
            await _ignore_existing(
                app.admin.create_skill(SYSTEM, SkillIn(code=code, name_zh=zh, name_en=en))
            )
            progress.advance(task)
        for person in PEOPLE:
            await _ignore_existing(app.admin.create_staff(SYSTEM, _staff_input(person)))
            progress.advance(task)
            if person.extension:
                await _ignore_existing(
                    app.admin.create_extension(
                        SYSTEM,
                        ExtensionCreate(
                            number=person.extension,
                            password=DEMO_SIP_PASSWORD,
                            staff=person.username,
                        ),
                    )
                )
            progress.advance(task)
        await _ignore_existing(app.trunks.create(SYSTEM, DEMO_TRUNK))
        await seed_acd(app)
        await app.notify.install_default_templates()
        today = app.clock.now().astimezone(app.settings.zone).date()
        await seed_ticketing(app.ticketing, today)
        await seed_kb(app.kb)
        progress.advance(task)


async def seed_history(app: Application) -> tuple[int, int]:
    """The demo's volume: 1,000 customers with history and 50 work orders of theirs.

    Kept out of `seed_demo` (which the tests' template database uses) so that tests
    start from a small, known base; `ticketline demo` runs both.
    """
    customers = await seed_customers(app.db, app.crm, app.clock)
    phones = demo_mobiles()[::20]
    orders = await seed_work_orders(app.workorders, app.sla, app.clock, phones)
    return customers, orders


def _staff_input(person: DemoPerson) -> StaffCreate:
    return StaffCreate(
        username=person.username,
        display_name=person.name,
        password=DEMO_PASSWORD,
        roles=[person.role],
        department=person.department,
        locale="en" if person.username == "agent3" else "zh_CN",
        skills=[SkillLevel(skill=s, level=lvl) for s, lvl in person.skills],
    )


async def _ignore_existing(creation: Awaitable[object]) -> None:
    with contextlib.suppress(UsernameTaken, CodeTaken, ExtensionTaken, TrunkNameTaken):
        await creation
