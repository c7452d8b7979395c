"""A waiting caller handed to an agent from the supervisor console, with real phones:
the caller (SIPp through the voice menu) waits in the booking queue while agent1
is on a break; the supervisor sees the call waiting and connects it to agent1,
whose phone (SIPp at 1001) rings and answers and whose desktop pops the caller."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.story import DeskPhone, Story, hotline_call, key_through_to_an_agent
from tests.telephony.media_peer import RtpPeer
from tests.telephony.sip_peers import needs_sipp
from ticketline.acd.queuelog import read_log

pytestmark = [needs_sipp, pytest.mark.peers, pytest.mark.browser, pytest.mark.slow]


async def test_the_supervisor_connects_a_waiting_caller_to_an_agent_on_a_break(
    story: Story,
) -> None:
    app, target = story.app, f"127.0.0.1:{story.app.sip.port}"
    phone = await DeskPhone(target, "1001", story.tmp_path).start()
    desk = await story.login("agent1", "/desk")
    await desk.select_option("select[aria-label=原因]", "lunch")
    await desk.get_by_test_id("go-not-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("未就绪")
    console = await story.login("supervisor", "/console")
    await expect(console.get_by_test_id("nobody-waiting")).to_be_visible()

    ear = await RtpPeer.open()
    sipp = hotline_call(target, ear, story.tmp_path)
    try:
        await sipp.start()
        caller = await key_through_to_an_agent(app, ear)
        waiting = console.locator(f"tr[data-call='{caller.call_id}']")
        await expect(waiting).to_contain_text("订票 Booking", timeout=20000)

        await waiting.get_by_test_id("hand-over").click()  # nobody chosen yet
        await expect(console.get_by_role("alert")).to_contain_text("请选择")
        await waiting.get_by_test_id("hand-to").select_option("agent1")
        await waiting.get_by_test_id("hand-over").click()
        await expect(desk.get_by_test_id("customer-name")).to_have_text("赵磊", timeout=15000)
        await expect(desk.get_by_test_id("call-state")).to_have_text("通话中", timeout=10000)
        await expect(waiting).to_have_count(0)
        await expect(console.locator("tr[data-agent=agent1]")).to_have_attribute(
            "data-state", "on_call"
        )
        assert app.control.bridged_to(caller) is not None

        await desk.get_by_test_id("hangup").click()
        await expect(desk.get_by_test_id("agent-state")).to_have_text("话后处理", timeout=10000)
        run = await sipp.wait(15)
        assert run.ok, run.errors
    finally:
        sipp.kill()
        ear.close()
        phone.stop()

    await app.acd_runtime.writer.drain()
    log = await read_log(app.db, call_id=caller.call_id)
    steps = [(e.event.value, e.agent_id) for e in log]
    assert steps == [("enter", None), ("connect", "agent1"), ("complete", "agent1")]
    assert log[1].data["pickup"] is True
