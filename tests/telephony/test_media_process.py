"""The media plane in its own process: a crash ends its calls cleanly and a new worker serves.

The call scenarios themselves (prompts, digits, bridges, recording, hold,
transfers, conferences, snooping) run against both planes in
test_control_calls.py and test_control_features.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telephony.conftest import start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, level_at, random_range, wait_for
from tests.telephony.sip_peers import needs_sipp
from tests.telephony.test_control_calls import caller
from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.media.tones import tone
from ticketline.telephony import cdr, media_client
from ticketline.telephony import control_events as ev
from ticketline.telephony.calls import LegFailed
from ticketline.telephony.control_channel import Channel
from ticketline.telephony.media_client import RemoteMedia
from ticketline.telephony.media_player import Audio
from ticketline.telephony.server import IncomingCall

pytestmark = [needs_sipp]


@pytest.fixture
async def app(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Application]:
    ports = random_range(200)
    application = await start_sip_app(
        sqlite_url, tmp_path / "var", rtp_port_first=ports.first, rtp_port_last=ports.last,
        media_process=True,
    )  # fmt: skip
    await application.media.start()
    yield application
    await application.control.close()
    await stop_sip_app(application)


def media_of(app: Application) -> RemoteMedia:
    assert isinstance(app.media, RemoteMedia)
    return app.media


async def test_a_media_process_crash_ends_its_calls_and_a_new_one_serves(
    app: Application, tmp_path: Path
) -> None:
    media = media_of(app)
    ended: list[ev.CallEnded] = []

    async def keep(event: ev.CallEnded) -> None:
        ended.append(event)

    app.bus.subscribe(ev.CallEnded, keep)
    music = Audio(tone((440,), 1000), "loop", loop=True)
    playing: list[Channel] = []

    async def ivr(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        playing.append(channel)
        await channel.play(music)

    app.control.set_incoming_handler(ivr)
    ear = await RtpPeer.open()
    try:
        calling = asyncio.ensure_future(caller(app, ear.address[1], tmp_path).run())
        await wait_for(lambda: len(ear.received) > 25, timeout=10)  # half a second of music
        first_pid = media.pid
        assert first_pid is not None
        os.kill(first_pid, signal.SIGKILL)
        run = await calling  # the caller is sent a BYE
        assert run.ok, run.errors
        await wait_for(lambda: media.running and media.pid != first_pid, timeout=10)
    finally:
        ear.close()
    assert [(e.cause, e.by) for e in ended] == [("media_failure", "local")]
    assert app.control.channels == {}
    assert media.sessions == {}
    assert media.restarts == 1

    async def find_failed_call() -> int:
        found = await cdr.search_calls(
            app.db, cdr.CdrQuery(end_cause="media_failure"), PageRequest(1, 10)
        )
        return len(found.items)

    for _ in range(50):
        if await find_failed_call() == 1:
            break
        await asyncio.sleep(0.1)
    assert await find_failed_call() == 1

    # The next caller is served by the new media process.
    answered: list[Channel] = []

    async def greet(channel: Channel, incoming: IncomingCall) -> None:
        await channel.answer()
        answered.append(channel)
        await channel.play(Audio(tone((880,), 600), "greeting"))
        await channel.hangup()

    app.control.set_incoming_handler(greet)
    ear = await RtpPeer.open()
    try:
        run = await caller(app, ear.address[1], tmp_path).run()
    finally:
        ear.close()
    assert run.ok, run.errors
    assert len(answered) == 1
    assert level_at(ear.audio(0)[:4800], 880) > 1500


async def test_closing_the_application_stops_the_media_process(app: Application) -> None:
    media = media_of(app)
    pid = media.pid
    assert pid is not None
    assert media.running
    await media.close()
    assert not media.running
    assert media.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_while_the_media_process_restarts_new_calls_fail_with_503(
    app: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = media_of(app)
    monkeypatch.setattr(media_client, "RESTART_DELAYS", (3.0,))
    pid = media.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: not media.running, timeout=5)
    with pytest.raises(LegFailed) as failed:
        await app.control.dial("sip:agent@127.0.0.1:5999", role="agent")
    assert failed.value.status == 503
    assert app.control.channels == {}
    await wait_for(lambda: media.running, timeout=10)
    session = await media.open_session()
    assert session.local_address[1] in range(media.port_range.first, media.port_range.last + 1)
    await media.end_session(session)
