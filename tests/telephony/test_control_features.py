"""Hold, transfers, conference and snoop through real SIP legs (SIPp) with test RTP sockets.

Every party is a SIPp process for the signalling and a Python socket for its
audio, speaking its own tone; a party hears another when that tone is in what
the server sent it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.telephony.conftest import TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, level_at, random_range, tone_frames, wait_for
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp
from ticketline.app import Application
from ticketline.telephony import control_events as ev
from ticketline.telephony.control_channel import Channel
from ticketline.telephony.server import IncomingCall

pytestmark = [needs_sipp]

HEARD = 1500.0
ABSENT = 300.0


def answer_reinvite(direction: str) -> str:
    """SIPp scenario lines: take a re-INVITE from the server and answer it."""
    return f"""
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: sip:caller@[local_ip]:[local_port]
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687638 IN IP4 [local_ip]
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {{rtp}} RTP/AVP 0 101
      a=rtpmap:101 telephone-event/8000
      a={direction}

    ]]>
  </send>
  <recv request="ACK"/>"""


class Party:
    """A SIP endpoint (SIPp) whose audio is a test socket speaking one tone."""

    def __init__(self, ear: RtpPeer, frequency: float, sipp: Sipp) -> None:
        self.ear = ear
        self.frequency = frequency
        self.sipp = sipp
        self.channel: Channel | None = None
        self.frames = tone_frames(frequency, 50)
        self.sent = 0
        self.mark = 0

    def speak(self) -> None:
        if self.channel is not None and not self.channel.ended:
            self.ear.send_audio(self.frames[self.sent % 50], self.channel.session.local_address)
            self.sent += 1

    def listen_from_now(self) -> None:
        self.mark = len(self.ear.received)

    def hears(self, frequency: float) -> float:
        """Level of `frequency` in what arrived since `listen_from_now` (first 8 frames skipped)."""
        packets = [p for p in self.ear.received[self.mark + 8 :] if p.payload_type == 0]
        from ticketline.media import g711

        pcm = g711.ulaw_decode_array(b"".join(p.payload for p in packets))
        return level_at(pcm, frequency)


class World:
    """The application plus the parties of one test."""

    def __init__(self, app: Application, tmp_path: Path) -> None:
        self.app = app
        self.tmp_path = tmp_path
        self.parties: list[Party] = []
        self.incoming: asyncio.Queue[Channel] = asyncio.Queue()
        self.events: list[object] = []

    async def caller(self, frequency: float, middle: str = "") -> Party:
        """A carrier call in to 95105, answered by the test's handler."""
        ear = await RtpPeer.open()
        port = ear.address[1]
        fill = {"rtp_port": str(port), "codec": "0", "middle": middle.replace("{rtp}", str(port))}
        sipp = Sipp(f"127.0.0.1:{self.app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                    extra=("-s", "95105"), workdir=self.tmp_path)  # fmt: skip
        party = Party(ear, frequency, sipp)
        await sipp.start()
        party.channel = await asyncio.wait_for(self.incoming.get(), 10)
        self.parties.append(party)
        return party

    async def phone(self, frequency: float) -> Party:
        """An agent's phone that the server dials (answers at once)."""
        ear = await RtpPeer.open()
        port = free_port()
        fill = {"rtp_port": str(ear.address[1]), "codec": "0"}
        sipp = Sipp(f"127.0.0.1:{self.app.sip.port}", "media_uas.xml", port=port, fill=fill,
                    workdir=self.tmp_path)  # fmt: skip
        await sipp.start()
        party = Party(ear, frequency, sipp)
        channel = await self.app.control.dial(f"sip:agent@127.0.0.1:{port}", role="agent")
        await channel.wait_answered()
        party.channel = channel
        self.parties.append(party)
        return party

    async def talk(self, seconds: float = 1.0) -> None:
        """Everybody speaks for a while; then what each heard can be checked."""
        for party in self.parties:
            party.listen_from_now()
        for _ in range(int(seconds / 0.02)):
            for party in self.parties:
                party.speak()
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)

    async def close(self) -> None:
        for party in self.parties:
            if party.channel is not None and not party.channel.ended:
                await party.channel.hangup()
        failures = []
        for party in self.parties:
            run = await party.sipp.wait(10)
            party.ear.close()
            if not run.ok:
                failures.append(run.errors)
        assert failures == []


@pytest.fixture(params=[False, True], ids=["media-inline", "media-process"])
async def world(
    sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    ports = random_range(200)
    app = await start_sip_app(
        sqlite_url, tmp_path / "var", rtp_port_first=ports.first, rtp_port_last=ports.last,
        media_process=request.param,
    )  # fmt: skip
    await app.media.start()
    test_world = World(app, tmp_path)

    async def answer(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        await test_world.incoming.put(channel)

    async def keep(event: object) -> None:
        test_world.events.append(event)

    app.control.set_incoming_handler(answer)
    for kind in (ev.CallHeld, ev.CallResumed, ev.CallTransferred, ev.SnoopStarted, ev.CallEnded):
        app.bus.subscribe(kind, keep)
    yield test_world
    sipps = [p.sipp for p in test_world.parties]
    await app.control.close()
    for sipp in sipps:
        sipp.kill()
    await stop_sip_app(app)


def channel(party: Party) -> Channel:
    assert party.channel is not None
    return party.channel


async def test_hold_plays_music_to_the_held_caller_and_resume_reconnects(world: World) -> None:
    caller = await world.caller(500, answer_reinvite("recvonly") + answer_reinvite("sendrecv"))
    agent = await world.phone(800)
    world.app.control.bridge(channel(caller), channel(agent))
    await world.talk(0.6)
    assert caller.hears(800) > HEARD

    await channel(caller).hold()
    assert channel(caller).leg.local_sdp is not None
    assert channel(caller).leg.local_sdp.media[0].direction == "sendonly"
    await world.talk(1.0)
    music = caller.ear.received[caller.mark + 8 :]
    assert caller.hears(800) < ABSENT
    assert np.mean([p.payload != b"\xff" * 160 for p in music]) > 0.9  # music, not silence
    assert agent.hears(500) < ABSENT

    await channel(caller).resume()
    await world.talk(0.6)
    assert caller.hears(800) > HEARD
    assert agent.hears(500) > HEARD
    assert [type(e).__name__ for e in world.events][:2] == ["CallHeld", "CallResumed"]
    await world.close()


async def test_a_muted_agent_is_not_heard_even_after_a_new_bridge(world: World) -> None:
    caller = await world.caller(500)
    agent = await world.phone(800)
    control = world.app.control
    control.bridge(channel(caller), channel(agent))
    await world.talk(0.6)
    assert caller.hears(800) > HEARD

    channel(agent).mute()
    await world.talk(0.8)
    assert caller.hears(800) < ABSENT
    assert agent.hears(500) > HEARD  # the muted agent still hears the caller
    control.unbridge(channel(agent))
    control.bridge(channel(caller), channel(agent))  # e.g. back from hold
    await world.talk(0.6)
    assert caller.hears(800) < ABSENT

    channel(agent).unmute()
    await world.talk(0.6)
    assert caller.hears(800) > HEARD
    await world.close()


async def test_blind_transfer_moves_the_caller_to_another_phone(world: World) -> None:
    caller = await world.caller(500)
    first = await world.phone(800)
    world.app.control.bridge(channel(caller), channel(first))
    second_port = free_port()
    ear = await RtpPeer.open()
    fill = {"rtp_port": str(ear.address[1]), "codec": "0"}
    sipp = Sipp(f"127.0.0.1:{world.app.sip.port}", "media_uas.xml", port=second_port,
                fill=fill, workdir=world.tmp_path)  # fmt: skip
    await sipp.start()
    second = Party(ear, 1100, sipp)
    second.channel = await world.app.control.blind_transfer(
        channel(caller), f"sip:agent2@127.0.0.1:{second_port}"
    )
    world.parties.append(second)
    assert channel(first).ended
    await world.talk(0.8)
    assert caller.hears(1100) > HEARD
    assert second.hears(500) > HEARD
    [moved] = [e for e in world.events if isinstance(e, ev.CallTransferred)]
    assert (moved.leg_id, moved.target_leg_id, moved.kind) == (
        channel(caller).id,
        channel(second).id,
        "blind",
    )
    await world.close()


async def test_attended_transfer_after_consulting_while_the_caller_holds(world: World) -> None:
    caller = await world.caller(500, answer_reinvite("recvonly") + answer_reinvite("sendrecv"))
    agent = await world.phone(800)
    control = world.app.control
    control.bridge(channel(caller), channel(agent))
    await channel(caller).hold()
    expert = await world.phone(1100)
    control.bridge(channel(agent), channel(expert))  # the consultation
    await world.talk(0.6)
    assert agent.hears(1100) > HEARD
    assert caller.hears(1100) < ABSENT

    await control.attended_transfer(channel(caller), channel(expert), transferor=channel(agent))
    await world.talk(0.8)
    assert channel(agent).ended
    assert caller.hears(1100) > HEARD
    assert expert.hears(500) > HEARD
    await world.close()


async def test_three_party_conference(world: World) -> None:
    caller = await world.caller(500)
    agent = await world.phone(800)
    other = await world.phone(1100)
    for party in (caller, agent, other):
        world.app.control.conference_add("room1", channel(party))
    await world.talk(1.0)
    for party in (caller, agent, other):
        for speaker in (caller, agent, other):
            if speaker is party:
                assert party.hears(speaker.frequency) < ABSENT
            else:
                assert party.hears(speaker.frequency) > HEARD / 2
    await world.close()


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisor_snoop(world: World, mode: str) -> None:
    caller = await world.caller(500)
    agent = await world.phone(800)
    world.app.control.bridge(channel(caller), channel(agent))
    supervisor = await world.phone(1300)
    world.app.control.snoop(channel(supervisor), channel(agent), mode)
    await world.talk(1.0)
    assert supervisor.hears(500) > HEARD / 2
    assert supervisor.hears(800) > HEARD / 2
    assert (agent.hears(1300) > HEARD / 2) == (mode != "listen")
    assert (caller.hears(1300) > HEARD / 2) == (mode == "barge")
    assert caller.hears(800) > HEARD / 2
    await world.close()


async def test_transfer_button_on_the_agent_phone_moves_the_caller(world: World) -> None:
    caller = await world.caller(500)
    target_port = free_port()
    target_ear = await RtpPeer.open()
    fill = {"rtp_port": str(target_ear.address[1]), "codec": "0"}
    target_sipp = Sipp(f"127.0.0.1:{world.app.sip.port}", "media_uas.xml", port=target_port,
                       fill=fill, workdir=world.tmp_path)  # fmt: skip
    await target_sipp.start()
    target = Party(target_ear, 1100, target_sipp)
    agent_ear = await RtpPeer.open()
    agent_port = free_port()
    fill = {
        "rtp_port": str(agent_ear.address[1]),
        "sip_port": str(world.app.sip.port),
        "refer_to": f"sip:expert@127.0.0.1:{target_port}",
    }
    agent_sipp = Sipp(f"127.0.0.1:{world.app.sip.port}", "media_uas_refer.xml", port=agent_port,
                      fill=fill, workdir=world.tmp_path)  # fmt: skip
    await agent_sipp.start()
    agent = Party(agent_ear, 800, agent_sipp)
    agent.channel = await world.app.control.dial(f"sip:agent@127.0.0.1:{agent_port}")
    await channel(agent).wait_answered()
    world.parties += [agent, target]
    world.app.control.bridge(channel(caller), channel(agent))

    await wait_for(lambda: channel(agent).ended, timeout=10)
    target.channel = world.app.control.bridged_to(channel(caller))
    assert target.channel is not None
    await world.talk(0.8)
    assert caller.hears(1100) > HEARD
    assert target.hears(500) > HEARD
    await world.close()
