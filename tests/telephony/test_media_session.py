"""One media session against a real UDP peer on loopback: playback, latching, DTMF, bad input."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from tests.telephony.media_peer import (
    RtpPeer,
    level_at,
    media_engine,
    settle,
    step,
    tone_frames,
    wait_for,
)
from ticketline.media import g711
from ticketline.media.dtmf import DtmfReceiver, DtmfSender
from ticketline.media.rtcp import SenderReport, parse_compound
from ticketline.media.rtp import RtpPacket
from ticketline.media.tones import dtmf_tone
from ticketline.media.wav import WavWriter
from ticketline.telephony import media_ops
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_player import PromptUnavailable


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[MediaEngine]:
    async with media_engine(tmp_path) as media:
        yield media


@pytest.fixture
async def peer() -> AsyncIterator[RtpPeer]:
    rtp_peer = await RtpPeer.open()
    yield rtp_peer
    rtp_peer.close()


def write_prompt(path: Path, pcm: np.ndarray, rate: int = 8000) -> Path:
    with WavWriter(path) as writer:
        writer.write(pcm.astype(np.int16))
    return path


def sine(frequency: float, seconds: float, amplitude: float = 9000.0) -> np.ndarray:
    t = np.arange(int(8000 * seconds)) / 8000
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


async def test_prompt_reaches_the_peer_as_the_same_audio(
    engine: MediaEngine, peer: RtpPeer, tmp_path: Path
) -> None:
    prompt = sine(440, 0.5)
    audio = engine.prompts.load(write_prompt(tmp_path / "hello.wav", prompt))
    session = await engine.open_session(payload_type=0)
    session.set_remote(*peer.address)

    playing = asyncio.ensure_future(media_ops.play(session, audio))
    await step(engine, 30)
    outcome = await playing
    await wait_for(lambda: len(peer.received) >= 30)

    assert outcome.reason == "finished"
    assert outcome.played_ms == 500
    heard = peer.audio(0)[: prompt.size]
    expected = g711.ulaw_decode_array(g711.ulaw_encode_array(prompt))
    assert np.array_equal(heard, expected)
    sequences = [p.sequence for p in peer.received]
    stamps = [p.timestamp for p in peer.received]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))
    assert all((b - a) % 2**32 == 160 for a, b in itertools.pairwise(stamps))
    assert peer.received[0].marker
    assert {p.ssrc for p in peer.received} == {session.ssrc}


async def test_pcma_session_sends_a_law(engine: MediaEngine, peer: RtpPeer) -> None:
    session = await engine.open_session(payload_type=8)
    session.set_remote(*peer.address)
    audio = engine.prompts.load_or_default("/nonexistent/prompt.wav")[0]
    media_ops_task = asyncio.ensure_future(media_ops.play(session, audio))
    await step(engine, 25)
    await media_ops_task
    await wait_for(lambda: len(peer.received) >= 20)
    assert {p.payload_type for p in peer.received} == {8}
    assert level_at(peer.audio(8), 1000) > 1000  # the default tone


async def test_missing_prompt_plays_the_default_tone_and_says_why(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    audio, error = engine.prompts.load_or_default("/nonexistent/welcome.wav")
    assert error is not None
    assert "welcome.wav" in error
    with pytest.raises(PromptUnavailable, match=r"welcome\.wav"):
        engine.prompts.load("/nonexistent/welcome.wav")
    session = await engine.open_session()
    session.set_remote(*peer.address)
    task = asyncio.ensure_future(media_ops.play(session, audio, error=error))
    await step(engine, 25)
    outcome = await task
    assert outcome.error == error
    await wait_for(lambda: len(peer.received) >= 20)
    assert level_at(peer.audio(0), 1000) > 1000


async def test_oversized_or_broken_prompt_files_are_refused(
    engine: MediaEngine, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(PromptUnavailable, match=r"broken\.wav"):
        engine.prompts.load(broken)
    engine.prompts._max_seconds = 1.0
    with pytest.raises(PromptUnavailable, match="over the limit"):
        engine.prompts.load(write_prompt(tmp_path / "long.wav", sine(300, 2.0)))


async def test_symmetric_rtp_latches_to_the_first_source_and_ignores_others(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    intruder = await RtpPeer.open()
    try:
        session = await engine.open_session()
        session.set_remote("127.0.0.1", 9)  # what a NATed phone's SDP might say
        target = session.local_address
        voice = tone_frames(600, 10)
        await step(engine, 10, before=lambda i: peer.send_audio(voice[i], target))
        noise = tone_frames(1500, 5)
        await step(engine, 5, before=lambda i: intruder.send_audio(noise[i], target))
        await wait_for(lambda: len(peer.received) >= 10)
        assert session.remote == peer.address
        assert intruder.received == []
        assert session.stats.rx_foreign == 5
    finally:
        intruder.close()


async def test_bad_packets_are_counted_and_dropped(engine: MediaEngine, peer: RtpPeer) -> None:
    session = await engine.open_session()
    target = session.local_address
    peer.send_audio(tone_frames(500, 1)[0], target)  # latch first
    await settle()
    peer.send_raw(b"\x80\x00", target)  # too short
    peer.send_raw(b"\x40" + bytes(20), target)  # RTP version 1
    peer.send_raw(RtpPacket(18, 1, 1, peer.ssrc, bytes(20)).serialize(), target)  # G.729
    peer.send_raw(b"\xbf" + bytes(30), target)  # 15 CSRCs that are not there
    await wait_for(lambda: session.stats.rx_packets >= 4)
    await settle()
    assert session.stats.rx_malformed == 3
    assert session.stats.rx_wrong_type == 1
    await step(engine, 2)  # the clock goes on


async def test_reordered_packets_are_played_in_order(engine: MediaEngine, peer: RtpPeer) -> None:
    session = await engine.open_session()
    target = session.local_address
    frames = tone_frames(700, 6)
    packets = [
        RtpPacket(0, 100 + i, 160 * i, 7, g711.ulaw_encode(frames[i].tobytes())) for i in range(6)
    ]
    for index in (0, 2, 1, 3, 5, 4):
        peer.send_raw(packets[index].serialize(), target)
    await wait_for(lambda: session.stats.rx_packets == 6)
    heard = []
    for _ in range(8):
        engine.tick()
        if session.rx_frame is not None:
            heard.append(session.rx_frame)
    assert heard == [p.payload for p in packets]


async def test_a_talk_spurt_marker_does_not_change_what_is_played(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    session = await engine.open_session()
    frames = tone_frames(700, 4)
    packets = [
        RtpPacket(0, 200 + i, 160 * i, 9, g711.ulaw_encode(frames[i].tobytes()), marker=i == 2)
        for i in range(4)
    ]
    heard = []
    for count, packet in enumerate(packets, 1):
        peer.send_raw(packet.serialize(), session.local_address)
        await wait_for(lambda count=count: session.stats.rx_packets == count)
        engine.tick()
        heard.append(session.rx_frame)
    assert heard == [p.payload for p in packets]
    assert session.stats.rx_wrong_type == 0


async def test_rfc4733_digit_is_reported_once_despite_repeated_end_packets(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    session = await engine.open_session(dtmf_payload_type=101)
    heard: list[tuple[str, str]] = []
    session.digit_listeners.append(lambda s, digit, via: heard.append((digit, via)))
    target = session.local_address
    sender = DtmfSender(ssrc=peer.ssrc, payload_type=101)
    for seq_base, ts, digit in ((10, 8000, "5"), (30, 16000, "#")):
        train = sender.packets(digit, seq_base, ts)
        for packet in train + train[-3:]:  # end packets arrive six times
            peer.send_raw(packet.serialize(), target)
    await wait_for(lambda: len(heard) >= 2)
    await settle()
    assert heard == [("5", "rfc4733"), ("#", "rfc4733")]
    result = await media_ops.collect_digits(session, 1, 4, timeout=0.2, inter_digit_timeout=0.2)
    assert (result.digits, result.reason, result.ok) == ("5", "terminator", True)


async def test_inband_tones_are_detected_when_no_events_are_negotiated(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    session = await engine.open_session(dtmf_payload_type=None)
    target = session.local_address
    pcm = np.concatenate([dtmf_tone("7", 100, 60), dtmf_tone("3", 100, 60)])
    frames = [pcm[i : i + 160] for i in range(0, pcm.size - 159, 160)]
    await step(
        engine,
        len(frames) + 4,
        before=lambda i: i < len(frames) and peer.send_audio(frames[i], target),
    )  # type: ignore[func-returns-value]
    result = await media_ops.collect_digits(session, 2, 2, timeout=0.1)
    assert result.digits == "73"


async def test_collect_digits_timeouts_and_limits(engine: MediaEngine) -> None:
    session = await engine.open_session()
    nothing = await media_ops.collect_digits(session, 1, 3, timeout=0.05)
    assert (nothing.digits, nothing.reason, nothing.ok) == ("", "timeout", False)

    for digit in "1234":
        session.digit_received(digit, "info")
    most = await media_ops.collect_digits(session, 1, 3, timeout=1)
    assert (most.digits, most.reason) == ("123", "max_digits")
    session.digits.clear()

    async def type_slowly() -> None:
        session.digit_received("9", "info")
        await asyncio.sleep(0.3)
        session.digit_received("8", "info")

    typing = asyncio.ensure_future(type_slowly())
    short = await media_ops.collect_digits(session, 2, 4, timeout=1, inter_digit_timeout=0.1)
    await typing
    assert (short.digits, short.reason, short.ok) == ("9", "timeout", False)

    with pytest.raises(ValueError, match="max_digits"):
        await media_ops.collect_digits(session, 3, 2)
    with pytest.raises(ValueError, match="terminator"):
        await media_ops.collect_digits(session, 1, 2, terminator="x")

    waiting = asyncio.ensure_future(media_ops.collect_digits(session, 1, 2, timeout=5))
    await settle()
    engine.close_session(session)
    assert (await waiting).reason == "hangup"


async def test_a_digit_interrupts_an_interruptible_prompt(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    session = await engine.open_session()
    session.set_remote(*peer.address)
    audio = engine.prompts.load_or_default("/missing.wav")[0]
    playing = asyncio.ensure_future(media_ops.play(session, audio, interruptible_by_dtmf=True))
    await step(engine, 5)
    session.digit_received("2", "info")
    outcome = await playing
    assert (outcome.reason, outcome.digit) == ("interrupted", "2")
    assert 60 <= outcome.played_ms <= 120
    assert list(session.digits) == ["2"]  # kept for collect_digits


async def test_send_dtmf_goes_out_as_rfc4733_events(engine: MediaEngine, peer: RtpPeer) -> None:
    session = await engine.open_session(dtmf_payload_type=101)
    session.set_remote(*peer.address)
    sending = asyncio.ensure_future(media_ops.send_dtmf(session, "19"))
    await step(engine, 20)
    await sending
    await settle()
    receiver = DtmfReceiver()
    digits = []
    for packet in peer.received:
        if packet.payload_type == 101:
            digits += [
                e.digit
                for e in receiver.feed(packet.timestamp, packet.marker, packet.payload, 0.0)
                if type(e).__name__ == "DigitStarted"
            ]
    assert digits == ["1", "9"]
    sequences = [p.sequence for p in peer.received]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequences))


async def test_rtcp_sender_report_describes_what_was_sent(
    engine: MediaEngine, peer: RtpPeer
) -> None:
    session = await engine.open_session()
    session.set_remote(*peer.address)
    rtcp_peer = await RtpPeer.open()
    try:
        session._rtcp_remote = rtcp_peer.address
        await step(engine, 5)
        session.tick_rtcp()
        await wait_for(lambda: bool(rtcp_peer.raw))
        report = parse_compound(rtcp_peer.raw[0])[0]
        assert isinstance(report, SenderReport)
        assert report.ssrc == session.ssrc
        assert report.packet_count == 5
    finally:
        rtcp_peer.close()


async def test_the_clock_paces_packets_every_20_ms(engine: MediaEngine, peer: RtpPeer) -> None:
    session = await engine.open_session()
    session.set_remote(*peer.address)
    await engine.start()
    await wait_for(lambda: len(peer.received) >= 25)
    assert engine.clock.ticks >= 25
    assert engine.clock.resyncs == 0
