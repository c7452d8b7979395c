"""The ACD on real calls: SIPp callers from the carrier, SIPp phones registered at 1001/1002.

The ACD drives the phones only through `ControlPhones` (acd/telephony_port.py)
over the call-control API; what is checked is what people notice: which phone
rang, who ended up talking to the caller (the agent's tone reaches the
caller's ear), and what the queue log, the agents' states and the recordings say.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telephony.conftest import SIP_PASSWORD, TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, level_at, random_range, tone_frames, wait_for
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp
from ticketline.acd.agents import AgentState
from ticketline.acd.config import (
    AgentProfile,
    Membership,
    OverflowKind,
    OverflowRule,
    QueueConfig,
    RouterSettings,
    Strategy,
)
from ticketline.acd.ports import CallerInfo
from ticketline.acd.queuelog import QueueEvent, read_log
from ticketline.acd.telephony_port import ControlPhones
from ticketline.app import Application
from ticketline.media import g711
from ticketline.media.dtmf import DtmfSender
from ticketline.telephony import control_events as ev
from ticketline.telephony.control_channel import Channel
from ticketline.telephony.server import IncomingCall

pytestmark = [needs_sipp, pytest.mark.peers]

AGENT_TONE = 800.0
HEARD = 1500.0


class Phone:
    """An agent's desk phone: registered at `extension`, answers (or not) with a tone."""

    def __init__(self, world: World, extension: str, scenario: str, calls: int = 1) -> None:
        self.world = world
        self.extension = extension
        self.scenario = scenario
        self.calls = calls
        self.port = free_port()
        self.ear: RtpPeer | None = None
        self.sipp: Sipp | None = None

    async def start(self) -> Phone:
        target = self.world.target
        registered = await Sipp(
            target,
            "register.xml",
            keys={"user": self.extension, "contact_port": str(self.port), "expires": "600"},
            fill={"expect": "200"},
            extra=("-au", self.extension, "-ap", SIP_PASSWORD),
            workdir=self.world.tmp_path,
        ).run()
        assert registered.ok, registered.errors
        self.ear = await RtpPeer.open()
        fill = {"rtp_port": str(self.ear.address[1]), "codec": "0"}
        self.sipp = Sipp(target, self.scenario, port=self.port, fill=fill, calls=self.calls,
                         workdir=self.world.tmp_path)  # fmt: skip
        await self.sipp.start()
        return self

    async def speak(self, seconds: float) -> None:
        """Send the agent's tone to the server for a while (once the leg is up)."""
        phones = self.world.phones
        frames = tone_frames(AGENT_TONE, 50)
        for i in range(int(seconds / 0.02)):
            leg = next((c for c in phones.agent_legs.values() if not c.ended), None)
            if leg is not None and self.ear is not None:
                self.ear.send_audio(frames[i % 50], leg.session.local_address)
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        if self.sipp is not None:
            self.sipp.kill()
        if self.ear is not None:
            self.ear.close()


class World:
    """The application with one queue ("sales") and two agents, and the calls of a test."""

    def __init__(self, app: Application, tmp_path: Path) -> None:
        self.app = app
        self.tmp_path = tmp_path
        self.target = f"127.0.0.1:{app.sip.port}"
        self.callers: list[tuple[Sipp, RtpPeer]] = []
        self.phone_list: list[Phone] = []
        self.channels: asyncio.Queue[Channel] = asyncio.Queue()
        self.priorities: list[int] = []  # of the next callers, in the order they call

    @property
    def phones(self) -> ControlPhones:
        phones = self.app.acd_runtime.phones
        assert isinstance(phones, ControlPhones)
        return phones

    async def phone(self, extension: str, scenario: str = "media_uas.xml", calls: int = 1) -> Phone:
        phone = await Phone(self, extension, scenario, calls).start()
        self.phone_list.append(phone)
        return phone

    async def call(self, hold_ms: int = 20000) -> tuple[str, RtpPeer]:
        """A customer calls the hotline and is queued; hangs up after `hold_ms` if nobody does."""
        ear = await RtpPeer.open()
        fill = {"rtp_port": str(ear.address[1]), "codec": "0", "hold_ms": str(hold_ms)}
        sipp = Sipp(self.target, "media_uac_hangs_up.xml", ip=TRUNK_IP, fill=fill,
                    extra=("-s", "95105"), workdir=self.tmp_path)  # fmt: skip
        await sipp.start()
        self.callers.append((sipp, ear))
        channel = await asyncio.wait_for(self.channels.get(), 10)
        return channel.call_id, ear

    async def events(self, call_id: str) -> list[tuple[str, str | None]]:
        await self.app.acd_runtime.writer.drain()
        lines = await read_log(self.app.db, call_id=call_id)
        return [(line.event.value, line.agent_id) for line in lines]

    def state(self, agent: str) -> AgentState:
        return self.app.acd_runtime.router.agents[agent].state


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    ports = random_range(200)
    app = await start_sip_app(
        sqlite_url, tmp_path / "var", rtp_port_first=ports.first, rtp_port_last=ports.last
    )
    await app.media.start()
    runtime = app.acd_runtime
    runtime.router.settings = RouterSettings(max_missed_offers=1)
    linear = Strategy.LINEAR  # anna first, then bob: the order the tests expect
    queue = QueueConfig("sales", strategy=linear, ring_timeout=3, wrap_up=2, retry_after=30)
    runtime.set_queue(queue)
    for position, (agent, extension) in enumerate((("anna", "1001"), ("bob", "1002"))):
        runtime.set_agent(AgentProfile(agent, extension, name=agent))
        runtime.set_membership(Membership("sales", agent, position=position))
    await runtime.start()
    test_world = World(app, tmp_path)

    async def queue_it(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        await test_world.channels.put(channel)
        priority = test_world.priorities.pop(0) if test_world.priorities else 0
        caller = CallerInfo(number=incoming.caller)
        await runtime.enqueue(channel, "sales", [], priority, caller)

    app.control.set_incoming_handler(queue_it)
    yield test_world
    await runtime.stop()
    await app.control.close()
    await test_world.phones.close()
    for sipp, ear in test_world.callers:
        sipp.kill()
        ear.close()
    for phone in test_world.phone_list:
        phone.stop()
    await stop_sip_app(app)


async def press(ear: RtpPeer, channel: Channel, digit: str) -> None:
    """The caller presses a key on their phone (RFC 4733, as the caller's SDP offers)."""
    for packet in DtmfSender(ssrc=ear.ssrc, payload_type=101).packets(digit, ear.seq, ear.ts):
        ear.send_raw(packet.serialize(), channel.session.local_address)
        await asyncio.sleep(0.02)
    ear.seq += 10
    ear.ts += 800


def agent_heard(ear: RtpPeer, since: int) -> float:
    packets = [p for p in ear.received[since:] if p.payload_type == 0]
    return level_at(g711.ulaw_decode_array(b"".join(p.payload for p in packets)), AGENT_TONE)


async def test_the_free_agent_rings_answers_and_talks_to_the_caller(world: World) -> None:
    phone = await world.phone("1001")
    world.app.acd_runtime.login("anna")
    world.app.acd_runtime.ready("anna")

    call_id, ear = await world.call(hold_ms=2500)
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    assert world.state("anna") is AgentState.ON_CALL
    mark = len(ear.received)
    await phone.speak(0.8)
    assert agent_heard(ear, mark + 5) > HEARD  # the caller hears the agent

    await wait_for(lambda: world.state("anna") is AgentState.WRAP_UP, 8)
    events = await world.events(call_id)
    assert events == [
        ("enter", None),
        ("offer", "anna"),
        ("connect", "anna"),
        ("complete", "anna"),
    ]
    complete = (await read_log(world.app.db, call_id=call_id))[-1]
    assert complete.data["hung_up_by"] == "caller"
    assert complete.talk is not None
    assert complete.talk > 1.0
    await wait_for(lambda: world.state("anna") is AgentState.READY, 6)  # wrap-up ends by timer

    recordings = await world.app.recordings.for_call(call_id)
    assert len(recordings) == 1
    assert recordings[0].duration_ms > 1000


async def test_an_unanswered_offer_moves_on_and_pauses_the_agent(world: World) -> None:
    await world.phone("1001", "uas_ring_cancelled.xml")
    await world.phone("1002")
    runtime = world.app.acd_runtime
    for agent in ("anna", "bob"):
        runtime.login(agent)
    runtime.ready("anna")
    runtime.ready("bob")

    call_id, _ = await world.call(hold_ms=8000)
    await wait_for(lambda: call_id in world.phones.agent_legs, 12)
    assert await world.events(call_id) == [
        ("enter", None),
        ("offer", "anna"),
        ("no_answer", "anna"),
        ("offer", "bob"),
        ("connect", "bob"),
    ]
    assert world.state("anna") is AgentState.NOT_READY  # one miss is the limit here
    assert runtime.router.agents["anna"].reason == "missed_offers"
    assert world.state("bob") is AgentState.ON_CALL


async def test_a_busy_phone_is_skipped_at_once(world: World) -> None:
    await world.phone("1001", "uas_busy.xml")
    await world.phone("1002")
    runtime = world.app.acd_runtime
    for agent in ("anna", "bob"):
        runtime.login(agent)
        runtime.ready(agent)

    call_id, _ = await world.call(hold_ms=6000)
    await wait_for(lambda: call_id in world.phones.agent_legs, 3)  # well before the timeout
    events = await world.events(call_id)
    assert events[-2:] == [("offer", "bob"), ("connect", "bob")]
    assert ("no_answer", "anna") in events


async def test_a_caller_who_gives_up_is_logged_as_abandoned(world: World) -> None:
    world.app.acd_runtime.login("anna", paused_reason="missed_offers")  # logged in, not ready

    call_id, ear = await world.call(hold_ms=1500)
    await asyncio.sleep(0.8)
    assert len(ear.received) > 20  # waiting with music, not silence

    await wait_for(lambda: call_id not in world.app.acd_runtime.router.calls, 6)
    await world.app.acd_runtime.writer.drain()
    [enter, abandon] = await read_log(world.app.db, call_id=call_id)
    assert (enter.event, abandon.event) == (QueueEvent.ENTER, QueueEvent.ABANDON)
    assert abandon.position == 1
    assert abandon.wait is not None
    assert abandon.wait >= 1.0


async def test_the_agent_hanging_up_completes_the_call_and_frees_the_caller(
    world: World,
) -> None:
    await world.phone("1001")
    world.app.acd_runtime.login("anna")
    world.app.acd_runtime.ready("anna")

    call_id, _ = await world.call(hold_ms=15000)
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    await world.phones.agent_legs[call_id].hangup()

    await wait_for(lambda: world.state("anna") is AgentState.WRAP_UP, 5)
    await world.app.acd_runtime.writer.drain()
    complete = (await read_log(world.app.db, call_id=call_id))[-1]
    assert (complete.event, complete.data["hung_up_by"]) == (QueueEvent.COMPLETE, "agent")
    await wait_for(lambda: world.phones.caller(call_id) is None, 5)  # the caller got a BYE


async def test_waiting_callers_hear_their_position_then_the_music_again(world: World) -> None:
    played: list[ev.PlaybackFinished] = []

    async def keep(event: ev.PlaybackFinished) -> None:
        played.append(event)

    world.app.bus.subscribe(ev.PlaybackFinished, keep)
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", announce_every=1, default_handle_time=240))
    runtime.login("anna", paused_reason="missed_offers")

    call_id, ear = await world.call(hold_ms=12000)
    await wait_for(lambda: any(e.call_id == call_id for e in played), 10)
    [announcement] = [e for e in played if e.call_id == call_id][:1]
    assert announcement.reason == "finished"
    assert announcement.played_ms > 1500  # a spoken sentence, not a beep
    mark = len(ear.received)
    await asyncio.sleep(0.6)
    assert len(ear.received) - mark > 20  # and then music again, not silence


async def test_a_full_wait_overflows_to_the_queues_voicemail(world: World) -> None:
    runtime = world.app.acd_runtime
    overflow = OverflowRule(OverflowKind.VOICEMAIL)
    runtime.set_queue(QueueConfig("sales", max_wait=1, overflow=overflow))
    runtime.login("anna", paused_reason="missed_offers")

    call_id, _ = await world.call(hold_ms=12000)
    await wait_for(lambda: call_id not in runtime.router.calls, 5)
    await runtime.writer.drain()
    events = [line.event for line in await read_log(world.app.db, call_id=call_id)]
    assert events == [QueueEvent.ENTER, QueueEvent.TIMEOUT, QueueEvent.OVERFLOW]

    folder = world.tmp_path / "var" / "voicemail" / "queues" / "sales"
    await wait_for(lambda: any(folder.rglob(f"{call_id}.wav")), 15)
    await wait_for(lambda: world.phones.caller(call_id) is None, 15)
    [message] = list(folder.rglob(f"{call_id}.wav"))
    assert message.stat().st_size > 32000  # seconds of the caller, not an empty file


async def test_an_agent_sends_the_caller_to_another_queue_where_the_next_agent_answers(
    world: World,
) -> None:
    await world.phone("1001")
    await world.phone("1002")
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("support", wrap_up=2))
    runtime.remove_membership("sales", "bob")
    runtime.set_membership(Membership("support", "bob"))
    for agent in ("anna", "bob"):
        runtime.login(agent)
        runtime.ready(agent)

    call_id, ear = await world.call(hold_ms=15000)
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    caller = world.phones.caller(call_id)
    assert caller is not None
    await runtime.transfer_to_queue(caller, "support")

    await wait_for(lambda: world.state("bob") is AgentState.ON_CALL, 8)
    assert world.state("anna") is AgentState.WRAP_UP
    mark = len(ear.received)
    await world.phone_list[1].speak(0.8)
    assert agent_heard(ear, mark + 5) > HEARD  # the caller now hears bob
    assert await world.events(call_id) == [
        ("enter", None),
        ("offer", "anna"),
        ("connect", "anna"),
        ("transfer", "anna"),
        ("enter", None),
        ("offer", "bob"),
        ("connect", "bob"),
    ]


async def test_an_agent_hands_the_caller_to_a_ready_colleague_by_name(world: World) -> None:
    await world.phone("1001")
    await world.phone("1002")
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", wrap_up=2))
    runtime.login("anna")
    runtime.ready("anna")
    call_id, _ear = await world.call(hold_ms=15000)
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    caller = world.phones.caller(call_id)
    assert caller is not None
    runtime.login("bob")
    runtime.ready("bob")  # the queue's own offer reaches bob first: no pickup on top
    await runtime.transfer_to_agent(caller, "bob")

    await wait_for(lambda: world.state("bob") is AgentState.ON_CALL, 8)
    assert world.state("anna") is AgentState.WRAP_UP
    events = await world.events(call_id)
    assert events[:4] == [("enter", None), ("offer", "anna"), ("connect", "anna"),
                          ("transfer", "anna")]  # fmt: skip
    assert events[4] == ("enter", None)
    assert events[-1] == ("connect", "bob")


async def test_waiting_callers_reach_the_agent_vip_first_then_in_arrival_order(
    world: World,
) -> None:
    await world.phone("1001", calls=3)
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", wrap_up=0))
    runtime.login("anna", paused_reason="missed_offers")
    world.priorities = [0, 0, 5]  # the third caller is a VIP
    calls = [(await world.call(hold_ms=30000))[0] for _ in range(3)]
    assert [runtime.router.position(call) for call in calls] == [2, 3, 1]

    runtime.ready("anna")
    served = []
    for _ in range(3):
        await wait_for(lambda: bool(world.phones.agent_legs), 8)
        [(call_id, leg)] = world.phones.agent_legs.items()
        served.append(call_id)
        await leg.hangup()  # anna finishes the call; with no wrap-up she takes the next
        await wait_for(lambda c=call_id: c not in world.phones.agent_legs, 5)
    assert served == [calls[2], calls[0], calls[1]]


async def test_a_callback_rings_the_agent_first_then_the_customer(world: World) -> None:
    customer_ear = await RtpPeer.open()
    fill = {"rtp_port": str(customer_ear.address[1]), "codec": "0"}
    customer = Sipp(world.target, "media_uas.xml", ip=TRUNK_IP, port=5099, fill=fill,
                    workdir=world.tmp_path)  # fmt: skip
    await customer.start()  # the customer's mobile, reached through the carrier trunk
    world.callers.append((customer, customer_ear))
    await world.phone("1001")
    runtime = world.app.acd_runtime
    overflow = OverflowRule(OverflowKind.CALLBACK)
    runtime.set_queue(QueueConfig("sales", max_wait=1, overflow=overflow))
    runtime.login("anna", paused_reason="missed_offers")

    call_id, _ = await world.call(hold_ms=30000)
    await wait_for(lambda: world.phones.caller(call_id) is None, 15)  # told, then hung up
    assert runtime.router.calls[call_id].callback_number == "13800138000"

    runtime.ready("anna")
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    await wait_for(lambda: world.phones.caller(call_id) is not None, 8)
    mark = len(customer_ear.received)
    await world.phone_list[0].speak(0.8)
    assert agent_heard(customer_ear, mark + 5) > HEARD  # anna talks to the customer
    assert await world.events(call_id) == [
        ("enter", None),
        ("timeout", None),
        ("overflow", None),
        ("callback_requested", None),
        ("offer", "anna"),
        ("connect", "anna"),
        ("callback_done", "anna"),
    ]


async def test_a_callback_nobody_answers_stops_ringing_and_frees_the_agent(world: World) -> None:
    customer = Sipp(world.target, "uas_ring_cancelled.xml", ip=TRUNK_IP, port=5099,
                    workdir=world.tmp_path)  # fmt: skip
    await customer.start()  # the customer's mobile rings on and on
    await world.phone("1001")
    runtime = world.app.acd_runtime
    world.phones.callback_ring_seconds = 2
    overflow = OverflowRule(OverflowKind.CALLBACK)
    runtime.set_queue(QueueConfig("sales", max_wait=1, overflow=overflow))
    runtime.login("anna", paused_reason="missed_offers")

    call_id, _ = await world.call(hold_ms=30000)
    await wait_for(lambda: world.phones.caller(call_id) is None, 15)  # told, then hung up
    runtime.ready("anna")
    await wait_for(lambda: call_id in world.phones.agent_legs, 8)
    cancelled = await customer.wait(10)
    assert cancelled.ok, cancelled.errors  # the customer's phone got its CANCEL
    await wait_for(lambda: call_id not in world.phones.agent_legs, 5)  # anna is let go
    events = await world.events(call_id)
    assert events[-2:] == [("connect", "anna"), ("callback_done", "anna")]
    lines = await read_log(world.app.db, call_id=call_id)
    assert lines[-1].data == {"reached": False}


async def test_a_waiting_caller_presses_1_and_leaves_a_message(world: World) -> None:
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", message_key="1", callback_key="2"))
    runtime.login("anna", paused_reason="missed_offers")

    call_id, ear = await world.call(hold_ms=14000)  # the box speaks ~7 s before the beep
    caller = world.phones.caller(call_id)
    assert caller is not None
    await asyncio.sleep(0.5)  # hearing the music and the key hints
    await press(ear, caller, "1")
    await wait_for(lambda: call_id not in runtime.router.calls, 5)
    folder = world.tmp_path / "var" / "voicemail" / "queues" / "sales"
    await wait_for(lambda: any(folder.rglob(f"{call_id}.wav")), 15)
    await wait_for(lambda: world.phones.caller(call_id) is None, 15)
    [message] = list(folder.rglob(f"{call_id}.wav"))
    # the caller's seconds until they hung up (the last ones land as the box closes)
    await wait_for(lambda: message.stat().st_size > 48000, 5)
    assert await world.events(call_id) == [("enter", None), ("exit_with_key", None)]


async def test_a_waiting_caller_presses_2_hangs_up_and_keeps_their_place(world: World) -> None:
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", message_key="1", callback_key="2"))
    runtime.login("anna", paused_reason="missed_offers")

    first, _ = await world.call(hold_ms=30000)
    second, ear = await world.call(hold_ms=30000)
    caller = world.phones.caller(second)
    assert caller is not None
    await press(ear, caller, "2")
    await wait_for(lambda: world.phones.caller(second) is None, 15)  # told, then hung up
    assert runtime.router.calls[second].callback_number == "13800138000"
    assert [runtime.router.position(c) for c in (first, second)] == [1, 2]
    assert world.phones.caller(first) is not None  # the other caller still waits


async def test_a_waiting_caller_whose_media_ends_first_is_no_longer_listened_to(
    world: World,
) -> None:
    """A media process crash closes the sessions before the legs are hung up."""
    runtime = world.app.acd_runtime
    runtime.set_queue(QueueConfig("sales", message_key="1", callback_key="2"))
    runtime.login("anna", paused_reason="missed_offers")
    call_id, _ = await world.call(hold_ms=30000)
    caller = world.phones.caller(call_id)
    assert caller is not None
    await wait_for(lambda: caller.session.digit_waiter is not None, 5)  # listening for keys

    caller.session.close()
    await asyncio.sleep(0.1)  # a listener spinning on the closed session never lets this end
    assert caller.session.digit_waiter is None
    assert not caller.ended  # the leg is still up: its hangup comes separately
