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
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.story import (
    CUSTOMER_NUMBER,
    SCREENSHOTS_ENV,
    DeskPhone,
    Story,
    hotline_call,
    key_through_to_an_agent,
)
from tests.ivr.test_ivr_calls import travel_day
from tests.telephony.media_peer import RtpPeer, wait_for
from tests.telephony.sip_peers import needs_sipp
from ticketline.acd.queuelog import read_log
from ticketline.telephony import cdr
from ticketline.telephony import control_events as ev

pytestmark = [needs_sipp, pytest.mark.peers, pytest.mark.browser, pytest.mark.slow]


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
    sipp = hotline_call(target, ear, story.tmp_path)
    try:
        await sipp.start()
        channel = await key_through_to_an_agent(app, ear)

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
        await desk1.get_by_test_id("pay").click()
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
        figures = desk1.get_by_test_id("figures")  # agent1 today: one call, its talk time
        await expect(figures.locator("b").first).to_have_text("1")
        talk = await desk1.get_by_test_id("talk-today").inner_text()
        assert talk != "00:00"
        await expect(desk1.get_by_test_id("average-talk")).to_have_text(talk)

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
