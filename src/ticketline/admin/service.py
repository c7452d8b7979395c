"""Admin use cases: the only writer of staff, departments, skills and extensions."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.errors import (
    CodeTaken,
    ExtensionTaken,
    StaffNotFound,
    UnknownReference,
    UsernameTaken,
)
from ticketline.admin.events import ExtensionChanged, StaffChanged
from ticketline.admin.models import Department, Extension, Skill, Staff, StaffRole, StaffSkill
from ticketline.admin.schemas import (
    DepartmentIn,
    ExtensionCreate,
    ExtensionUpdate,
    SkillIn,
    SkillLevel,
    StaffCreate,
    StaffUpdate,
)
from ticketline.admin.security import Actor, check_password_strength, hash_password
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database


def digest_ha1(user: str, realm: str, password: str, algorithm: str) -> str:
    """HA1 = H(user:realm:password), as SIP digest authentication needs it (RFC 7616)."""
    data = f"{user}:{realm}:{password}".encode()
    if algorithm == "MD5":
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    return hashlib.sha256(data).hexdigest()


def staff_snapshot(staff: Staff) -> dict[str, Any]:
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "roles": staff.role_names,
        "department_id": staff.department_id,
        "locale": staff.locale,
        "is_active": staff.is_active,
        "skills": sorted((s.skill_id, s.level) for s in staff.skills),
    }


class AdminService:
    """Staff, departments, skills and extensions; every change is audited."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus, sip_realm: str) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.sip_realm = sip_realm

    # -- staff -------------------------------------------------------------------------

    async def create_staff(self, actor: Actor, data: StaffCreate) -> Staff:
        check_password_strength(data.password, data.username)
        async with self.db.transaction() as session:
            if await _staff_by_username(session, data.username):
                raise UsernameTaken(
                    f"username {data.username!r} is already taken", details={"field": "username"}
                )
            now = self.clock.now()
            staff = Staff(
                username=data.username,
                display_name=data.display_name,
                password_hash=hash_password(data.password),
                locale=data.locale,
                department_id=await _department_id(session, data.department),
                created_at=now,
                password_changed_at=now,
                is_active=True,
                failed_logins=0,
                roles=[StaffRole(role=r.value) for r in sorted(set(data.roles))],
                skills=await _skill_rows(session, data.skills),
            )
            session.add(staff)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="staff.create",
                entity_type="staff",
                entity_id=staff.id,
                at=now,
                after=staff_snapshot(staff),
            )
        await self.bus.publish(StaffChanged(staff.id, staff.username))
        return staff

    async def update_staff(self, actor: Actor, staff_id: str, data: StaffUpdate) -> Staff:
        async with self.db.transaction() as session:
            staff = await _staff_or_404(session, staff_id)
            before = staff_snapshot(staff)
            await self._apply_update(session, staff, data)
            await session.flush()
            after = staff_snapshot(staff)
            if after != before:
                await audit.record(
                    session,
                    actor=actor,
                    action="staff.update",
                    entity_type="staff",
                    entity_id=staff.id,
                    at=self.clock.now(),
                    before=before,
                    after=after,
                )
        await self.bus.publish(StaffChanged(staff.id, staff.username))
        return staff

    async def _apply_update(self, session: AsyncSession, staff: Staff, data: StaffUpdate) -> None:
        fields = data.model_fields_set
        if data.display_name is not None:
            staff.display_name = data.display_name
        if data.locale is not None:
            staff.locale = data.locale
        if data.is_active is not None:
            staff.is_active = data.is_active
        if "department" in fields:
            staff.department_id = await _department_id(session, data.department)
        if data.roles is not None:
            staff.roles = [StaffRole(role=r.value) for r in sorted(set(data.roles))]
        if data.skills is not None:
            staff.skills = await _skill_rows(session, data.skills)

    async def set_password(self, actor: Actor, staff_id: str, password: str) -> None:
        async with self.db.transaction() as session:
            staff = await _staff_or_404(session, staff_id)
            check_password_strength(password, staff.username)
            staff.password_hash = hash_password(password)
            staff.password_changed_at = self.clock.now()
            staff.failed_logins = 0
            staff.locked_until = None
            await audit.record(
                session,
                actor=actor,
                action="staff.password",
                entity_type="staff",
                entity_id=staff.id,
                at=self.clock.now(),
                after={"password": "changed"},
            )

    async def set_locale(self, actor: Actor, staff_id: str, locale: str) -> None:
        await self.update_staff(actor, staff_id, StaffUpdate(locale=locale))

    async def list_staff(self) -> list[Staff]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(Staff).order_by(Staff.username)))

    async def get_staff(self, staff_id: str) -> Staff:
        async with self.db.sessions() as session:
            return await _staff_or_404(session, staff_id)

    async def find_staff(self, username: str) -> Staff:
        async with self.db.sessions() as session:
            staff = await _staff_by_username(session, username)
            if staff is None:
                raise StaffNotFound(f"no staff member {username!r}")
            return staff

    # -- departments and skills --------------------------------------------------------

    async def create_department(self, actor: Actor, data: DepartmentIn) -> Department:
        now = self.clock.now()
        dept = Department(
            code=data.code, name_zh=data.name_zh, name_en=data.name_en, created_at=now
        )
        async with self.db.transaction() as session:
            if await session.scalar(select(Department).where(Department.code == data.code)):
                raise CodeTaken(f"department {data.code!r} exists", details={"field": "code"})
            session.add(dept)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="department.create",
                entity_type="department",
                entity_id=dept.id,
                at=now,
                after=data.model_dump(),
            )
        return dept

    async def list_departments(self) -> list[Department]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(Department).order_by(Department.code)))

    async def create_skill(self, actor: Actor, data: SkillIn) -> Skill:
        skill = Skill(code=data.code, name_zh=data.name_zh, name_en=data.name_en)
        async with self.db.transaction() as session:
            if await session.scalar(select(Skill).where(Skill.code == data.code)):
                raise CodeTaken(f"skill {data.code!r} exists", details={"field": "code"})
            session.add(skill)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="skill.create",
                entity_type="skill",
                entity_id=skill.id,
                at=self.clock.now(),
                after=data.model_dump(),
            )
        return skill

    async def list_skills(self) -> list[Skill]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(Skill).order_by(Skill.code)))

    # -- extensions --------------------------------------------------------------------

    async def create_extension(self, actor: Actor, data: ExtensionCreate) -> Extension:
        check_password_strength(data.password)
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await _extension_by_number(session, data.number):
                raise ExtensionTaken(f"extension {data.number} exists", details={"field": "number"})
            ext = Extension(
                number=data.number,
                enabled=True,
                created_at=now,
                staff_id=await _staff_id(session, data.staff),
                realm=self.sip_realm,
                **self._ha1s(data.number, data.password),
            )
            session.add(ext)
            await _flush_unique(session, "staff", f"{data.staff} already has an extension")
            await audit.record(
                session,
                actor=actor,
                action="extension.create",
                entity_type="extension",
                entity_id=ext.number,
                at=now,
                after={"number": ext.number, "staff": data.staff},
            )
        await self.bus.publish(ExtensionChanged(ext.number, ext.enabled))
        return ext

    async def update_extension(self, actor: Actor, number: str, data: ExtensionUpdate) -> Extension:
        async with self.db.transaction() as session:
            ext = await _extension_by_number(session, number)
            if ext is None:
                raise UnknownReference(f"no extension {number}", details={"field": "number"})
            before = {"staff_id": ext.staff_id, "enabled": ext.enabled}
            if data.password is not None:
                check_password_strength(data.password)
                for key, value in self._ha1s(number, data.password).items():
                    setattr(ext, key, value)
                ext.realm = self.sip_realm
            if "staff" in data.model_fields_set:
                ext.staff_id = await _staff_id(session, data.staff)
            if data.enabled is not None:
                ext.enabled = data.enabled
            await _flush_unique(session, "staff", f"{data.staff} already has an extension")
            after = {
                "staff_id": ext.staff_id,
                "enabled": ext.enabled,
                "password": "changed" if data.password else "unchanged",
            }
            await audit.record(
                session,
                actor=actor,
                action="extension.update",
                entity_type="extension",
                entity_id=number,
                at=self.clock.now(),
                before=before,
                after=after,
            )
        await self.bus.publish(ExtensionChanged(ext.number, ext.enabled))
        return ext

    async def list_extensions(self) -> list[tuple[Extension, str | None]]:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(Extension, Staff.username)
                .outerjoin(Staff, Staff.id == Extension.staff_id)
                .order_by(Extension.number)
            )
            return [(ext, username) for ext, username in rows]

    async def sip_credentials(self, number: str) -> Extension | None:
        """The enabled extension `number` with its digest HA1s, for the registrar."""
        async with self.db.sessions() as session:
            ext = await _extension_by_number(session, number)
            return ext if ext is not None and ext.enabled else None

    def _ha1s(self, number: str, password: str) -> dict[str, str]:
        return {
            "ha1_md5": digest_ha1(number, self.sip_realm, password, "MD5"),
            "ha1_sha256": digest_ha1(number, self.sip_realm, password, "SHA-256"),
        }


async def _staff_by_username(session: AsyncSession, username: str) -> Staff | None:
    return await session.scalar(select(Staff).where(Staff.username == username))


async def _staff_or_404(session: AsyncSession, staff_id: str) -> Staff:
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise StaffNotFound(f"no staff member with id {staff_id}")
    return staff


async def _staff_id(session: AsyncSession, username: str | None) -> str | None:
    if username is None:
        return None
    staff = await _staff_by_username(session, username)
    if staff is None:
        raise UnknownReference(f"no staff member {username!r}", details={"field": "staff"})
    return staff.id


async def _department_id(session: AsyncSession, code: str | None) -> str | None:
    if code is None:
        return None
    dept_id = await session.scalar(select(Department.id).where(Department.code == code))
    if dept_id is None:
        raise UnknownReference(f"no department {code!r}", details={"field": "department"})
    return dept_id


async def _skill_rows(session: AsyncSession, levels: list[SkillLevel]) -> list[StaffSkill]:
    codes = [s.skill for s in levels]
    if len(set(codes)) != len(codes):
        raise UnknownReference("a skill is listed twice", details={"field": "skills"})
    found = dict(
        (await session.execute(select(Skill.code, Skill.id).where(Skill.code.in_(codes)))).all()
    )
    missing = sorted(set(codes) - set(found))
    if missing:
        raise UnknownReference(f"no skill {missing[0]!r}", details={"field": "skills"})
    return [StaffSkill(skill_id=found[s.skill], level=s.level) for s in levels]


async def _extension_by_number(session: AsyncSession, number: str) -> Extension | None:
    return await session.scalar(select(Extension).where(Extension.number == number))


async def _flush_unique(session: AsyncSession, field: str, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ExtensionTaken(message, details={"field": field}) from exc
