"""Real calls walk the hotline: SIPp dials in, the test keys RFC 4733 digits over RTP
and decodes what the server plays back, comparing it with the cached prompt WAVs."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.telephony.conftest import TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, random_range, wait_for
from tests.telephony.sip_peers import Sipp, needs_sipp
from tests.ticketing.helpers import booking, build_line
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.ivr.actions import ActionContext
from ticketline.ivr.events import IvrCallEnded
from ticketline.ivr.loader import load_file
from ticketline.ivr.lookups_orders import keys_of_code
from ticketline.ivr.prompts import PromptCache
from ticketline.ivr.registry import FlowRegistry
from ticketline.ivr.speech_sphinx import SphinxRecognizer
from ticketline.ivr.telephony_adapter import install
from ticketline.media import g711
from ticketline.media.dtmf import DtmfSender
from ticketline.media.frames import Pcm
from ticketline.media.wav import decode_wav, read_wav
from ticketline.telephony import control_events as ev

from .conftest import FLOWS

pytestmark = [needs_sipp, pytest.mark.peers]
SHANGHAI = ZoneInfo("Asia/Shanghai")
DTMF_PT = 101


def travel_day() -> datetime:
    """Tomorrow (not a hotline holiday) at 10:00 in Shanghai: the hotline is open."""
    holidays = set(load_file(FLOWS / "hotline.yaml").definition.calendars["service"].holidays)
    day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    while day in holidays:
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), SHANGHAI)


@pytest.fixture
async def app(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Application]:
    ports = random_range(200)
    application = await start_sip_app(
        sqlite_url, tmp_path / "var", rtp_port_first=ports.first, rtp_port_last=ports.last
    )
    await application.media.start()
    yield application
    await application.control.close()
    await stop_sip_app(application)


class Caller:
    """The caller's phone: RTP to and from a test socket, keys as RFC 4733 events."""

    def __init__(self, peer: RtpPeer) -> None:
        self.peer = peer
        self.sender = DtmfSender(ssrc=peer.ssrc, payload_type=DTMF_PT)

    async def press(self, keys: str, server: tuple[str, int]) -> None:
        for key in keys:
            for packet in self.sender.packets(key, self.peer.seq, self.peer.ts):
                self.peer.send_raw(packet.serialize(), server)
                await asyncio.sleep(0.02)
            self.peer.seq = (self.peer.seq + 8) & 0xFFFF
            self.peer.ts = (self.peer.ts + 1600) & 0xFFFFFFFF
            await asyncio.sleep(0.06)

    def heard(self) -> Pcm:
        frames = [p.payload for p in self.peer.received if p.payload_type == 0]
        return g711.ulaw_decode_array(b"".join(frames))


def contains(heard: Pcm, prompt: Pcm) -> bool:
    """True if `heard` holds a 0.25 s stretch of `prompt` (through µ-law) sample for sample."""
    sent = g711.ulaw_decode_array(g711.ulaw_encode_array(prompt))
    middle = len(sent) // 2
    chunk = sent[middle : middle + 2000]
    for start in np.flatnonzero(heard == chunk[0]):
        if np.array_equal(heard[start : start + chunk.size], chunk):
            return True
    return False


async def test_a_caller_keys_a_timetable_query_and_hears_the_answer(
    app: Application, tmp_path: Path
) -> None:
    when = travel_day()
    await build_line(app.ticketing, when.date())
    app.ivr.clock = FixedClock(when)
    assert isinstance(app.ivr.prompts, PromptCache)
    ended: list[IvrCallEnded] = []
    played: list[ev.PlaybackFinished] = []

    async def keep(event: object) -> None:
        (ended if isinstance(event, IvrCallEnded) else played).append(event)  # type: ignore[arg-type]

    app.bus.subscribe(IvrCallEnded, keep)
    app.bus.subscribe(ev.PlaybackFinished, keep)
    install(app.control, app.ivr)
    answer = await app.ivr.actions.call(
        "timetable",
        ActionContext("x", "13800138000", "en", when),
        {"origin": "256", "destination": "7447", "date": when.date().isoformat()},
    )
    reply_text = answer.values["reply"]["en"]  # type: ignore[index]
    reply_file = app.ivr.prompts.cached_path(reply_text, "en")

    peer = await RtpPeer.open()
    phone = Caller(peer)
    fill = {"rtp_port": str(peer.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                extra=("-s", "95105"), workdir=tmp_path)  # fmt: skip
    try:
        await sipp.start()
        await wait_for(lambda: bool(app.control.channels), timeout=10)
        channel = next(iter(app.control.channels.values()))
        server = (channel.session.local_host, channel.session.port)
        await wait_for(lambda: any(p.payload_type == 0 for p in peer.received), timeout=10)
        await phone.press("2", server)  # English, cutting the greeting short
        await phone.press("1", server)  # timetable
        await phone.press("256#7447#", server)  # Beijing South to Shanghai Hongqiao
        await phone.press(when.strftime("%Y%m%d") + "#", server)
        await phone.press("1", server)  # the date read back is right
        await wait_for(lambda: any(p.prompt == reply_file.name for p in played), timeout=30)
        await channel.hangup()
        run = await sipp.wait()
        assert run.ok, run.errors
        await wait_for(lambda: bool(ended), timeout=10)
    finally:
        sipp.kill()
        peer.close()

    trace = ended[0]
    assert trace.flow == "hotline"
    assert trace.path[trace.path.index("main") :][:6] == (
        "main", "tt_from", "tt_to", "tt_date", "tt_lookup", "tt_say",
    )  # fmt: skip
    finished = next(p for p in played if p.prompt == reply_file.name)
    assert finished.reason == "finished"
    assert contains(phone.heard(), read_wav(reply_file))
    assert "G one, leaves at 8 AM" in reply_text


SPEECH_FLOW = """
flow: spoken
numbers: ["95105"]
language: en
start: ask
nodes:
  ask:
    type: menu
    prompt: {zh: 请说退票或人工, en: Say refund or agent.}
    options: {"3": refund, "0": agent}
    words: {"3": [refund], "0": [agent]}
    timeout: 1
    retries: 1
    fallback: bye
  refund: {type: hangup, prompt: {zh: 退票, en: You chose refunds.}}
  agent: {type: hangup, prompt: {zh: 人工, en: You chose an agent.}}
  bye: {type: hangup}
"""


async def test_a_caller_says_a_menu_choice_on_a_real_call(app: Application, tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "spoken.yaml").write_text(SPEECH_FLOW, encoding="utf-8")
    app.ivr.flows = FlowRegistry(folder, default_flow="spoken")
    recognizer = SphinxRecognizer()
    recognizer.warm_up()
    app.ivr.recognizer = recognizer
    ended: list[IvrCallEnded] = []

    async def keep(event: IvrCallEnded) -> None:
        ended.append(event)

    app.bus.subscribe(IvrCallEnded, keep)
    install(app.control, app.ivr)
    flite = ["flite", "-t", "refund", "-o", "/dev/stdout"]
    wav = subprocess.run(flite, capture_output=True, check=True).stdout
    word = decode_wav(wav)
    peer = await RtpPeer.open()
    fill = {"rtp_port": str(peer.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                extra=("-s", "95105"), workdir=tmp_path)  # fmt: skip
    try:
        await sipp.start()
        await wait_for(lambda: bool(app.control.channels), timeout=10)
        channel = next(iter(app.control.channels.values()))
        server = (channel.session.local_host, channel.session.port)
        await wait_for(lambda: bool(channel.session.recorders), timeout=15)  # it listens
        padded = np.concatenate([np.zeros(1600, np.int16), word, np.zeros(3200, np.int16)])
        for start in range(0, len(padded) - 159, 160):
            peer.send_audio(padded[start : start + 160], server)
            await asyncio.sleep(0.02)
        await wait_for(lambda: bool(ended), timeout=15)
        run = await sipp.wait()
        assert run.ok, run.errors
    finally:
        sipp.kill()
        peer.close()
    assert ended[0].path == ("ask", "refund")


async def test_a_known_caller_keys_a_booking_code_and_hears_its_status(
    app: Application, tmp_path: Path
) -> None:
    when = travel_day()
    line = await build_line(app.ticketing, when.date())
    await app.notify.install_default_templates()
    await app.crm.create(
        SYSTEM, CustomerCreate(name="Li Ming", phones=[PhoneIn(number="13800138000")])
    )
    booked = await app.ticketing.orders.book(SYSTEM, booking(line.trips[0], 1))
    code = booked.order.code
    app.ivr.clock = FixedClock(when)
    assert isinstance(app.ivr.prompts, PromptCache)
    played: list[ev.PlaybackFinished] = []
    ended: list[IvrCallEnded] = []

    async def keep(event: object) -> None:
        (ended if isinstance(event, IvrCallEnded) else played).append(event)  # type: ignore[arg-type]

    app.bus.subscribe(IvrCallEnded, keep)
    app.bus.subscribe(ev.PlaybackFinished, keep)
    install(app.control, app.ivr)
    status = await app.ivr.actions.call(
        "order_status", ActionContext("x", "13800138000", "en", when), {"code": code}
    )
    reply_file = app.ivr.prompts.cached_path(status.values["reply"]["en"], "en")  # type: ignore[index]

    peer = await RtpPeer.open()
    phone = Caller(peer)
    fill = {"rtp_port": str(peer.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                extra=("-s", "95105"), workdir=tmp_path)  # fmt: skip
    try:
        await sipp.start()
        await wait_for(lambda: bool(app.control.channels), timeout=10)
        channel = next(iter(app.control.channels.values()))
        server = (channel.session.local_host, channel.session.port)
        await wait_for(lambda: any(p.payload_type == 0 for p in peer.received), timeout=10)
        await phone.press("24", server)  # English; my order
        await phone.press(keys_of_code(code) + "#", server)  # letters by the key that has them
        await wait_for(lambda: any(p.prompt == reply_file.name for p in played), timeout=30)
        await channel.hangup()
        run = await sipp.wait()
        assert run.ok, run.errors
        await wait_for(lambda: bool(ended), timeout=10)
    finally:
        sipp.kill()
        peer.close()
    assert "order_say" in ended[0].path
    assert contains(phone.heard(), read_wav(reply_file))
    assert "is booked and not paid yet" in status.values["reply"]["en"]  # type: ignore[index]
