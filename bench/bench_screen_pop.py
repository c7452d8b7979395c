"""Screen pop latency: from the ACD's offer to the customer's name on the agent's screen.

Runs the demo on a temporary SQLite copy with a real uvicorn server, logs agent1
into /desk in Debian's Chromium, then publishes N offers for known customers and
times until the name is rendered (CRM lookup, push over the WebSocket, Alpine
render), and likewise how long a state change takes to reach the wallboard.

    uv run python bench/bench_screen_pop.py [calls]
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from ticketline.acd.events import CallOffered
from ticketline.admin.security import SYSTEM
from ticketline.app import build_application
from ticketline.config import Settings
from ticketline.core.clock import SystemClock
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.db.migrate import upgrade
from ticketline.demo import DEMO_PASSWORD, seed_demo

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(calls: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-pop-"))
    url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
    settings = Settings(database_url=url, var_dir=folder / "var")
    app = build_application(settings, clock=SystemClock())
    await upgrade(app.db)
    await seed_demo(app)
    for n in range(calls):
        phone = PhoneIn(number=f"+86139{n:08d}", primary=True)
        await app.crm.create(SYSTEM, CustomerCreate(name=f"客户{n:03d}", phones=[phone]))
    await app.start_acd()
    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
        await asyncio.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    pops: list[float] = []
    board: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        desk = await _logged_in(browser, base, "agent1", "/desk")
        console = await _logged_in(browser, base, "supervisor", "/console")
        await desk.get_by_test_id("go-ready").click()
        await desk.get_by_test_id("agent-state").filter(has_text="就绪").wait_for()
        for n in range(calls):
            started = time.perf_counter()
            await app.bus.publish(CallOffered(f"c{n}", "booking", "agent1", f"+86139{n:08d}"))
            await desk.get_by_test_id("customer-name").filter(has_text=f"客户{n:03d}").wait_for()
            pops.append(time.perf_counter() - started)
        for n in range(min(calls, 20)):
            target, state = ("lunch", "not_ready") if n % 2 == 0 else (None, "ready")
            started = time.perf_counter()
            if target:
                app.acd_runtime.pause("agent2", target) if n else app.acd_runtime.login(
                    "agent2", target
                )
            else:
                app.acd_runtime.ready("agent2")
            await console.locator(f"tr[data-agent=agent2][data-state={state}]").wait_for()
            board.append(time.perf_counter() - started)
        await browser.close()
    server.should_exit = True
    await serving
    await app.acd_runtime.stop()
    await app.close()
    shutil.rmtree(folder, ignore_errors=True)
    _report("screen pop (offer -> name rendered)", pops)
    _report("wallboard (state change -> row updated)", board)


async def _logged_in(browser: Browser, base: str, username: str, path: str) -> Page:
    page = await (await browser.new_context(locale="zh-CN")).new_page()
    await page.goto(f"{base}/login?next={path}")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}{path}")
    return page


def _report(what: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(
        f"{what}: n={len(ms)} median={statistics.median(ms):.1f} ms "
        f"p95={_pct(ms, 0.95):.1f} ms max={max(ms):.1f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
