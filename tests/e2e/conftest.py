"""The `story` fixture: the demo served with SIP, RTP, Kannel and Chromium, all real."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.e2e.story import CUSTOMER_NUMBER, Story, serve
from tests.ivr.test_ivr_calls import travel_day
from tests.notify.peers import running_kannel
from tests.telephony.media_peer import random_range
from tests.web.test_web_browser import CHROMIUM, CHROMIUM_ARGS
from ticketline.admin.schemas import ExtensionCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import build_application
from ticketline.config import Settings
from ticketline.core.clock import FixedClock, SystemClock
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.demo import DEMO_SIP_PASSWORD
from ticketline.telephony import control_events as ev


@pytest.fixture
async def story(demo_template: Path, tmp_path: Path) -> AsyncIterator[Story]:
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_template, path)
    ports = random_range(200)
    with running_kannel(tmp_path) as kannel:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{path}",
            var_dir=tmp_path / "var",
            sip_port=0,
            rtp_port_first=ports.first,
            rtp_port_last=ports.last,
            sms_gateway="kannel",
            kannel_url=kannel.sendsms_url,
            kannel_username=kannel.username,
            kannel_password=kannel.password,
        )
        app = build_application(settings, clock=SystemClock())
        await app.admin.create_extension(
            SYSTEM, ExtensionCreate(number="1009", password=DEMO_SIP_PASSWORD, staff="supervisor")
        )
        customer = await app.crm.lookup_caller(CUSTOMER_NUMBER)
        if not customer.known:
            phone = PhoneIn(number=CUSTOMER_NUMBER, primary=True)
            await app.crm.create(SYSTEM, CustomerCreate(name="赵磊", phones=[phone]))
        events: list[object] = []

        async def keep(event: object) -> None:
            events.append(event)

        for kind in (ev.SnoopStarted, ev.RecordingFinished):
            app.bus.subscribe(kind, keep)
        await app.start_workers()
        app.ivr.clock = FixedClock(travel_day())  # the hotline is open, whatever the hour
        server, task, url = await serve(app)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield Story(app, url, kannel, browser, tmp_path, events)
            await browser.close()
        server.should_exit = True
        await task
        await app.stop_workers()
        await app.close()
