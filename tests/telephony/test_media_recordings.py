"""Recordings land in dated folders and are linked to their call in the database."""

from __future__ import annotations

import asyncio

from tests.telephony.media_peer import RtpPeer, step, tone_frames
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.media.wav import read_wav


async def test_a_recording_is_filed_by_date_and_linked_to_its_call(
    application: Application, clock: FixedClock
) -> None:
    engine = application.media
    store = application.recordings
    peer = await RtpPeer.open()
    try:
        session = await engine.open_session()
        path = store.new_path("call42", "leg1")
        assert path.parent == store.root / "2026" / "11" / "22"  # 10:00 in Shanghai
        recorder = engine.start_recording(session, path)
        voice = tone_frames(450, 50)
        await step(engine, 50, before=lambda i: peer.send_audio(voice[i], session.local_address))
        recorder.pause()
        await step(engine, 10)
        result = engine.close_session(session)[0]
        info = await store.add(result, "call42", clock.now(), leg_id="leg1")
    finally:
        peer.close()
        await asyncio.sleep(0)

    stored = await store.for_call("call42")
    assert stored == [info]
    assert info.path == "2026/11/22/100000-call42-leg1.wav"
    assert info.duration_ms == 1200
    assert info.channels == 2
    assert info.pauses == ((1.0, 1.2),)
    assert info.size_bytes == store.file_of(info).stat().st_size > 60 * 160 * 4
    assert read_wav(store.file_of(info), stereo=True).shape == (60 * 160, 2)
    assert await store.for_call("other") == []
