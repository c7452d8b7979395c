"""Work order reports for a period: volumes by type and department, handling time,
SLA compliance, reopen rate and satisfaction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ticketline.admin.models import Department
from ticketline.db.session import Database
from ticketline.workorders.models import WorkOrder


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    created: int
    resolved: int
    created_by_type: dict[str, int]
    created_by_department: dict[str, int]
    average_handling_hours: float | None
    sla_compliance_percent: float | None
    reopen_rate_percent: float | None
    satisfaction_average: float | None
    satisfaction_count: int


async def summary(db: Database, since: datetime, until: datetime) -> Report:
    """Created in [since, until) by type and department; resolved in the period with
    handling time (created to resolved), share resolved within the target, share of
    them reopened at least once, and the average rating."""
    async with db.sessions() as session:
        departments = {
            r[0]: r[1] for r in await session.execute(select(Department.id, Department.code))
        }
        created = list(
            (
                await session.execute(
                    select(WorkOrder.type, WorkOrder.department_id).where(
                        WorkOrder.created_at >= since, WorkOrder.created_at < until
                    )
                )
            ).all()
        )
        resolved = list(
            (
                await session.execute(
                    select(
                        WorkOrder.created_at,
                        WorkOrder.resolved_at,
                        WorkOrder.resolved_in_time,
                        WorkOrder.reopen_count,
                        WorkOrder.satisfaction,
                    ).where(WorkOrder.resolved_at >= since, WorkOrder.resolved_at < until)
                )
            ).all()
        )
    hours = [(r - c).total_seconds() / 3600 for c, r, _, _, _ in resolved if r is not None]
    judged = [ok for _, _, ok, _, _ in resolved if ok is not None]
    ratings = [s for *_, s in resolved if s is not None]
    return Report(
        since=since,
        until=until,
        created=len(created),
        resolved=len(resolved),
        created_by_type=dict(Counter(t for t, _ in created)),
        created_by_department=dict(Counter(departments.get(d, d) for _, d in created)),
        average_handling_hours=_mean(hours),
        sla_compliance_percent=_percent(sum(judged), len(judged)),
        reopen_rate_percent=_percent(sum(1 for *_, n, _ in resolved if n > 0), len(resolved)),
        satisfaction_average=_mean([float(s) for s in ratings]),
        satisfaction_count=len(ratings),
    )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
