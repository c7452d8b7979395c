"""Demo data: the staff, departments, skills and extensions of a small hotline."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass

from rich.progress import Progress

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
from ticketline.telephony.schemas import TrunkIn
from ticketline.telephony.trunks import TrunkNameTaken

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
    steps = len(DEPARTMENTS) + len(SKILLS) + 2 * len(PEOPLE)
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
