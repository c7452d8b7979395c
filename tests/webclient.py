"""Fixtures for HTTP tests of any area: the real app on SQLite with the demo staff loaded."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from ticketline.app import Application, build_application
from ticketline.core.clock import FixedClock
from ticketline.demo import DEMO_PASSWORD, seed_demo


async def _seed(url: str, var_dir: Path) -> None:
    app = build_application(make_settings(url, var_dir))
    try:
        await seed_demo(app)
    finally:
        await app.close()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, seeded once (password hashing is slow)."""
    folder = tmp_path_factory.mktemp("demo-template")
    path = folder / "demo.db"
    shutil.copyfile(sqlite_template, path)
    asyncio.run(_seed(f"sqlite+aiosqlite:///{path}", folder / "var"))
    return path


@pytest.fixture
async def demo_app(
    demo_template: Path, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Application]:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    app = build_application(
        make_settings(f"sqlite+aiosqlite:///{path}", tmp_path / "var"), clock=clock
    )
    yield app
    await app.close()


@pytest.fixture
async def client(demo_app: Application) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=demo_app.web_app(), client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def bearer(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> dict[str, str]:
    response = await client.post(
        "/api/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def browser_login(
    client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD
) -> httpx.Response:
    """Log in through the HTML form the way a browser does; returns the final response."""
    form = await client.get("/login")
    token = form.text.split('id="login-csrf" name="csrf_token" value="')[1].split('"')[0]
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
    )
