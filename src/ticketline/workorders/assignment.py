"""Who gets a work order: a named person, or the department's next in turn
(round robin) or least busy (fewest open work orders). Only active staff of the
department are candidates; supervisors are who escalations go to."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin.models import Department, Staff, StaffRole
from ticketline.core.errors import InvalidInput
from ticketline.workorders.errors import NobodyToAssign
from ticketline.workorders.models import WorkOrder, WorkOrderLog
from ticketline.workorders.states import OPEN_STATES


async def department_id(session: AsyncSession, code: str, field: str = "department") -> str:
    found = await session.scalar(select(Department.id).where(Department.code == code))
    if found is None:
        raise InvalidInput(field, f"no department {code!r}")
    return found


async def department_code(session: AsyncSession, dept_id: str) -> str:
    return await session.scalar(select(Department.code).where(Department.id == dept_id)) or ""


async def members(session: AsyncSession, dept_id: str) -> list[str]:
    """Active staff of a department, by username (a stable order for round robin)."""
    rows = await session.scalars(
        select(Staff.id)
        .where(Staff.department_id == dept_id, Staff.is_active.is_(True))
        .order_by(Staff.username)
    )
    return list(rows)


async def named(session: AsyncSession, username: str) -> str:
    found = await session.scalar(
        select(Staff.id).where(Staff.username == username, Staff.is_active.is_(True))
    )
    if found is None:
        raise InvalidInput("assignee", f"no active staff member {username!r}")
    return found


async def round_robin(session: AsyncSession, dept_id: str) -> str:
    """The member after the one who got this department's last automatic assignment."""
    candidates = await members(session, dept_id)
    if not candidates:
        raise NobodyToAssign("department: nobody active in this department")
    last = await session.scalar(
        select(WorkOrderLog.detail)
        .join(WorkOrder, WorkOrder.id == WorkOrderLog.work_order_id)
        .where(WorkOrderLog.kind == "auto_assign", WorkOrder.department_id == dept_id)
        .order_by(WorkOrderLog.id.desc())
        .limit(1)
    )
    previous = (last or {}).get("assignee_id")
    if previous in candidates:
        return candidates[(candidates.index(previous) + 1) % len(candidates)]
    return candidates[0]


async def least_open(session: AsyncSession, dept_id: str) -> str:
    """The member with the fewest open work orders (ties: by username)."""
    candidates = await members(session, dept_id)
    if not candidates:
        raise NobodyToAssign("department: nobody active in this department")
    counts = dict(
        (
            await session.execute(
                select(WorkOrder.assignee_id, func.count())
                .where(
                    WorkOrder.assignee_id.in_(candidates),
                    WorkOrder.state.in_([s.value for s in OPEN_STATES]),
                )
                .group_by(WorkOrder.assignee_id)
            )
        ).all()
    )
    return min(candidates, key=lambda staff_id: counts.get(staff_id, 0))


async def supervisor(session: AsyncSession, dept_id: str) -> str | None:
    """A supervisor of the department, else any supervisor; None if there is none."""
    stmt = (
        select(Staff.id)
        .join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(StaffRole.role == "supervisor", Staff.is_active.is_(True))
        .order_by(case((Staff.department_id == dept_id, 0), else_=1), Staff.username)
        .limit(1)
    )
    return await session.scalar(stmt)
