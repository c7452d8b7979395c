"""Bridges, conferences, snoop, recording and hold music with real UDP peers on loopback."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.telephony.media_peer import (
    RtpPeer,
    level_at,
    media_engine,
    random_range,
    settle,
    step,
    tone_frames,
    wait_for,
)
from ticketline.media.mixer import PartyMode
from ticketline.media.wav import read_wav
from ticketline.telephony import media_ops
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_moh import DEFAULT_FILE
from ticketline.telephony.media_ports import NoPortsAvailable
from ticketline.telephony.media_session import MediaSession

HEARD = 1500.0  # amplitude of a tone clearly present (peers send 8000)
ABSENT = 200.0


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[MediaEngine]:
    async with media_engine(tmp_path) as media:
        yield media


class Party:
    """A peer speaking one tone into its own session."""

    def __init__(self, peer: RtpPeer, session: MediaSession, frequency: float) -> None:
        self.peer = peer
        self.session = session
        self.frequency = frequency
        self.frames = tone_frames(frequency, 200)
        self.sent = 0

    def speak(self) -> None:
        self.peer.send_audio(self.frames[self.sent], self.session.local_address, self.pt)
        self.sent += 1

    @property
    def pt(self) -> int:
        return self.session.payload_type

    def hears(self, frequency: float, skip: int = 5) -> float:
        """Level of a tone in what this party received (after the first frames)."""
        return level_at(self.peer.audio(self.pt)[160 * skip :], frequency)


@pytest.fixture
async def parties(engine: MediaEngine) -> AsyncIterator[list[Party]]:
    made = []
    for frequency, payload_type in ((500, 0), (800, 8), (1100, 0), (1400, 0)):
        peer = await RtpPeer.open()
        session = await engine.open_session(payload_type=payload_type)
        session.set_remote(*peer.address)
        made.append(Party(peer, session, frequency))
    yield made
    for party in made:
        party.peer.close()


async def talk(engine: MediaEngine, speakers: list[Party], ticks: int = 30) -> None:
    def everyone_speaks(_: int) -> None:
        for party in speakers:
            party.speak()

    await step(engine, ticks, before=everyone_speaks)
    await wait_for(lambda: all(len(p.peer.received) >= ticks - 2 for p in speakers))


async def test_bridge_carries_each_side_to_the_other_across_codecs(
    engine: MediaEngine, parties: list[Party]
) -> None:
    caller, agent = parties[0], parties[1]  # PCMU and PCMA
    engine.bridge(caller.session, agent.session)
    await talk(engine, [caller, agent])
    assert caller.hears(800) > HEARD
    assert caller.hears(500) < ABSENT
    assert agent.hears(500) > HEARD
    assert agent.hears(800) < ABSENT
    assert {p.payload_type for p in agent.peer.received} == {8}


async def test_bridged_call_is_recorded_caller_left_agent_right_with_a_paused_stretch(
    engine: MediaEngine, parties: list[Party], tmp_path: Path
) -> None:
    caller, agent = parties[0], parties[1]
    engine.bridge(caller.session, agent.session)
    recorder = engine.start_recording(caller.session, tmp_path / "rec" / "call.wav")
    await talk(engine, [caller, agent], 60)
    recorder.pause()
    await talk(engine, [caller, agent], 50)
    recorder.resume()
    await talk(engine, [caller, agent], 60)
    result = engine.stop_recording(recorder)

    stereo = read_wav(result.path, stereo=True)
    assert result.channels == 2
    assert result.duration_ms == 170 * 20
    assert stereo.shape == (170 * 160, 2)
    left, right = stereo[:, 0], stereo[:, 1]
    talking = slice(10 * 160, 55 * 160)
    assert level_at(left[talking], 500) > HEARD
    assert level_at(left[talking], 800) < ABSENT
    assert level_at(right[talking], 800) > HEARD
    assert level_at(right[talking], 500) < ABSENT
    assert not stereo[62 * 160 : 108 * 160].any()  # card number spoken here: silence
    assert len(result.pauses) == 1
    assert result.pauses[0].start == pytest.approx(1.2)
    assert result.pauses[0].end == pytest.approx(2.2)
    assert level_at(left[120 * 160 :], 500) > HEARD


async def test_three_party_conference_each_hears_the_other_two(
    engine: MediaEngine, parties: list[Party]
) -> None:
    trio = parties[:3]
    for party in trio:
        engine.join("conf", party.session)
    await talk(engine, trio)
    for party in trio:
        for other in trio:
            level = party.hears(other.frequency)
            if other is party:
                assert level < ABSENT
            else:
                assert level > HEARD / 2


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisor_snoop_modes(engine: MediaEngine, parties: list[Party], mode: str) -> None:
    caller, agent, _, supervisor = parties
    engine.bridge(caller.session, agent.session)
    group = engine.group_of(caller.session)
    assert group is not None
    party_mode = {"listen": PartyMode.LISTEN, "whisper": PartyMode.WHISPER}.get(
        mode, PartyMode.NORMAL
    )
    whisper_to = agent.session if mode == "whisper" else None
    engine.join(group.id, supervisor.session, party_mode, whisper_to)
    await talk(engine, [caller, agent, supervisor])

    assert supervisor.hears(500) > HEARD / 2
    assert supervisor.hears(800) > HEARD / 2
    agent_hears_supervisor = agent.hears(supervisor.frequency) > HEARD / 2
    caller_hears_supervisor = caller.hears(supervisor.frequency) > HEARD / 2
    assert agent_hears_supervisor == (mode != "listen")
    assert caller_hears_supervisor == (mode == "barge")
    assert caller.hears(800) > HEARD / 2
    assert agent.hears(500) > HEARD / 2


async def test_hold_music_from_an_empty_folder_is_generated_and_played(
    engine: MediaEngine, parties: list[Party]
) -> None:
    caller = parties[0]
    audio = engine.moh.audio
    assert (engine.moh.folder / DEFAULT_FILE).exists()
    assert audio.loop
    assert audio.duration_ms >= 5000
    holding = caller.session.start_playing(audio)
    await talk(engine, [caller], 60)
    assert not holding.done()  # music loops until stopped
    heard = caller.peer.audio(0)
    assert np.sqrt(np.mean(heard.astype(np.float64) ** 2)) > 300
    caller.session.stop_playing("stopped")
    assert (await holding).reason == "stopped"


async def test_a_prompt_to_a_bridged_party_takes_over_then_the_bridge_resumes(
    engine: MediaEngine, parties: list[Party]
) -> None:
    caller, agent = parties[0], parties[1]
    engine.bridge(caller.session, agent.session)
    beep = engine.prompts.load_or_default("/none.wav")[0]  # 400 ms of 1 kHz
    playing = asyncio.ensure_future(media_ops.play(agent.session, beep))
    await talk(engine, [caller, agent], 40)
    assert (await playing).reason == "finished"
    received = agent.peer.audio(8)
    assert level_at(received[: 18 * 160], 1000) > HEARD
    assert level_at(received[25 * 160 :], 500) > HEARD


async def test_ports_are_reused_and_nothing_leaks_after_1000_sessions(tmp_path: Path) -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    tasks_before = len(asyncio.all_tasks())
    async with media_engine(tmp_path) as engine:
        total_pairs = engine.ports.available
        peer = await RtpPeer.open()
        try:
            for _ in range(1000):
                session = await engine.open_session()
                session.set_remote(*peer.address)
                engine.start_recording(session, tmp_path / "r" / f"{session.id}.wav", 1)
                engine.tick()
                engine.close_session(session)
        finally:
            peer.close()
        await settle()
        assert engine.ports.in_use == 0
        assert engine.ports.available == total_pairs
        assert engine.sessions == {}
        assert engine.recorders == []
        assert engine.groups == {}
    await asyncio.sleep(0.01)
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 1
    assert len(asyncio.all_tasks()) == tasks_before


async def test_an_exhausted_range_says_so(tmp_path: Path) -> None:
    ports = random_range(4)
    first = ports.first
    engine = MediaEngine("127.0.0.1", ports, tmp_path / "moh")
    try:
        sessions = [await engine.open_session(), await engine.open_session()]
        assert sorted(s.port for s in sessions) == [first, first + 2]
        with pytest.raises(NoPortsAvailable):
            await engine.open_session()
        engine.close_session(sessions[0])
        await settle()
        again = await engine.open_session()
        assert again.port == sessions[0].port
    finally:
        await engine.close()
