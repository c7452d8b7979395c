"""Staff, departments, skills and extensions: every change audited, bad input refused."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from ticketline.admin.errors import ExtensionTaken, UnknownReference, UsernameTaken
from ticketline.admin.events import ExtensionChanged
from ticketline.admin.models import AuditEntry, Staff
from ticketline.admin.permissions import Role
from ticketline.admin.schemas import (
    DepartmentIn,
    ExtensionCreate,
    ExtensionUpdate,
    SkillIn,
    SkillLevel,
    StaffCreate,
    StaffUpdate,
)
from ticketline.admin.security import Actor, verify_password
from ticketline.app import Application
from ticketline.core.errors import InvalidInput

BOSS = Actor(id="boss-id", name="boss", ip="10.0.0.9")
GOOD_PASSWORD = "Correct-Horse-42"


def agent(username: str = "agent7", **changes: object) -> StaffCreate:
    fields: dict[str, object] = {
        "username": username,
        "display_name": "李四",
        "password": GOOD_PASSWORD,
        "roles": [Role.AGENT],
    }
    fields.update(changes)
    return StaffCreate.model_validate(fields)


async def audit_entries(app: Application) -> list[AuditEntry]:
    async with app.db.sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def staff_count(app: Application) -> int:
    async with app.db.sessions() as session:
        return await session.scalar(select(func.count(Staff.id))) or 0


async def test_created_staff_can_be_read_back_with_hashed_password(
    application: Application,
) -> None:
    staff = await application.admin.create_staff(BOSS, agent())
    loaded = await application.admin.get_staff(staff.id)
    assert loaded.role_names == ["agent"]
    assert loaded.password_hash != GOOD_PASSWORD
    assert verify_password(loaded.password_hash, GOOD_PASSWORD)


async def test_staff_creation_is_audited_without_secrets(application: Application) -> None:
    staff = await application.admin.create_staff(BOSS, agent())
    [entry] = await audit_entries(application)
    assert (entry.actor_name, entry.action, entity := entry.entity_id) == (
        "boss",
        "staff.create",
        staff.id,
    )
    assert entity == staff.id
    assert entry.source_ip == "10.0.0.9"
    assert entry.after is not None
    assert entry.after["username"] == "agent7"
    assert "password_hash" not in entry.after


async def test_update_records_before_and_after(application: Application) -> None:
    staff = await application.admin.create_staff(BOSS, agent())
    await application.admin.update_staff(BOSS, staff.id, StaffUpdate(display_name="李小四"))
    entry = (await audit_entries(application))[-1]
    assert entry.action == "staff.update"
    assert entry.before is not None
    assert entry.before["display_name"] == "李四"
    assert entry.after is not None
    assert entry.after["display_name"] == "李小四"


async def test_duplicate_username_is_refused_and_nothing_is_written(
    application: Application,
) -> None:
    await application.admin.create_staff(BOSS, agent())
    with pytest.raises(UsernameTaken) as raised:
        await application.admin.create_staff(BOSS, agent())
    assert raised.value.details == {"field": "username"}
    assert await staff_count(application) == 1
    assert len(await audit_entries(application)) == 1


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1", "at least 10 characters"),
        ("onlyletterslong", "letters and digits"),
        ("12345678901234", "letters and digits"),
        ("Password1", "at least 10"),
        ("agent7-is-me-99", "username"),
    ],
)
async def test_weak_passwords_are_refused_with_the_rule(
    application: Application, password: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason) as raised:
        await application.admin.create_staff(BOSS, agent(password=password))
    assert raised.value.details["field"] == "password"
    assert await staff_count(application) == 0


async def test_unknown_department_or_skill_is_named(application: Application) -> None:
    with pytest.raises(UnknownReference, match="department"):
        await application.admin.create_staff(BOSS, agent(department="nowhere"))
    with pytest.raises(UnknownReference, match="skill 'flying'"):
        await application.admin.create_staff(BOSS, agent(skills=[{"skill": "flying", "level": 3}]))
    assert await staff_count(application) == 0


async def test_skills_and_departments_attach_to_staff(application: Application) -> None:
    await application.admin.create_department(
        BOSS, DepartmentIn(code="cc", name_zh="呼叫中心", name_en="Call center")
    )
    await application.admin.create_skill(
        BOSS, SkillIn(code="refund", name_zh="退票", name_en="Refunds")
    )
    staff = await application.admin.create_staff(
        BOSS, agent(department="cc", skills=[SkillLevel(skill="refund", level=4)])
    )
    assert staff.department_id is not None
    assert [s.level for s in staff.skills] == [4]


async def test_extension_keeps_digest_ha1_not_the_password(application: Application) -> None:
    await application.admin.create_staff(BOSS, agent())
    heard: list[ExtensionChanged] = []

    async def on_change(event: ExtensionChanged) -> None:
        heard.append(event)

    application.bus.subscribe(ExtensionChanged, on_change)
    ext = await application.admin.create_extension(
        BOSS, ExtensionCreate(number="1009", password="sip-pass-2026", staff="agent7")
    )
    expected = hashlib.md5(b"1009:ticketline:sip-pass-2026", usedforsecurity=False).hexdigest()
    creds = await application.admin.sip_credentials("1009")
    assert creds is not None
    assert creds.ha1_md5 == expected
    assert creds.ha1_sha256 == hashlib.sha256(b"1009:ticketline:sip-pass-2026").hexdigest()
    assert heard == [ExtensionChanged("1009", True)]
    assert ext.staff_id is not None


async def test_disabled_extension_gives_no_credentials(application: Application) -> None:
    await application.admin.create_extension(
        BOSS, ExtensionCreate(number="1010", password="sip-pass-2026")
    )
    await application.admin.update_extension(BOSS, "1010", ExtensionUpdate(enabled=False))
    assert await application.admin.sip_credentials("1010") is None


async def test_one_extension_per_number_and_per_person(application: Application) -> None:
    await application.admin.create_staff(BOSS, agent())
    await application.admin.create_extension(
        BOSS, ExtensionCreate(number="1011", password="sip-pass-2026", staff="agent7")
    )
    with pytest.raises(ExtensionTaken):
        await application.admin.create_extension(
            BOSS, ExtensionCreate(number="1011", password="sip-pass-2026")
        )
    with pytest.raises(ExtensionTaken, match="already has an extension"):
        await application.admin.create_extension(
            BOSS, ExtensionCreate(number="1012", password="sip-pass-2026", staff="agent7")
        )
    assert [e.number for e, _ in await application.admin.list_extensions()] == ["1011"]
