"""Web tests share the fixtures of tests/webclient.py (loaded by tests/conftest.py), and
the browser tests a live demo server and Debian's Chromium."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from tests.conftest import make_settings
from tests.web.test_web_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_web_realtime import _free_port
from tests.webclient import bearer, browser_login
from ticketline.app import Application, build_application
from ticketline.core.clock import SystemClock

__all__ = ["bearer", "browser_login"]


@pytest.fixture
async def live_app(demo_template: Path, tmp_path: Path) -> AsyncIterator[Application]:
    """The demo on the wall clock: the browser counts time in state against it."""
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    settings = make_settings(f"sqlite+aiosqlite:///{path}", tmp_path / "var")
    app = build_application(settings, clock=SystemClock())
    yield app
    await app.close()


@pytest.fixture
async def served(live_app: Application) -> AsyncIterator[str]:
    demo_app = live_app
    await demo_app.start_acd()
    port = _free_port()
    config = uvicorn.Config(demo_app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    await demo_app.acd_runtime.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()
