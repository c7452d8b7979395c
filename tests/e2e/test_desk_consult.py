"""Attended transfer and a three-party conference driven from the agent desktop,
with real phones: the caller (SIPp through the voice menu) holds while agent1
consults extension 1002 (a SIPp phone), goes back to the caller, consults again,
brings all three together, then leaves the caller talking with 1002."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.story import DeskPhone, Story, hotline_call, key_through_to_an_agent
from tests.telephony.media_peer import RtpPeer, wait_for
from tests.telephony.sip_peers import needs_sipp
from ticketline.acd.queuelog import read_log
from ticketline.app import Application
from ticketline.telephony import cdr
from ticketline.telephony.control_channel import Channel

pytestmark = [needs_sipp, pytest.mark.peers, pytest.mark.browser, pytest.mark.slow]


def _consulted(app: Application) -> list[Channel]:
    return [c for c in app.control.channels.values() if c.leg.role == "consult" and not c.ended]


def _group(app: Application, channel: Channel) -> str | None:
    group = app.control.engine.group_of(channel.session)
    return None if group is None else group.id


async def test_consult_go_back_conference_and_leave_the_caller_with_the_third_party(
    story: Story,
) -> None:
    app, target = story.app, f"127.0.0.1:{story.app.sip.port}"
    agent_phone = await DeskPhone(target, "1001", story.tmp_path).start()
    third_phone = await DeskPhone(target, "1002", story.tmp_path, calls=2).start()
    phones = [agent_phone, third_phone]
    desk = await story.login("agent1", "/desk")
    await desk.get_by_test_id("go-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("就绪")

    ear = await RtpPeer.open()
    sipp = hotline_call(target, ear, story.tmp_path)
    try:
        await sipp.start()
        caller = await key_through_to_an_agent(app, ear)
        state = desk.get_by_test_id("call-state")
        await expect(state).to_have_text("通话中", timeout=20000)
        agent_leg = app.control.bridged_to(caller)
        assert agent_leg is not None

        # 1003 has no phone registered: the agent is told and is back with the caller.
        await desk.get_by_test_id("transfer-target").fill("1003")
        await desk.get_by_test_id("consult").click()
        await expect(desk.get_by_test_id("desk-error")).to_contain_text("1003")
        await expect(state).to_have_text("通话中")
        assert app.control.bridged_to(caller) is agent_leg
        assert not _consulted(app)

        # Consult agent2 (phone 1002) while the caller holds, then go back to the caller.
        await desk.get_by_test_id("transfer-target").fill(
            "agent2"
        )  # agent2 by name: their phone 1002
        await desk.get_by_test_id("consult").click()
        await expect(state).to_have_text("咨询中（来电者保持）", timeout=15000)
        await wait_for(lambda: len(_consulted(app)) == 1, 10)
        [first] = _consulted(app)
        assert app.control.bridged_to(caller) is None  # the caller hears hold music
        assert _group(app, agent_leg) == _group(app, first) == f"conf-consult-{caller.call_id}"
        await desk.get_by_test_id("consult-cancel").click()
        await expect(state).to_have_text("通话中")
        await wait_for(lambda: first.ended, 5)
        assert app.control.bridged_to(caller) is agent_leg

        # Consult again, bring all three together, then leave them talking.
        await desk.get_by_test_id("consult").click()
        await expect(state).to_have_text("咨询中（来电者保持）", timeout=15000)
        await wait_for(lambda: len(_consulted(app)) == 1, 10)
        [third] = _consulted(app)
        await desk.get_by_test_id("conference").click()
        await expect(state).to_have_text("三方通话")
        room = f"conf-consult-{caller.call_id}"
        assert _group(app, caller) == _group(app, agent_leg) == _group(app, third) == room
        await desk.get_by_test_id("consult-complete").click()
        await expect(desk.get_by_test_id("agent-state")).to_have_text("话后处理", timeout=10000)
        await wait_for(lambda: agent_leg.ended, 5)
        assert app.control.bridged_to(caller) is third
        assert not caller.ended

        await third.hangup("normal_clearing")  # 1002 hangs up: the caller's call ends too
        run = await sipp.wait(15)
        assert run.ok, run.errors
    finally:
        sipp.kill()
        ear.close()
        for phone in phones:
            phone.stop()

    await app.acd_runtime.writer.drain()
    steps = [(e.event.value, e.agent_id) for e in await read_log(app.db, call_id=caller.call_id)]
    assert steps[:4] == [("enter", None), ("offer", "agent1"), ("connect", "agent1"),
                         ("transfer", "agent1")]  # fmt: skip
    await app.cdr.drain()
    legs = await cdr.legs_of(app.db, caller.call_id)
    consults = [leg for leg in legs if leg.role == "consult"]
    assert len(consults) == 2
    assert all(leg.answered_at is not None for leg in consults)
