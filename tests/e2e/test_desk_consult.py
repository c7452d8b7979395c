"""Attended transfer and a three-party conference driven from the agent desktop,
with real phones: the caller (SIPp through the voice menu) holds while agent1
consults extension 1002 (a SIPp phone), goes back to the caller, consults again,
brings all three together, then leaves the caller talking with 1002."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from tests.e2e.story import DeskPhone, Story, inbound
from tests.ivr.test_ivr_calls import Caller
from tests.telephony.media_peer import RtpPeer, wait_for
from tests.telephony.sip_peers import Sipp, needs_sipp
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
    fill = {"rtp_port": str(ear.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(target, "media_uac.xml", fill=fill, extra=("-s", "95105"),
                workdir=story.tmp_path)  # fmt: skip
    try:
        await sipp.start()
        channels = app.control.channels
        await wait_for(lambda: any(c.leg.direction == "inbound" for c in channels.values()), 10)
        caller = inbound(app)
        server = (caller.session.local_host, caller.session.port)
        await wait_for(lambda: any(p.payload_type == 0 for p in ear.received), 10)
        await Caller(ear).press("1", server)
        await asyncio.sleep(1.0)
        await Caller(ear).press("2", server)
        state = desk.get_by_test_id("call-state")
        await expect(state).to_have_text("通话中", timeout=20000)
        agent_leg = app.control.bridged_to(caller)
        assert agent_leg is not None

        # Consult 1002 while the caller holds, then go back to the caller.
        await desk.get_by_test_id("transfer-target").fill("1002")
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
