"""One use case, one transaction: an error leaves nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from ticketline.admin.models import Department
from ticketline.db.session import Database

NOW = datetime(2026, 11, 22, tzinfo=UTC)


async def test_a_failed_transaction_writes_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):  # noqa: PT012 (the failure is inside the unit of work)
        async with database.transaction() as session:
            session.add(Department(code="d1", name_zh="一", name_en="One", created_at=NOW))
            await session.flush()
            raise RuntimeError("the use case failed half way")
    async with database.sessions() as session:
        assert await session.scalar(select(func.count(Department.id))) == 0


async def test_times_come_back_timezone_aware_in_utc(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    async with database.transaction() as session:
        session.add(
            Department(
                code="d2",
                name_zh="二",
                name_en="Two",
                created_at=datetime(2026, 11, 22, 10, tzinfo=shanghai),
            )
        )
    async with database.sessions() as session:
        dept = await session.scalar(select(Department).where(Department.code == "d2"))
    assert dept is not None
    assert dept.created_at == datetime(2026, 11, 22, 2, tzinfo=UTC)
    assert dept.created_at.tzinfo is not None


async def test_naive_times_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive"):
        async with database.transaction() as session:
            session.add(
                Department(
                    code="d3", name_zh="三", name_en="Three", created_at=datetime(2026, 11, 22)
                )
            )


async def test_ping_reports_reachability(database: Database) -> None:
    assert await database.ping()
    broken = Database("postgresql+asyncpg://nobody:x@127.0.0.1:1/none")
    assert not await broken.ping()
    await broken.dispose()
