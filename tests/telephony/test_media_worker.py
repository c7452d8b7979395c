"""The media process's side of the socket: bad requests get clear errors, it keeps serving;
a broken frame ends the connection and every session with it."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.telephony.media_peer import random_range
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_protocol import frame, read_frame
from ticketline.telephony.media_worker import MediaWorker


class Controller:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.rid = 0

    async def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        self.rid += 1
        self.writer.write(frame({**message, "rid": self.rid}))
        while True:
            reply, _ = await asyncio.wait_for(read_frame(self.reader), 5)
            if reply.get("rid") == self.rid:
                return reply

    def tell(self, message: dict[str, Any]) -> None:
        self.writer.write(frame(message))


@pytest.fixture
async def worker(tmp_path: Path) -> AsyncIterator[tuple[MediaWorker, Controller]]:
    engine = MediaEngine("127.0.0.1", random_range(20), tmp_path / "moh")
    served = MediaWorker(engine)
    path = tmp_path / "media.sock"
    server = await asyncio.start_unix_server(served.serve, path=str(path))
    await engine.start()
    reader, writer = await asyncio.open_unix_connection(str(path))
    yield served, Controller(reader, writer)
    writer.close()
    await asyncio.wait_for(served.finished.wait(), 5)
    server.close()


async def test_bad_requests_are_answered_with_what_is_wrong_and_serving_goes_on(
    worker: tuple[MediaWorker, Controller],
) -> None:
    served, control = worker
    assert (await control.ask({"op": "transmogrify"}))["error"] == "unknown op 'transmogrify'"
    bad_codec = await control.ask({"op": "open", "sid": "s1", "pt": 18})
    assert bad_codec["error"] == "payload_type must be 0 (PCMU) or 8 (PCMA), got 18"
    assert served.engine.ports.in_use == 0  # the refused session took no port
    control.tell({"op": "play", "sid": "nobody", "pid": "p1", "key": "k"})  # no reply wanted
    control.tell({"op": "join", "sid": "nobody", "group": "g", "mode": "shouting"})
    opened = await control.ask({"op": "open", "sid": "s2"})
    assert opened["ok"]["port"] > 0
    wrong_mode = await control.ask({"op": "join", "sid": "s2", "group": "g", "mode": "shouting"})
    assert "shouting" in wrong_mode["error"]
    no_audio = await control.ask({"op": "play", "sid": "s2", "pid": "p2", "key": "missing"})
    assert no_audio["error"] == "no audio 'missing'"
    stats = (await control.ask({"op": "clock"}))["ok"]
    assert (stats["sessions"], stats["groups"]) == (1, 0)
    closed = await control.ask({"op": "close", "sid": "s2"})
    assert closed["ok"] == {"recordings": []}
    assert served.engine.sessions == {}


async def test_a_broken_frame_ends_the_connection_and_its_sessions(
    worker: tuple[MediaWorker, Controller],
) -> None:
    served, control = worker
    assert "ok" in await control.ask({"op": "open", "sid": "s1"})
    control.writer.write(struct.pack(">II", 10, 0) + b"not json!!")
    await asyncio.wait_for(served.finished.wait(), 5)
    assert served.engine.sessions == {}
    assert not served.engine.running
    assert await control.reader.read() == b""
