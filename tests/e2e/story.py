"""The real parts of an end-to-end call: desk phones (SIPp), the served demo, browsers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from playwright.async_api import Browser, Page, expect

from tests.ivr.test_ivr_calls import Caller
from tests.notify.peers import Kannel
from tests.telephony.media_peer import RtpPeer, wait_for
from tests.telephony.sip_peers import Sipp, free_port
from tests.web.test_web_realtime import _free_port
from ticketline.app import Application
from ticketline.demo import DEMO_PASSWORD, DEMO_SIP_PASSWORD
from ticketline.telephony.control_channel import Channel

CUSTOMER_NUMBER = "13800138000"  # what the SIPp caller sends as its number
SCREENSHOTS_ENV = "TICKETLINE_SCREENSHOTS"


class DeskPhone:
    """A desk phone: registered at `extension` (SIPp), answers every call, RTP to a socket."""

    def __init__(self, target: str, extension: str, workdir: Path, calls: int = 1) -> None:
        self.target = target
        self.calls = calls
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
                         calls=self.calls, workdir=self.workdir)  # fmt: skip
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


async def serve(app: Application) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    port = _free_port()
    config = uvicorn.Config(app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"


def inbound(app: Application) -> Channel:
    return next(c for c in app.control.channels.values() if c.leg.direction == "inbound")


def hotline_call(target: str, ear: RtpPeer, workdir: Path) -> Sipp:
    """The customer's phone (SIPp) calling the hotline 95105, its audio to `ear`."""
    fill = {"rtp_port": str(ear.address[1]), "codec": "0", "middle": ""}
    return Sipp(target, "media_uac.xml", fill=fill, extra=("-s", "95105"), workdir=workdir)


async def key_through_to_an_agent(app: Application, ear: RtpPeer) -> Channel:
    """Once the call is in and the menu speaks: 1 Mandarin, 2 book by agent."""
    channels = app.control.channels
    await wait_for(lambda: any(c.leg.direction == "inbound" for c in channels.values()), 10)
    channel = inbound(app)
    server = (channel.session.local_host, channel.session.port)
    await wait_for(lambda: any(p.payload_type == 0 for p in ear.received), 10)
    caller = Caller(ear)
    await caller.press("1", server)
    await asyncio.sleep(1.0)
    await caller.press("2", server)
    return channel
