"""SMS from customers reach us through the real gateway: the fake SMSC sends a text to
Kannel, smsbox calls our inbound URL, and the text rates the customer's work order.
The URL refuses a wrong token and bad input, answering with nothing for Kannel to send."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.notify.peers import running_kannel
from tests.web.test_web_realtime import _free_port
from ticketline.admin.security import SYSTEM
from ticketline.app import Application, build_application
from ticketline.config import Settings
from ticketline.core.clock import SystemClock
from ticketline.workorders.schemas import AssignIn, WorkOrderCreate

TOKEN = "kannel-inbound-secret"
PHONE = "+8613955556666"


@pytest.fixture
async def inbound_app(demo_template: Path, tmp_path: Path) -> AsyncIterator[Application]:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        var_dir=tmp_path / "var",
        sms_inbound_token=TOKEN,
    )
    app = build_application(settings, clock=SystemClock())
    await app.notify.install_default_templates()
    yield app
    await app.close()


async def _resolved(app: Application) -> str:
    order = await app.workorders.open(
        SYSTEM,
        WorkOrderCreate(
            type="lost_property", title="遗失雨伞", department="customer-care", phone=PHONE
        ),
    )
    await app.workorders.assign(SYSTEM, order.id, AssignIn(assignee="agent1"))
    await app.workorders.act(SYSTEM, order.id, "start", "")
    await app.workorders.act(SYSTEM, order.id, "resolve", "在失物招领处")
    return order.code


@pytest.mark.peers
async def test_a_score_sent_through_kannel_rates_the_work_order(
    inbound_app: Application, tmp_path: Path
) -> None:
    code = await _resolved(inbound_app)
    port = _free_port()
    config = uvicorn.Config(inbound_app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{port}/api/public/sms/inbound?token={TOKEN}&from=%p&to=%P&text=%a"
        with running_kannel(tmp_path, inbound_url=url, incoming=f"{PHONE} 95105 text 4"):
            for _ in range(200):
                if (await inbound_app.workorders.by_code(code)).satisfaction is not None:
                    break
                await asyncio.sleep(0.05)
    finally:
        server.should_exit = True
        await task
    assert (await inbound_app.workorders.by_code(code)).satisfaction == 4
    thanks = [m.body for m in await inbound_app.notify.outbox(ref=code) if "感谢" in m.body]
    assert thanks == [f"【{inbound_app.settings.company_name}】感谢您对工单{code}的评价（4分）。"]


async def test_the_inbound_url_refuses_bad_calls(inbound_app: Application) -> None:
    code = await _resolved(inbound_app)
    transport = httpx.ASGITransport(app=inbound_app.web_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def send(**params: str) -> httpx.Response:
            query = {"token": TOKEN, "from": PHONE, "to": "95105", "text": "5"} | params
            return await client.get("/api/public/sms/inbound", params=query)

        wrong = await send(token="guess")
        assert (wrong.status_code, wrong.json()["code"]) == (403, "permission_denied")
        bad_sender = await send(**{"from": "not-a-phone"})
        assert bad_sender.status_code == 422
        assert bad_sender.json()["details"]["field"] == "from"
        missing = await client.get("/api/public/sms/inbound", params={"token": TOKEN})
        assert missing.status_code == 422
        assert (await inbound_app.workorders.by_code(code)).satisfaction is None
        accepted = await send()
        assert (accepted.status_code, accepted.content) == (202, b"")
    assert (await inbound_app.workorders.by_code(code)).satisfaction == 5
