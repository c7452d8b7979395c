"""Shared fixtures: a fixed clock, migrated databases (SQLite and PostgreSQL), apps."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ticketline.app import Application, build_application
from ticketline.config import Settings
from ticketline.core.clock import FixedClock
from ticketline.db import migrate
from ticketline.db.session import Database

pytest_plugins = ["tests.webclient", "tests.watchdog", "pytester"]

PG_ADMIN_URL = os.environ.get(
    "TICKETLINE_TEST_PG_URL",
    "postgresql+asyncpg://ticketline:ticketline@127.0.0.1:5432/postgres",
)
START = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    name = f"ticketline_test_{uuid.uuid4().hex[:10]}"
    try:
        _run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:  # pragma: no cover - scripts/test starts PostgreSQL
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    _run(_migrate(url))
    yield url
    _run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_all(db: Database) -> None:
    async with db.engine.begin() as conn:
        rows = await conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
        tables = ", ".join(f'"{r[0]}"' for r in rows)
        if tables:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "ticketline.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each test using this runs twice: on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    if not db.is_sqlite:
        await _truncate_all(db)
    yield db
    await db.dispose()


def make_settings(db_url: str, var_dir: Path) -> Settings:
    # In process: these tests step the engine and read its sessions directly.
    return Settings(database_url=db_url, var_dir=var_dir, media_process=False)


@pytest.fixture
async def application(db_url: str, tmp_path: Path, clock: FixedClock) -> AsyncIterator[Application]:
    """The whole application on a clean database (both backends)."""
    app = build_application(make_settings(db_url, tmp_path / "var"), clock=clock)
    if not app.db.is_sqlite:
        await _truncate_all(app.db)
    yield app
    await app.close()


@pytest.fixture
async def sqlite_application(
    sqlite_url: str, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Application]:
    """The whole application on SQLite only, for tests about HTTP rather than storage."""
    app = build_application(make_settings(sqlite_url, tmp_path / "var"), clock=clock)
    yield app
    await app.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests with real peers (SIP phones, the browser) get one rerun.

    They cross UDP and wait on other processes; on a loaded machine a slow peer
    should not fail the whole run. A rerun shows as R in the summary, so a flaky
    test stays in sight, and a real fault fails both runs.
    """
    if not config.pluginmanager.hasplugin("rerunfailures"):
        return  # -p no:rerunfailures: every failure shows at once (chasing a flaky test)
    for item in items:
        if item.get_closest_marker("peers") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
