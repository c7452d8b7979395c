"""A transfer from one agent to another by name, with real phones: the caller (SIPp
through the voice menu) talks to agent1 (phone 1001), who sends them to agent2 on
a break; agent2's phone (1002) rings and answers, agent2's desktop pops the
caller and the ACD counts agent2 on the call."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.story import DeskPhone, Story, hotline_call, key_through_to_an_agent
from tests.telephony.media_peer import RtpPeer
from tests.telephony.sip_peers import needs_sipp
from ticketline.acd.queuelog import read_log
from ticketline.telephony import cdr

pytestmark = [needs_sipp, pytest.mark.peers, pytest.mark.browser, pytest.mark.slow]


async def test_an_agent_hands_the_caller_to_another_agent_by_name(story: Story) -> None:
    app, target = story.app, f"127.0.0.1:{story.app.sip.port}"
    phones = [await DeskPhone(target, ext, story.tmp_path).start() for ext in ("1001", "1002")]
    desk1 = await story.login("agent1", "/desk")
    desk2 = await story.login("agent2", "/desk")
    await desk2.select_option("select[aria-label=原因]", "lunch")
    await desk2.get_by_test_id("go-not-ready").click()
    await expect(desk2.get_by_test_id("agent-state")).to_have_text("未就绪")
    await desk1.get_by_test_id("go-ready").click()
    await expect(desk1.get_by_test_id("agent-state")).to_have_text("就绪")

    ear = await RtpPeer.open()
    sipp = hotline_call(target, ear, story.tmp_path)
    try:
        await sipp.start()
        caller = await key_through_to_an_agent(app, ear)
        await expect(desk1.get_by_test_id("call-state")).to_have_text("通话中", timeout=20000)

        await desk1.get_by_test_id("transfer-target").fill("agent1")  # to themselves: refused
        await desk1.get_by_test_id("transfer").click()
        await expect(desk1.get_by_test_id("desk-error")).to_contain_text("agent1 cannot take")
        await expect(desk1.get_by_test_id("call-state")).to_have_text("通话中")

        await desk1.get_by_test_id("transfer-target").fill("agent2")
        await desk1.get_by_test_id("transfer").click()
        await expect(desk2.get_by_test_id("customer-name")).to_have_text("赵磊", timeout=15000)
        await expect(desk2.get_by_test_id("call-state")).to_have_text("通话中", timeout=10000)
        await expect(desk1.get_by_test_id("agent-state")).to_have_text("话后处理")
        assert app.acd_runtime.router.agents["agent2"].state.value == "on_call"
        assert app.control.bridged_to(caller) is not None

        await desk2.get_by_test_id("hangup").click()
        await expect(desk2.get_by_test_id("agent-state")).to_have_text("话后处理", timeout=10000)
        run = await sipp.wait(15)
        assert run.ok, run.errors
    finally:
        sipp.kill()
        ear.close()
        for phone in phones:
            phone.stop()

    await app.acd_runtime.writer.drain()
    log = await read_log(app.db, call_id=caller.call_id)
    steps = [(e.event.value, e.agent_id) for e in log]
    assert steps == [
        ("enter", None), ("offer", "agent1"), ("connect", "agent1"), ("transfer", "agent1"),
        ("enter", None), ("connect", "agent2"), ("complete", "agent2"),
    ]  # fmt: skip
    assert log[3].data["target"] == "agent:agent2"
    await app.cdr.drain()
    legs = await cdr.legs_of(app.db, caller.call_id)
    agent_legs = sorted(leg.peer for leg in legs if leg.role == "agent")
    assert [peer.split("@")[0].removeprefix("sip:") for peer in agent_legs] == ["1001", "1002"]
