"""Click to dial on real calls: the agent's SIPp phone at 1001 rings first, then the
customer's phone behind the carrier trunk; they talk and the agent goes to wrap-up."""

from __future__ import annotations

import asyncio

import pytest

from tests.acd.test_acd_calls import AGENT_TONE, HEARD, World, agent_heard, world
from tests.telephony.conftest import TRUNK_IP
from tests.telephony.media_peer import RtpPeer, tone_frames, wait_for
from tests.telephony.sip_peers import Sipp, needs_sipp
from ticketline.acd.agents import AgentState
from ticketline.core.errors import InvalidInput
from ticketline.telephony.control_channel import Channel
from ticketline.web.desk_dial import AgentBusy, Dialer

__all__ = ["world"]  # the fixture, shared with the ACD's real-call tests
pytestmark = [needs_sipp, pytest.mark.peers]
CUSTOMER = "13800138000"


async def customer_phone(world: World) -> RtpPeer:
    ear = await RtpPeer.open()
    fill = {"rtp_port": str(ear.address[1]), "codec": "0"}
    sipp = Sipp(world.target, "media_uas.xml", ip=TRUNK_IP, port=5099, fill=fill,
                workdir=world.tmp_path)  # fmt: skip
    await sipp.start()
    world.callers.append((sipp, ear))
    return ear


def agent_leg(world: World, call_id: str) -> Channel | None:
    for channel in world.app.control.channels.values():
        if channel.call_id == call_id and channel.leg.role == "agent" and not channel.ended:
            return channel
    return None


async def test_click_to_dial_rings_the_agent_then_the_customer(world: World) -> None:
    customer_ear = await customer_phone(world)
    phone = await world.phone("1001")
    runtime = world.app.acd_runtime
    runtime.login("anna", paused_reason="missed_offers")
    dialer = Dialer(world.app.desk, world.app.control)

    call_id = await dialer.dial("anna", CUSTOMER)
    assert world.state("anna") is AgentState.OUTBOUND  # no queue call is offered meanwhile
    await wait_for(lambda: world.app.desk.calls["anna"].state == "talking", 15)
    leg = agent_leg(world, call_id)
    assert leg is not None
    mark = len(customer_ear.received)
    assert phone.ear is not None
    for frame in tone_frames(AGENT_TONE, 40):
        phone.ear.send_audio(frame, leg.session.local_address)
        await asyncio.sleep(0.02)
    assert agent_heard(customer_ear, mark + 5) > HEARD  # anna talks to the customer

    await leg.hangup()
    await wait_for(lambda: world.state("anna") is AgentState.WRAP_UP, 10)
    await dialer.close()


async def test_click_to_dial_refuses_a_busy_agent_and_a_bad_number(world: World) -> None:
    runtime = world.app.acd_runtime
    runtime.login("anna", paused_reason="missed_offers")
    dialer = Dialer(world.app.desk, world.app.control)
    with pytest.raises(InvalidInput) as bad:
        await dialer.dial("anna", "call me")
    assert bad.value.details["field"] == "number"
    runtime.start_outbound("anna")
    with pytest.raises(AgentBusy):
        await dialer.dial("anna", CUSTOMER)
    with pytest.raises(AgentBusy):
        await dialer.dial("nobody", CUSTOMER)
