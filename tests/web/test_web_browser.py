"""A real browser (Debian's Chromium through Playwright) logs in and sees the home page."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ticketline serve` as an operator runs it, on a copy of the demo database."""
    folder = tmp_path_factory.mktemp("served")
    shutil.copyfile(demo_template, folder / "demo.db")
    port = free_port()
    env = os.environ | {
        "TICKETLINE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        "TICKETLINE_VAR_DIR": str(folder / "var"),
    }
    command = [str(Path(sys.executable).parent / "ticketline"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("server did not come up within 30 s")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; scripts/test installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_admin_logs_in_and_sees_the_home_page(
    server: str, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{server}/")
    expect(page).to_have_url(f"{server}/login?next=/")
    page.fill("#username", "admin")
    page.fill("#password", "Ticketline2026")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("欢迎，系统管理员")
    expect(page.get_by_test_id("current-user")).to_have_text("系统管理员")
    page.screenshot(path=str(tmp_path / "home.png"))
    page.close()


def test_wrong_password_is_shown_and_language_switches(server: str, browser: Browser) -> None:
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{server}/login")
    page.fill("#username", "agent1")
    page.fill("#password", "wrong-password-1")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    page.fill("#username", "agent1")
    page.fill("#password", "Ticketline2026")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("欢迎，李敏")
    page.select_option("select[name=locale]", "en")
    expect(page.locator("h1")).to_have_text("Welcome, 李敏")
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
    page.close()
