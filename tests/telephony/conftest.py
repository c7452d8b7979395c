"""A running Ticketline SIP side on loopback: extensions 1001-1003, a trunk from 127.0.0.2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ticketline.admin.schemas import ExtensionCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application, build_application
from ticketline.config import Settings
from ticketline.core.clock import SystemClock
from ticketline.telephony.schemas import TrunkIn

SIP_PASSWORD = "phone-secret-42"
TRUNK_IP = "127.0.0.2"
"""Loopback address the 'carrier' sends from; phones use 127.0.0.1."""


async def start_sip_app(db_url: str, var_dir: Path, **settings: object) -> Application:
    settings.setdefault("media_process", False)  # the tests read the engine's sessions
    app = build_application(
        Settings(database_url=db_url, var_dir=var_dir, sip_port=0, **settings),  # type: ignore[arg-type]
        clock=SystemClock(),
    )
    for number in ("1001", "1002", "1003"):
        await app.admin.create_extension(
            SYSTEM, ExtensionCreate(number=number, password=SIP_PASSWORD)
        )
    await app.trunks.create(
        SYSTEM,
        TrunkIn(
            name="carrier",
            host=TRUNK_IP,
            port=5099,
            inbound_sources=[f"{TRUNK_IP}/32"],
            caller_id="95105",
        ),
    )
    await app.cdr.start(app.clock.now())
    await app.start_sip()
    return app


async def stop_sip_app(app: Application) -> None:
    await app.sip.stop()
    await app.cdr.stop()
    await app.close()


@pytest.fixture
async def sip_app(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Application]:
    """The application with SIP bound on 127.0.0.1 (ephemeral port), on SQLite."""
    app = await start_sip_app(sqlite_url, tmp_path / "var")
    yield app
    await stop_sip_app(app)


@pytest.fixture
def target(sip_app: Application) -> str:
    """``host:port`` of the running SIP server."""
    return f"127.0.0.1:{sip_app.sip.port}"
