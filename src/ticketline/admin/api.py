"""HTTP API of the admin area: thin handlers over AdminService and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ticketline.admin import audit
from ticketline.admin.models import AuditEntry, Department, Extension, Skill, Staff
from ticketline.admin.permissions import Perm
from ticketline.admin.schemas import (
    AuditOut,
    AuditPage,
    DepartmentIn,
    DepartmentOut,
    ExtensionCreate,
    ExtensionOut,
    ExtensionUpdate,
    PasswordChange,
    SkillIn,
    SkillLevel,
    SkillOut,
    StaffCreate,
    StaffOut,
    StaffUpdate,
)
from ticketline.admin.security import Principal, require
from ticketline.admin.service import AdminService
from ticketline.core.paging import PageRequest

Reader = Annotated[Principal, Depends(require(Perm.STAFF_READ))]
Writer = Annotated[Principal, Depends(require(Perm.STAFF_WRITE))]
Auditor = Annotated[Principal, Depends(require(Perm.AUDIT_READ))]


def build_router(service: AdminService) -> APIRouter:
    router = APIRouter(prefix="/api/admin", tags=["admin"])

    async def staff_out(staff: Staff) -> StaffOut:
        return (await _staff_outs(service, [staff]))[0]

    @router.get("/staff", response_model=list[StaffOut])
    async def list_staff(_: Reader) -> list[StaffOut]:
        return await _staff_outs(service, await service.list_staff())

    @router.post("/staff", response_model=StaffOut, status_code=201)
    async def create_staff(body: StaffCreate, who: Writer) -> StaffOut:
        return await staff_out(await service.create_staff(who.actor, body))

    @router.get("/staff/{staff_id}", response_model=StaffOut)
    async def get_staff(staff_id: str, _: Reader) -> StaffOut:
        return await staff_out(await service.get_staff(staff_id))

    @router.patch("/staff/{staff_id}", response_model=StaffOut)
    async def update_staff(staff_id: str, body: StaffUpdate, who: Writer) -> StaffOut:
        return await staff_out(await service.update_staff(who.actor, staff_id, body))

    @router.post("/staff/{staff_id}/password", status_code=204)
    async def set_password(staff_id: str, body: PasswordChange, who: Writer) -> None:
        await service.set_password(who.actor, staff_id, body.password)

    @router.get("/departments", response_model=list[DepartmentOut])
    async def list_departments(_: Reader) -> list[DepartmentOut]:
        return [_department_out(d) for d in await service.list_departments()]

    @router.post("/departments", response_model=DepartmentOut, status_code=201)
    async def create_department(body: DepartmentIn, who: Writer) -> DepartmentOut:
        return _department_out(await service.create_department(who.actor, body))

    @router.get("/skills", response_model=list[SkillOut])
    async def list_skills(_: Reader) -> list[SkillOut]:
        return [_skill_out(s) for s in await service.list_skills()]

    @router.post("/skills", response_model=SkillOut, status_code=201)
    async def create_skill(body: SkillIn, who: Writer) -> SkillOut:
        return _skill_out(await service.create_skill(who.actor, body))

    @router.get("/extensions", response_model=list[ExtensionOut])
    async def list_extensions(_: Reader) -> list[ExtensionOut]:
        return [_extension_out(e, u) for e, u in await service.list_extensions()]

    @router.post("/extensions", response_model=ExtensionOut, status_code=201)
    async def create_extension(body: ExtensionCreate, who: Writer) -> ExtensionOut:
        return _extension_out(await service.create_extension(who.actor, body), body.staff)

    @router.patch("/extensions/{number}", response_model=ExtensionOut)
    async def update_extension(number: str, body: ExtensionUpdate, who: Writer) -> ExtensionOut:
        ext = await service.update_extension(who.actor, number, body)
        owner = next((u for e, u in await service.list_extensions() if e.id == ext.id), None)
        return _extension_out(ext, owner)

    @router.get("/audit", response_model=AuditPage)
    async def search_audit(
        _: Auditor,
        actor: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        entity_type: Annotated[str | None, Query(max_length=64)] = None,
        entity_id: Annotated[str | None, Query(max_length=64)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> AuditPage:
        query = audit.AuditQuery(actor, action, entity_type, entity_id, since, until)
        async with service.db.sessions() as session:
            found = await audit.search(session, query, PageRequest(page, size))
        return AuditPage(
            items=[audit_out(e) for e in found.items],
            total=found.total,
            page=found.page,
            size=found.size,
        )

    return router


def audit_out(entry: AuditEntry) -> AuditOut:
    return AuditOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor_name,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        before=entry.before,
        after=entry.after,
        source_ip=entry.source_ip,
    )


async def _staff_outs(service: AdminService, staff: list[Staff]) -> list[StaffOut]:
    """Shape staff for output with three look-up queries, however many staff there are."""
    departments = {d.id: d.code for d in await service.list_departments()}
    skills = {s.id: s.code for s in await service.list_skills()}
    extensions = {u: e.number for e, u in await service.list_extensions() if u}
    now = service.clock.now()
    return [
        StaffOut(
            id=s.id,
            username=s.username,
            display_name=s.display_name,
            roles=s.role_names,
            department=departments.get(s.department_id or ""),
            locale=s.locale,
            is_active=s.is_active,
            locked=s.locked_until is not None and s.locked_until > now,
            skills=[SkillLevel(skill=skills[k.skill_id], level=k.level) for k in s.skills],
            extension=extensions.get(s.username),
        )
        for s in staff
    ]


def _department_out(dept: Department) -> DepartmentOut:
    return DepartmentOut(id=dept.id, code=dept.code, name_zh=dept.name_zh, name_en=dept.name_en)


def _skill_out(skill: Skill) -> SkillOut:
    return SkillOut(id=skill.id, code=skill.code, name_zh=skill.name_zh, name_en=skill.name_en)


def _extension_out(ext: Extension, owner: str | None) -> ExtensionOut:
    return ExtensionOut(id=ext.id, number=ext.number, staff=owner, enabled=ext.enabled)
