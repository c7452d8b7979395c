"""The call-control API with real SIP peers: SIPp signals, RTP goes to test sockets.

SIPp is the carrier (127.0.0.2) calling in, and an agent's phone called out;
the SDP of each points at a Python socket of the test, so the test hears
exactly what the server sends and can speak distinct tones on each side.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.telephony.conftest import TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, level_at, random_range, tone_frames, wait_for
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp, sipp_background
from ticketline.app import Application
from ticketline.media import g711
from ticketline.media.tones import tone
from ticketline.media.wav import WavWriter, read_wav
from ticketline.telephony import control_events as ev
from ticketline.telephony.control_channel import Channel
from ticketline.telephony.media_client import RemoteMedia
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_player import SILENCE_PAYLOAD, Audio
from ticketline.telephony.server import IncomingCall

pytestmark = [needs_sipp]

EVENTS = (ev.CallRinging, ev.CallAnswered, ev.DtmfReceived, ev.PlaybackFinished,
          ev.LegBridged, ev.RecordingFinished, ev.CallEnded)  # fmt: skip


@pytest.fixture(params=[False, True], ids=["media-inline", "media-process"])
async def app(
    sqlite_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Application]:
    ports = random_range(200)
    application = await start_sip_app(
        sqlite_url, tmp_path / "var", rtp_port_first=ports.first, rtp_port_last=ports.last,
        media_process=request.param,
    )  # fmt: skip
    await application.media.start()
    yield application
    await application.control.close()
    await stop_sip_app(application)


@pytest.fixture
def events(app: Application) -> list[object]:
    seen: list[object] = []

    async def keep(event: object) -> None:
        seen.append(event)

    for kind in EVENTS:
        app.bus.subscribe(kind, keep)
    return seen


def caller(
    app: Application, rtp_port: int, tmp_path: Path, middle: str = "", codec: int = 0
) -> Sipp:
    fill = {"rtp_port": str(rtp_port), "codec": str(codec), "middle": middle}
    return Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                extra=("-s", "95105"), workdir=tmp_path)  # fmt: skip


def info(digit: str, cseq: int) -> str:
    return f"""
  <pause milliseconds="150"/>
  <send retrans="500">
    <![CDATA[
      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:13800138000@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: sip:caller@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={digit}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>"""


def sine_wav(path: Path, parts: list[tuple[int, float]]) -> np.ndarray:
    pcm = np.concatenate(
        [
            (9000 * np.sin(2 * np.pi * f * np.arange(int(8000 * s)) / 8000)).astype(np.int16)
            for f, s in parts
        ]
    )
    with WavWriter(path) as writer:
        writer.write(pcm)
    return pcm


async def test_answer_and_play_a_prompt_the_caller_hears_exactly(
    app: Application, events: list[object], tmp_path: Path
) -> None:
    prompt = sine_wav(tmp_path / "welcome.wav", [(440, 0.5), (880, 0.5)])
    outcomes = []

    async def ivr(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        outcomes.append(await channel.play(tmp_path / "welcome.wav"))
        await channel.hangup()

    app.control.set_incoming_handler(ivr)
    ear = await RtpPeer.open()
    try:
        run = await caller(app, ear.address[1], tmp_path, codec=8).run()
        assert run.ok, run.errors
        await wait_for(lambda: any(isinstance(e, ev.CallEnded) for e in events))
    finally:
        ear.close()

    assert outcomes[0].reason == "finished"
    assert outcomes[0].played_ms == 1000
    assert {p.payload_type for p in ear.received} == {8}
    frames = [p.payload for p in ear.received if p.payload_type == 8]
    first = next(i for i, frame in enumerate(frames) if frame != SILENCE_PAYLOAD[8])
    heard = g711.alaw_decode_array(b"".join(frames[first : first + 50]))
    assert np.array_equal(heard, g711.alaw_decode_array(g711.alaw_encode_array(prompt)))
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["CallRinging", "CallAnswered"]
    assert "PlaybackFinished" in kinds
    assert kinds[-1] == "CallEnded"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [("123#", ("123", "terminator", True)), ("4", ("4", "timeout", True))],
)
async def test_sip_info_digits_are_collected(
    app: Application,
    events: list[object],
    tmp_path: Path,
    keys: str,
    expected: tuple[str, str, bool],
) -> None:
    results = []

    async def ivr(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        result = await channel.collect_digits(1, 6, timeout=5, inter_digit_timeout=0.6)
        results.append((result.digits, result.reason, result.ok))
        await channel.hangup()

    app.control.set_incoming_handler(ivr)
    middle = "".join(info(key, 2 + i) for i, key in enumerate(keys))
    run = await caller(app, free_port(), tmp_path, middle).run()
    assert run.ok, run.errors
    assert results == [expected]
    await wait_for(lambda: any(isinstance(e, ev.CallEnded) for e in events))
    dtmf = [(e.digit, e.via) for e in events if isinstance(e, ev.DtmfReceived)]
    assert dtmf == [(key, "info") for key in keys]


async def test_rfc2833_digit_from_a_pcap_is_collected(
    app: Application, events: list[object], tmp_path: Path
) -> None:
    results = []

    async def ivr(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        result = await channel.collect_digits(1, 1, timeout=8)
        results.append(result.digits)
        await channel.hangup()

    app.control.set_incoming_handler(ivr)
    middle = """
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>
"""
    run = await caller(app, free_port(), tmp_path, middle).run()
    assert run.ok, run.errors
    assert results == ["1"]
    await wait_for(lambda: any(isinstance(e, ev.DtmfReceived) for e in events))
    assert [(e.digit, e.via) for e in events if isinstance(e, ev.DtmfReceived)] == [
        ("1", "rfc4733")
    ]


def bridged_and_recorded(
    app: Application, agent_ear: RtpPeer, codec: str, tmp_path: Path
) -> tuple[dict[str, Channel], Sipp]:
    """Each caller is answered, bridged to the agent's phone (returned, not started) and
    recorded; the channels appear as "caller" and "agent" once both are up."""
    agent_port = free_port()
    channels: dict[str, Channel] = {}

    async def acd(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        agent = await app.control.dial(f"sip:agent@127.0.0.1:{agent_port}", role="agent")
        await agent.wait_answered()
        app.control.bridge(channel, agent)
        channel.record()
        channels.update(caller=channel, agent=agent)

    app.control.set_incoming_handler(acd)
    fill = {"rtp_port": str(agent_ear.address[1]), "codec": codec}
    phone = Sipp(f"127.0.0.1:{app.sip.port}", "media_uas.xml", port=agent_port, fill=fill,
                 workdir=tmp_path)  # fmt: skip
    return channels, phone


async def test_caller_bridged_to_an_agent_is_recorded_in_stereo(
    app: Application, events: list[object], tmp_path: Path
) -> None:
    caller_ear, agent_ear = await RtpPeer.open(), await RtpPeer.open()
    channels, phone = bridged_and_recorded(app, agent_ear, "8", tmp_path)
    try:
        async with sipp_background(phone):
            calling = asyncio.ensure_future(caller(app, caller_ear.address[1], tmp_path).run())
            await wait_for(lambda: len(channels) == 2, timeout=10)
            voice, answer = tone_frames(500, 75), tone_frames(800, 75)
            for index in range(75):
                caller_ear.send_audio(voice[index], channels["caller"].session.local_address, 0)
                agent_ear.send_audio(answer[index], channels["agent"].session.local_address, 8)
                await asyncio.sleep(0.02)
            await channels["caller"].hangup()
            run = await calling
            assert run.ok, run.errors
            agent_run = await phone.wait(10)
            assert agent_run.ok, agent_run.errors
        await wait_for(lambda: any(isinstance(e, ev.RecordingFinished) for e in events))
    finally:
        caller_ear.close()
        agent_ear.close()

    assert level_at(agent_ear.audio(8)[4000:], 500) > 1500
    assert level_at(caller_ear.audio(0)[4000:], 800) > 1500
    [finished] = [e for e in events if isinstance(e, ev.RecordingFinished)]
    [stored] = await app.recordings.for_call(finished.call_id)
    assert stored.id == finished.recording_id
    assert stored.channels == 2
    assert 1200 <= stored.duration_ms <= 2500
    stereo = read_wav(app.recordings.file_of(stored), stereo=True)[4000:12000]
    assert level_at(stereo[:, 0], 500) > 1500
    assert level_at(stereo[:, 0], 800) < 300
    assert level_at(stereo[:, 1], 800) > 1500
    assert level_at(stereo[:, 1], 500) < 300
    assert app.media.sessions == {}


async def test_shutdown_does_not_wait_on_peers_that_vanished(
    app: Application, events: list[object], tmp_path: Path
) -> None:
    caller_ear, agent_ear = await RtpPeer.open(), await RtpPeer.open()
    channels, phone = bridged_and_recorded(app, agent_ear, "0", tmp_path)
    customer = caller(app, caller_ear.address[1], tmp_path)
    try:
        await phone.start()
        await customer.start()
        await wait_for(lambda: len(channels) == 2, timeout=10)
        for peer in (customer, phone):  # both phones lose power: nobody answers a BYE
            peer.kill()
            assert peer.process is not None
            await peer.process.wait()
        # a BYE nobody answers takes 32 s to time out; two of them, one after another, 64 s
        await asyncio.wait_for(app.control.close(grace=1.0), 10)
    finally:
        caller_ear.close()
        agent_ear.close()

    assert all(channel.ended for channel in channels.values())
    ended = [e for e in events if isinstance(e, ev.CallEnded)]
    assert sorted(e.leg_id for e in ended) == sorted(c.id for c in channels.values())
    assert {e.cause for e in ended} == {"system_shutdown"}
    [finished] = [e for e in events if isinstance(e, ev.RecordingFinished)]
    assert await app.recordings.for_call(finished.call_id)  # the recording was kept


def open_files(pid: int | str = "self") -> list[str]:
    names = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            names.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return sorted(names)


async def media_in_use(app: Application) -> tuple[int, list[str]]:
    """Port pairs the media plane holds, and the files its process holds open."""
    media = app.media
    if isinstance(media, RemoteMedia):
        assert media.pid is not None
        stats = await media.clock_stats()
        assert (stats["sessions"], stats["recorders"], stats["groups"]) == (0, 0, 0)
        return stats["ports_in_use"], open_files(media.pid)
    assert isinstance(media, MediaEngine)
    assert media.recorders == []
    assert media.groups == {}
    return media.ports.in_use, open_files()


@pytest.mark.slow
async def test_a_thousand_calls_leave_no_ports_tasks_or_files_behind(
    app: Application, tmp_path: Path
) -> None:
    beep = Audio(tone((1000,), 60), "beep")
    answered = 0

    async def ivr(channel: Channel, incoming: IncomingCall) -> None:
        nonlocal answered
        await channel.answer()
        answered += 1
        channel.record(channels=1)
        await channel.play(beep)
        await channel.hangup()

    app.control.set_incoming_handler(ivr)
    sink = await RtpPeer.open()
    await asyncio.sleep(0.1)
    sockets = sum(f.startswith("socket:") for f in open_files())
    _, media_files = await media_in_use(app)
    media_sockets = sum(f.startswith("socket:") for f in media_files)
    tasks = len(asyncio.all_tasks())
    try:
        run = await Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, calls=1000,
                         fill={"rtp_port": str(sink.address[1]), "codec": "0", "middle": ""},
                         extra=("-s", "95105", "-r", "40", "-l", "20", "-timeout", "170s"),
                         workdir=tmp_path).run(timeout=180)  # fmt: skip
    finally:
        sink.close()
    assert run.ok, run.errors
    assert answered == 1000
    await wait_for(lambda: not app.control.channels and not app.media.sessions, timeout=10)
    await wait_for(lambda: len(asyncio.all_tasks()) <= tasks, timeout=10)
    await asyncio.sleep(0.5)  # sockets report closed on the loop's next turns
    in_use, media_files = await media_in_use(app)
    assert in_use == 0
    assert sum(f.startswith("socket:") for f in media_files) <= media_sockets
    assert not [f for f in media_files if f.endswith(".wav")]
    files = open_files()
    # The database pool keeps its connections; sockets and recordings must all be closed.
    assert sum(f.startswith("socket:") for f in files) <= sockets
    assert not [f for f in files if f.endswith(".wav")]
    recorded = list(app.recordings.root.rglob("*.wav"))
    assert len(recorded) == 1000
