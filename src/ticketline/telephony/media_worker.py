"""The media process: a `MediaEngine` driven over a Unix socket by one call control.

`ticketline media` runs this. It owns the RTP port range and the 20 ms clock
in a process of its own, so that nothing the web side does (a request holds
the event loop for 10-20 ms) can delay a tick. Call control in the serving
process connects once and sends the requests of `media_protocol`; the worker
answers and reports digits, finished playbacks and sent DTMF as events.
When that connection ends, for whatever reason, the worker closes every
session (finishing their recordings) and exits: it never outlives its caller.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import uvloop

from ticketline.core.gc_tuning import tune_gc
from ticketline.media.mixer import PartyMode
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_player import Audio
from ticketline.telephony.media_ports import NoPortsAvailable, PortRange
from ticketline.telephony.media_protocol import Message, ProtocolError, frame, read_frame
from ticketline.telephony.media_recorder import Recorder, RecordingResult
from ticketline.telephony.media_session import MediaSession, PlayOutcome

log = logging.getLogger(__name__)

FIRST_CONNECT_SECONDS = 30.0


class RequestError(Exception):
    """A request that names something unknown or cannot be done (replied as `error`)."""


def result_message(result: RecordingResult) -> Message:
    """A finished recording as the client rebuilds it."""
    return {
        "path": str(result.path),
        "channels": result.channels,
        "duration_ms": result.duration_ms,
        "pauses": [[p.start, p.end] for p in result.pauses],
    }


def played_message(session_id: str, play_id: str, outcome: PlayOutcome) -> Message:
    """How a playback ended, as the client's `RemoteSession.played` reads it."""
    return {
        "ev": "played",
        "sid": session_id,
        "pid": play_id,
        "reason": outcome.reason,
        "played_ms": outcome.played_ms,
        "digit": outcome.digit,
        "error": outcome.error,
    }


class MediaWorker:
    """Serves one controlling connection at a time on top of an engine."""

    def __init__(self, engine: MediaEngine) -> None:
        self.engine = engine
        self.connected = asyncio.Event()
        self.finished = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._audio: dict[str, Audio] = {}
        self._plays: dict[str, str] = {}  # session id -> id of the playback it runs
        self._recorders: dict[str, Recorder] = {}
        self._ops: dict[str, Callable[[Message, bytes], Any]] = {
            "audio": self._op_audio,
            "forget": self._op_forget,
            "remote": self._op_remote,
            "codec": self._op_codec,
            "sending": self._op_sending,
            "play": self._op_play,
            "stop": self._op_stop,
            "digit": self._op_digit,
            "dtmf": self._op_dtmf,
            "join": self._op_join,
            "leave": self._op_leave,
            "mute": self._op_mute,
            "record": self._op_record,
            "pause": self._op_pause,
            "resume": self._op_resume,
            "unrecord": self._op_unrecord,
            "close": self._op_close,
            "clock": self._op_clock,
        }

    # -- the connection ---------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Handle one call control until it disconnects; a second one is refused."""
        if self._writer is not None:
            writer.close()
            return
        self._writer = writer
        self.connected.set()
        try:
            while True:
                message, blob = await read_frame(reader)
                await self._handle(message, blob)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.info("call control disconnected")
        except ProtocolError as exc:
            log.error("call control sent a bad frame, disconnecting: %s", exc)
        finally:
            self._writer = None
            await self.engine.close()
            writer.close()
            self.finished.set()

    async def _handle(self, message: Message, blob: bytes) -> None:
        rid = message.get("rid")
        try:
            if message.get("op") == "open":
                result = await self._op_open(message)
            else:
                op = self._ops.get(str(message.get("op")))
                if op is None:
                    raise RequestError(f"unknown op {message.get('op')!r}")
                result = op(message, blob)
        except (RequestError, ValueError, KeyError, TypeError, OSError, NoPortsAvailable) as exc:
            code = "no_ports" if isinstance(exc, NoPortsAvailable) else "failed"
            if rid is None:
                log.warning("media request %s failed: %s", message.get("op"), exc)
            else:
                self._send({"rid": rid, "error": str(exc), "code": code})
            return
        if rid is not None and result is not _LATER:
            self._send({"rid": rid, "ok": result})

    def _send(self, message: Message) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(frame(message))

    # -- sessions -----------------------------------------------------------------------

    def _session(self, message: Message) -> MediaSession:
        session = self.engine.sessions.get(str(message.get("sid")))
        if session is None:
            raise RequestError(f"no session {message.get('sid')!r}")
        return session

    async def _op_open(self, message: Message) -> Message:
        session = await self.engine.open_session(
            int(message.get("pt", 0)), message.get("dtmf", 101), str(message["sid"])
        )
        session.digit_listeners.append(self._digit)
        host, port = session.local_address
        return {"host": host, "port": port, "ssrc": session.ssrc}

    def _digit(self, session: MediaSession, digit: str, via: str) -> None:
        session.digits.clear()  # the caller's type-ahead lives in call control
        self._send({"ev": "digit", "sid": session.id, "digit": digit, "via": via})

    def _op_close(self, message: Message, _: bytes) -> Message:
        session = self._session(message)
        play_id, playing = self._plays.pop(session.id, None), session.playing
        for key, recorder in list(self._recorders.items()):
            if recorder.session is session:
                del self._recorders[key]
        results = self.engine.close_session(session)
        reply: Message = {"recordings": [result_message(r) for r in results]}
        if play_id is not None and playing is not None and playing.future.done():
            # Its outcome goes in the reply, so the caller has it when close returns.
            reply["played"] = played_message(session.id, play_id, playing.future.result())
        return reply

    def _op_remote(self, message: Message, _: bytes) -> None:
        self._session(message).set_remote(str(message["host"]), int(message["port"]))

    def _op_codec(self, message: Message, _: bytes) -> None:
        self._session(message).set_codec(int(message["pt"]), message.get("dtmf"))

    def _op_sending(self, message: Message, _: bytes) -> None:
        self._session(message).sending = bool(message["on"])

    # -- playback and digits ---------------------------------------------------------------

    def _op_audio(self, message: Message, blob: bytes) -> None:
        pcm = np.frombuffer(blob, dtype="<i2").astype(np.int16)
        audio = Audio(pcm, str(message["name"]), bool(message.get("loop", False)))
        self._audio[str(message["key"])] = audio

    def _op_forget(self, message: Message, _: bytes) -> None:
        self._audio.pop(str(message["key"]), None)

    def _op_play(self, message: Message, _: bytes) -> None:
        session = self._session(message)
        audio = self._audio.get(str(message["key"]))
        if audio is None:
            raise RequestError(f"no audio {message['key']!r}")
        play_id = str(message["pid"])
        future = session.start_playing(
            audio, interruptible=bool(message.get("interruptible")), error=message.get("error")
        )
        self._plays[session.id] = play_id
        future.add_done_callback(lambda done: self._played(session.id, play_id, done.result()))

    def _played(self, session_id: str, play_id: str, outcome: PlayOutcome) -> None:
        if self._plays.get(session_id) == play_id:
            del self._plays[session_id]
        self._send(played_message(session_id, play_id, outcome))

    def _op_stop(self, message: Message, _: bytes) -> None:
        session = self._session(message)
        if self._plays.get(session.id) == message.get("pid"):
            session.stop_playing(str(message.get("reason", "stopped")), message.get("digit"))

    def _op_digit(self, message: Message, _: bytes) -> None:
        self._session(message).digit_received(str(message["digit"]), str(message["via"]))

    def _op_dtmf(self, message: Message, _: bytes) -> object:
        session = self._session(message)
        future = session.queue_event(str(message["digit"]), int(message["ms"]))
        rid = message.get("rid")
        future.add_done_callback(lambda _: self._send({"rid": rid, "ok": None}))
        return _LATER

    # -- mixing -----------------------------------------------------------------------------

    def _op_join(self, message: Message, _: bytes) -> None:
        session = self._session(message)
        whisper = message.get("whisper_to")
        whisper_to = None if whisper is None else self._session({"sid": whisper})
        mode = PartyMode(message.get("mode", PartyMode.NORMAL.value))
        self.engine.join(str(message["group"]), session, mode, whisper_to)

    def _op_leave(self, message: Message, _: bytes) -> None:
        self.engine.leave(self._session(message))

    def _op_mute(self, message: Message, _: bytes) -> None:
        session = self._session(message)
        group = self.engine.group_of(session)
        if group is not None:
            group.set_muted(session, bool(message["muted"]))

    # -- recording --------------------------------------------------------------------------

    def _op_record(self, message: Message, _: bytes) -> None:
        session = self._session(message)
        recorder = self.engine.start_recording(
            session, str(message["path"]), int(message["channels"])
        )
        self._recorders[str(message["rec"])] = recorder

    def _recorder(self, message: Message) -> Recorder:
        recorder = self._recorders.get(str(message.get("rec")))
        if recorder is None:
            raise RequestError(f"no recording {message.get('rec')!r}")
        return recorder

    def _op_pause(self, message: Message, _: bytes) -> None:
        self._recorder(message).pause()

    def _op_resume(self, message: Message, _: bytes) -> None:
        self._recorder(message).resume()

    def _op_unrecord(self, message: Message, _: bytes) -> Message:
        recorder = self._recorder(message)
        del self._recorders[str(message["rec"])]
        return result_message(self.engine.stop_recording(recorder))

    def _op_clock(self, _: Message, __: bytes) -> Message:
        clock = self.engine.clock
        return {
            "ticks": clock.ticks,
            "late_ticks": clock.late_ticks,
            "resyncs": clock.resyncs,
            "busy_seconds": clock.busy_seconds,
            "max_tick_seconds": clock.max_tick_seconds,
            "sessions": len(self.engine.sessions),
            "ports_in_use": self.engine.ports.in_use,
            "recorders": len(self.engine.recorders),
            "groups": len(self.engine.groups),
        }


_LATER = object()  # the reply is sent when the operation completes


def make_realtime() -> None:
    """Run the media clock ahead of ordinary processes (SCHED_FIFO needs root)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (PermissionError, AttributeError, OSError) as exc:
        log.warning("media process stays at normal priority: %s", exc)


async def run_media_worker(
    socket_path: Path, host: str, ports: PortRange, moh_dir: Path, *, realtime: bool = False
) -> None:
    """Serve call control on `socket_path` until it disconnects (or never connects)."""
    if realtime:
        make_realtime()
    engine = MediaEngine(host, ports, moh_dir)
    worker = MediaWorker(engine)
    server = await asyncio.start_unix_server(worker.serve, path=str(socket_path))
    os.chmod(socket_path, 0o600)
    await engine.start()
    gc.freeze()
    tune_gc()
    try:
        await asyncio.wait_for(worker.connected.wait(), FIRST_CONNECT_SECONDS)
        await worker.finished.wait()
    except TimeoutError:
        log.error("no call control connected within %.0f s", FIRST_CONNECT_SECONDS)
    finally:
        server.close()
        await engine.close()


def main(argv: list[str] | None = None) -> None:
    """`python -m ticketline.telephony.media_worker`: what call control spawns."""
    parser = argparse.ArgumentParser(description="Ticketline media process")
    parser.add_argument("--socket", type=Path, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--ports", required=True, help="first-last RTP port")
    parser.add_argument("--moh-dir", type=Path, required=True)
    parser.add_argument("--realtime", action="store_true")
    args = parser.parse_args(argv)
    first, _, last = args.ports.partition("-")
    logging.basicConfig(level=logging.INFO, format="media %(levelname)s %(name)s: %(message)s")
    args.socket.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        args.socket.unlink()  # left by a worker that died
    uvloop.install()
    asyncio.run(
        run_media_worker(
            args.socket,
            args.host,
            PortRange(int(first), int(last)),
            args.moh_dir,
            realtime=args.realtime,
        )
    )


if __name__ == "__main__":
    main()
