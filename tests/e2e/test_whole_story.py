"""The whole story of one call, with every real part: issue 9's end-to-end proof.

A customer (SIPp with a test RTP socket) calls the hotline 95105 and keys through
the default voice menu to "book by agent". The ACD rings agent1's desk phone
(SIPp registered at 1001, answering); agent1, logged in to the desktop in
Chromium, sees the caller pop, books two seats, takes cash and issues, and the
pickup code reaches Kannel's fake SMSC. agent1 transfers the caller to the
complaints queue, where agent2 (phone 1002) answers; the supervisor's wallboard
follows both agents live and the supervisor listens in on phone 1009. agent2
hangs up. The queue log, the recording and the call detail records tell it all.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.ivr.test_ivr_calls import Caller, travel_day
from tests.notify.peers import Kannel, running_kannel
from tests.telephony.media_peer import RtpPeer, random_range, wait_for
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp
from tests.web.test_web_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_web_realtime import _free_port
from ticketline.acd.queuelog import read_log
from ticketline.admin.schemas import ExtensionCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application, build_application
from ticketline.config import Settings
from ticketline.core.clock import FixedClock, SystemClock
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.demo import DEMO_PASSWORD, DEMO_SIP_PASSWORD
from ticketline.telephony import cdr
from ticketline.telephony import control_events as ev
from ticketline.telephony.control_channel import Channel

pytestmark = [needs_sipp, pytest.mark.peers, pytest.mark.browser, pytest.mark.slow]

CUSTOMER_NUMBER = "13800138000"  # what the SIPp caller sends as its number
SCREENSHOTS_ENV = "TICKETLINE_SCREENSHOTS"


class DeskPhone:
    """A desk phone: registered at `extension` (SIPp), answers every call, RTP to a socket."""

    def __init__(self, target: str, extension: str, workdir: Path) -> None:
        self.target = target
        self.extension = extension
        self.workdir = workdir
        self.port = free_port()
        self.ear: RtpPeer | None = None
        self.sipp: Sipp | None = None

    async def start(self) -> DeskPhone:
        registered = await Sipp(
            self.target,
            "register.xml",
            keys={"user": self.extension, "contact_port": str(self.port), "expires": "600"},
            fill={"expect": "200"},
            extra=("-au", self.extension, "-ap", DEMO_SIP_PASSWORD),
            workdir=self.workdir,
        ).run()
        assert registered.ok, registered.errors
        self.ear = await RtpPeer.open()
        fill = {"rtp_port": str(self.ear.address[1]), "codec": "0"}
        self.sipp = Sipp(self.target, "media_uas.xml", port=self.port, fill=fill,
                         workdir=self.workdir)  # fmt: skip
        await self.sipp.start()
        return self

    def stop(self) -> None:
        if self.sipp is not None:
            self.sipp.kill()
        if self.ear is not None:
            self.ear.close()


@dataclass
class Story:
    app: Application
    url: str
    kannel: Kannel
    browser: Browser
    tmp_path: Path
    events: list[object]

    async def login(self, username: str, path: str) -> Page:
        context = await self.browser.new_context(
            locale="zh-CN", viewport={"width": 1400, "height": 900}
        )
        page = await context.new_page()
        await page.goto(f"{self.url}/login?next={path}")
        await page.fill("#username", username)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.get_by_test_id("desk" if path == "/desk" else "console")).to_be_visible()
        return page


async def _serve(app: Application) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = _free_port()
    config = uvicorn.Config(app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"


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
        server, task, url = await _serve(app)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield Story(app, url, kannel, browser, tmp_path, events)
            await browser.close()
        server.should_exit = True
        await task
        await app.stop_workers()
        await app.close()


def inbound(app: Application) -> Channel:
    return next(c for c in app.control.channels.values() if c.leg.direction == "inbound")


async def test_a_caller_is_served_sold_two_seats_transferred_and_supervised(
    story: Story,
) -> None:
    app, target = story.app, f"127.0.0.1:{story.app.sip.port}"
    extensions = ("1001", "1002", "1009")
    phones = [await DeskPhone(target, ext, story.tmp_path).start() for ext in extensions]
    desk1 = await story.login("agent1", "/desk")
    desk2 = await story.login("agent2", "/desk")
    console = await story.login("supervisor", "/console")
    agent1_row = console.locator("tr[data-agent=agent1]")
    agent2_row = console.locator("tr[data-agent=agent2]")
    await desk1.get_by_test_id("go-ready").click()
    await expect(agent1_row).to_have_attribute("data-state", "ready")

    # The customer calls and keys through the voice menu: 1 Mandarin, 2 book by agent.
    ear = await RtpPeer.open()
    caller = Caller(ear)
    fill = {"rtp_port": str(ear.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(target, "media_uac.xml", fill=fill, extra=("-s", "95105"),
                workdir=story.tmp_path)  # fmt: skip
    try:
        await sipp.start()
        channels = app.control.channels
        await wait_for(lambda: any(c.leg.direction == "inbound" for c in channels.values()), 10)
        channel = inbound(app)
        server = (channel.session.local_host, channel.session.port)
        await wait_for(lambda: any(p.payload_type == 0 for p in ear.received), 10)
        await caller.press("1", server)
        await asyncio.sleep(1.0)
        await caller.press("2", server)

        # agent1's phone rings and answers; the desktop pops the caller's record.
        await expect(desk1.get_by_test_id("customer-name")).to_have_text("赵磊", timeout=20000)
        await expect(desk1.get_by_test_id("call-state")).to_have_text("通话中", timeout=10000)
        await expect(desk1.get_by_test_id("ivr-path")).to_contain_text("book")
        await expect(agent1_row).to_have_attribute("data-state", "on_call")

        # Two seats, cash, issue: the pickup code goes out by SMS.
        day = travel_day().date().isoformat()
        await desk1.get_by_test_id("trip-from").fill("北京南")
        await desk1.get_by_test_id("trip-to").fill("上海虹桥")
        await desk1.get_by_test_id("trip-date").fill(day)
        await desk1.get_by_test_id("trip-search").click()
        results = desk1.get_by_test_id("trip-results")
        await results.locator("button.fare:enabled").first.click()
        await desk1.get_by_test_id("add-passenger").click()
        await desk1.get_by_test_id("passenger-name-0").fill("赵磊")
        await desk1.get_by_test_id("passenger-id-0").fill("11010519491231002X")
        await desk1.get_by_test_id("passenger-name-1").fill("钱伟")
        await desk1.get_by_test_id("passenger-id-1").fill("110101199003078515")
        await desk1.get_by_test_id("book").click()
        code_box = desk1.get_by_test_id("booking-code")
        await expect(code_box).to_have_text(re.compile(r"^[A-Z0-9]{5,10}$"))
        code = await code_box.inner_text()
        await desk1.get_by_test_id("pay-cash").click()
        await expect(desk1.get_by_test_id("order-state")).to_have_text("paid")
        await desk1.get_by_test_id("issue").click()
        await expect(desk1.get_by_test_id("sms-sent")).to_be_visible()
        order = await app.ticketing.order_status(code)
        assert order.state == "issued"
        assert sorted(t.passenger_name for t in order.tickets) == ["赵磊", "钱伟"]

        def sms_arrived() -> bool:
            messages = story.kannel.received()
            return any(code in text and CUSTOMER_NUMBER in to for _, to, text in messages)

        await wait_for(sms_arrived, 20)

        # agent1 sends the caller to the complaints queue; agent2 answers there.
        await desk2.get_by_test_id("go-ready").click()
        await expect(agent2_row).to_have_attribute("data-state", "ready")
        await desk1.get_by_test_id("transfer-target").fill("complaint")
        await desk1.get_by_test_id("transfer").click()
        await expect(desk2.get_by_test_id("customer-name")).to_have_text("赵磊", timeout=15000)
        await expect(desk2.get_by_test_id("call-state")).to_have_text("通话中", timeout=10000)
        await expect(agent1_row).to_have_attribute("data-state", "wrap_up")
        await expect(agent2_row).to_have_attribute("data-state", "on_call")

        # agent1 sums the first call up; the booking code is filled in from the sale.
        wrap_form = desk1.get_by_test_id("wrapup-form")
        await wrap_form.locator("select").select_option("booked")
        await wrap_form.locator("textarea").fill("两张 北京南-上海虹桥")
        await wrap_form.locator("button[type=submit]").click()
        await expect(agent1_row).to_have_attribute("data-state", "ready")

        # The supervisor listens in: their phone (1009) is joined to agent2's call.
        await agent2_row.get_by_test_id("listen").click()
        await wait_for(lambda: any(isinstance(e, ev.SnoopStarted) for e in story.events), 15)
        [snoop] = [e for e in story.events if isinstance(e, ev.SnoopStarted)]
        assert snoop.mode == "listen"

        folder = Path(os.environ.get(SCREENSHOTS_ENV) or story.tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        await desk2.screenshot(path=str(folder / "desk.png"))
        await console.screenshot(path=str(folder / "wallboard.png"))

        # agent2 mutes their voice for a moment: the phone leg stops being heard.
        await desk2.get_by_test_id("mute").click()
        await expect(desk2.get_by_test_id("unmute")).to_be_visible()
        agent2_leg = app.control.bridged_to(channel)
        assert agent2_leg is not None
        assert agent2_leg.muted
        await desk2.get_by_test_id("unmute").click()
        await expect(desk2.get_by_test_id("mute")).to_be_visible()
        assert not agent2_leg.muted

        await asyncio.sleep(1.0)  # some talk time on the clock
        await desk2.get_by_test_id("hangup").click()
        await expect(agent2_row).to_have_attribute("data-state", "wrap_up")
        run = await sipp.wait(15)
        assert run.ok, run.errors  # the caller got the BYE: the call really ended
    finally:
        sipp.kill()
        ear.close()
        for phone in phones:
            phone.stop()

    call_id = channel.call_id
    await app.acd_runtime.writer.drain()
    log = await read_log(app.db, call_id=call_id)
    steps = [(e.event.value, e.queue_id, e.agent_id) for e in log]
    assert steps == [
        ("enter", "booking", None),
        ("offer", "booking", "agent1"),
        ("connect", "booking", "agent1"),
        ("transfer", "booking", "agent1"),
        ("enter", "complaint", None),
        ("offer", "complaint", "agent2"),
        ("connect", "complaint", "agent2"),
        ("complete", "complaint", "agent2"),
    ]
    [wrap] = await app.acd.wrapups.list(call_id=call_id)
    assert (wrap.agent, wrap.disposition, wrap.order_code) == ("agent1", "booked", code)
    assert wrap.customer_id is not None
    assert wrap.queue == "booking"
    await wait_for(lambda: any(isinstance(e, ev.RecordingFinished) for e in story.events), 10)
    [recording] = await app.recordings.for_call(call_id)
    assert recording.duration_ms > 2000
    await app.cdr.drain()
    legs = await cdr.legs_of(app.db, call_id)
    agent_legs = sorted(leg.peer for leg in legs if leg.role == "agent")
    assert [peer.split("@")[0].removeprefix("sip:") for peer in agent_legs] == ["1001", "1002"]
    assert all(leg.answered_at is not None for leg in legs if leg.role == "agent")
