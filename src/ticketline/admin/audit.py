"""The audit log: every change by every user, with the values before and after.

Any area's service calls `record` inside its own transaction, so the change and
its audit entry are committed together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin.models import AuditEntry
from ticketline.admin.security import Actor
from ticketline.core.paging import Page, PageRequest

SECRET_FIELDS = frozenset({"password", "password_hash", "ha1_md5", "ha1_sha256", "token_hash"})


def scrub(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop secrets from a snapshot before it is written to the log."""
    if values is None:
        return None
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in values.items()}


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str,
    at: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry to the caller's transaction."""
    session.add(
        AuditEntry(
            at=at,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            before=scrub(before),
            after=scrub(after),
            source_ip=actor.ip,
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(session: AsyncSession, query: AuditQuery, page: PageRequest) -> Page[AuditEntry]:
    """Newest first, filtered by any combination of the query's fields."""
    stmt = _filtered(select(AuditEntry), query)
    total = await session.scalar(_filtered(select(func.count(AuditEntry.id)), query))
    rows = await session.scalars(
        stmt.order_by(AuditEntry.id.desc()).offset(page.offset).limit(page.size)
    )
    return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)


def _filtered(stmt: Select[Any], query: AuditQuery) -> Select[Any]:
    if query.actor:
        stmt = stmt.where(AuditEntry.actor_name == query.actor)
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.entity_type:
        stmt = stmt.where(AuditEntry.entity_type == query.entity_type)
    if query.entity_id:
        stmt = stmt.where(AuditEntry.entity_id == query.entity_id)
    if query.since:
        stmt = stmt.where(AuditEntry.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.at < query.until)
    return stmt
