"""Run Alembic migrations programmatically against an async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from ticketline.db.session import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(database: Database, revision: str = "heads") -> None:
    """Bring the schema up to `revision` (every area's head by default)."""
    async with database.engine.begin() as conn:
        await conn.run_sync(_run_upgrade, revision)


async def downgrade(database: Database, revision: str) -> None:
    async with database.engine.begin() as conn:
        await conn.run_sync(_run_downgrade, revision)


async def current_heads(database: Database) -> set[str]:
    """The revisions the database is at now."""
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(MigrationContext.configure(c).get_current_heads()))


def script_heads() -> set[str]:
    """The newest revisions the code knows about."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _run_upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _run_downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
