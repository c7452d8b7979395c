"""Call control's side of a media process: `RemoteMedia` starts it, drives it, restarts it.

`RemoteMedia` is a `MediaPlane`: its sessions are `MediaSession`s whose
state call control reads (digits, what plays, the codec) kept here, while
every change goes to the worker as a message. Audio is sent once and then
named by key. If the worker dies, every session ends as if hung up, the
failure listeners (call control) end their calls with cause
`media_failure`, and a new worker is started; calls arriving meanwhile are
refused with 503 (`MediaUnavailable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ticketline.core.errors import TicketlineError
from ticketline.core.ids import new_id
from ticketline.media.mixer import PartyMode
from ticketline.telephony.media_mixing import MixGroup, MixGroups
from ticketline.telephony.media_moh import MohLibrary
from ticketline.telephony.media_plane import RecordingHandle
from ticketline.telephony.media_player import Audio, Cursor, PromptLibrary
from ticketline.telephony.media_ports import NoPortsAvailable, PortRange
from ticketline.telephony.media_protocol import Message, ProtocolError, frame, read_frame
from ticketline.telephony.media_recorder import PauseMarker, RecordingResult
from ticketline.telephony.media_session import MediaSession, PlayOutcome, _Playing

log = logging.getLogger(__name__)

CONNECT_SECONDS = 15.0
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class MediaUnavailable(TicketlineError):
    """The media process is not running (starting, or restarting after a failure)."""

    code = "media_unavailable"
    status = 503


class _Link:
    """One connection to a worker: requests with replies, events, and its end."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: Callable[[Message], None],
    ) -> None:
        self._writer = writer
        self._on_event = on_event
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._read(reader), name="media-link")

    def send(self, message: Message, blob: bytes = b"") -> None:
        if not self.closed.is_set():
            self._writer.write(frame(message, blob))

    def request(self, message: Message, blob: bytes = b"") -> asyncio.Future[Any]:
        """Send a request; the future gets its `ok` value or raises its error."""
        if self.closed.is_set():
            raise MediaUnavailable("the media process is not running")
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self.send({**message, "rid": rid}, blob)
        return future

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message, _ = await read_frame(reader)
                if "ev" in message:
                    self._on_event(message)
                else:
                    self._reply(message)
        except (asyncio.IncompleteReadError, ConnectionError, ProtocolError) as exc:
            if not self._closing:
                log.warning("media process connection ended: %r", exc)
        finally:
            self.closed.set()
            self._writer.close()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(MediaUnavailable("the media process went away"))
            self._pending.clear()

    def _reply(self, message: Message) -> None:
        future = self._pending.pop(int(message.get("rid", 0)), None)
        if future is None or future.done():
            return
        if "error" not in message:
            future.set_result(message.get("ok"))
        elif message.get("code") == "no_ports":
            future.set_exception(NoPortsAvailable(str(message["error"])))
        else:
            future.set_exception(ValueError(str(message["error"])))

    async def close(self) -> None:
        self._closing = True
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._task


class RemoteSession(MediaSession):
    """A session in the worker; the state call control reads is mirrored here."""

    def __init__(self, media: RemoteMedia, session_id: str, host: str, port: int) -> None:
        super().__init__(session_id, host, port)
        self._media = media
        self._plays: dict[str, asyncio.Future[PlayOutcome]] = {}
        self._play_id: str | None = None
        self._dtmf: set[asyncio.Future[None]] = set()

    def _tell(self, message: Message) -> None:
        self._media.send({**message, "sid": self.id})

    @property
    def sending(self) -> bool:
        return self._sending

    @sending.setter
    def sending(self, on: bool) -> None:
        changed = on != getattr(self, "_sending", None)
        self._sending = on
        if changed and hasattr(self, "_media"):
            self._tell({"op": "sending", "on": on})

    def set_remote(self, host: str, port: int) -> None:
        super().set_remote(host, port)
        self._tell({"op": "remote", "host": host, "port": port})

    def set_codec(self, payload_type: int, dtmf_payload_type: int | None) -> None:
        super().set_codec(payload_type, dtmf_payload_type)
        self._tell({"op": "codec", "pt": payload_type, "dtmf": dtmf_payload_type})

    # -- playback -----------------------------------------------------------------

    def start_playing(
        self, audio: Audio, *, interruptible: bool = False, error: str | None = None
    ) -> asyncio.Future[PlayOutcome]:
        self.playing = None  # the worker stops what plays when the new one starts
        future: asyncio.Future[PlayOutcome] = asyncio.get_running_loop().create_future()
        if self.closed:
            future.set_result(PlayOutcome("hangup", 0, error=error))
            return future
        key = self._media.audio_key(audio)
        play_id = new_id()
        self._plays[play_id] = future
        self._play_id = play_id
        self.playing = _Playing(Cursor(audio, self.payload_type), future, interruptible, error)
        message = {"op": "play", "pid": play_id, "key": key, "interruptible": interruptible}
        self._tell({**message, "error": error})
        return future

    def stop_playing(self, reason: str, digit: str | None = None) -> None:
        if self.playing is not None and not self.closed:
            self._tell({"op": "stop", "pid": self._play_id, "reason": reason, "digit": digit})
        self.playing = None

    def played(self, message: Message) -> None:
        """The worker says how a playback ended."""
        future = self._plays.pop(str(message["pid"]), None)
        if future is None:
            return
        if self.playing is not None and self.playing.future is future:
            self.playing = None
        if not future.done():
            outcome = PlayOutcome(
                str(message["reason"]), int(message["played_ms"]), message.get("digit"),
                message.get("error"),
            )  # fmt: skip
            future.set_result(outcome)

    # -- digits -------------------------------------------------------------------

    def digit_received(self, digit: str, via: str) -> None:
        """A digit from the signalling (SIP INFO): the worker handles it as its own."""
        self._tell({"op": "digit", "digit": digit, "via": via})

    def worker_digit(self, digit: str, via: str) -> None:
        """The worker received a digit (or echoes one we sent it). It has already
        stopped an interruptible prompt; the stop sent from here finds it over."""
        super().digit_received(digit, via)

    def queue_event(self, digit: str, duration_ms: int) -> asyncio.Future[None]:
        self.check_event(digit, duration_ms)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._dtmf.add(done)
        sent = self._media.request(
            {"op": "dtmf", "sid": self.id, "digit": digit, "ms": duration_ms}
        )
        sent.add_done_callback(lambda reply: self._dtmf_done(done, reply))
        return done

    def _dtmf_done(
        self, done: asyncio.Future[None], reply: asyncio.Future[Any] | None = None
    ) -> None:
        if reply is not None and not reply.cancelled() and reply.exception() is not None:
            log.info("digit not sent on %s: %s", self.id, reply.exception())
        self._dtmf.discard(done)
        if not done.done():
            done.set_result(None)

    # -- closing ------------------------------------------------------------------

    def close(self) -> None:
        """Closed from now on for call control; `finish` settles what was pending."""
        if self.closed:
            return
        self.closed = True
        self.playing = None
        waiter = self.digit_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def finish(self, played: Message | None) -> None:
        """Settle every pending playback and digit once the worker has closed the session."""
        if played is not None:
            self.played(played)
        for future in self._plays.values():
            if not future.done():
                future.set_result(PlayOutcome("hangup", 0))
        self._plays.clear()
        for done in list(self._dtmf):
            self._dtmf_done(done)

    def tick_rx(self) -> None:
        raise RuntimeError("a remote session is ticked by its media process")

    tick_tx = tick_rx


class RemoteGroup(MixGroup):
    """A mix group in the worker; membership is mirrored for `group_of`."""

    def __init__(self, media: RemoteMedia, group_id: str) -> None:
        super().__init__(group_id)
        self._media = media

    def set_muted(self, session: MediaSession, muted: bool) -> None:
        super().set_muted(session, muted)
        self._media.send({"op": "mute", "sid": session.id, "muted": muted})

    def tick(self) -> None:
        raise RuntimeError("a remote group is mixed by its media process")


class RemoteRecorder:
    """A recording the worker writes; pausing and resuming are messages."""

    def __init__(self, media: RemoteMedia, key: str, path: Path, session: MediaSession) -> None:
        self._media = media
        self.key = key
        self.path = path
        self.session = session
        self.paused = False

    def pause(self) -> None:
        if not self.paused:
            self.paused = True
            self._media.send({"op": "pause", "rec": self.key})

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._media.send({"op": "resume", "rec": self.key})


def _result(message: Message) -> RecordingResult:
    pauses = tuple(PauseMarker(float(a), float(b)) for a, b in message["pauses"])
    return RecordingResult(
        Path(message["path"]), int(message["channels"]), int(message["duration_ms"]), pauses
    )


class RemoteMedia:
    """The media plane in a worker process this object starts and supervises."""

    def __init__(
        self,
        host: str,
        ports: PortRange,
        moh_dir: Path,
        socket_path: Path | None = None,
        *,
        realtime: bool = False,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self.host = host
        self.port_range = ports
        self.moh_dir = moh_dir
        self._socket_path = socket_path
        self._own_dir: Path | None = None
        self.realtime = realtime
        self.prompts = prompts or PromptLibrary()
        self.moh = MohLibrary(moh_dir, self.prompts)
        self.failure_listeners: list[Callable[[], None]] = []
        self.sessions: dict[str, RemoteSession] = {}
        self.restarts = 0
        self._groups = MixGroups(lambda group_id: RemoteGroup(self, group_id))
        self._audio_keys: weakref.WeakKeyDictionary[Audio, str] = weakref.WeakKeyDictionary()
        self._link: _Link | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False

    # -- the process ----------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker and watch it (idempotent); raises if it cannot start."""
        if self._supervisor is None:
            await self._spawn()
            self._supervisor = asyncio.get_running_loop().create_task(
                self._supervise(), name="media-supervisor"
            )

    @property
    def socket_path(self) -> Path:
        """Where the worker listens: by default a private directory made on first start
        (short, as a Unix socket path holds at most 107 bytes)."""
        if self._socket_path is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="tl-media-"))
            self._socket_path = self._own_dir / "sock"
        return self._socket_path

    @property
    def running(self) -> bool:
        return self._link is not None and not self._link.closed.is_set()

    @property
    def pid(self) -> int | None:
        """The worker's process id (tests kill it to prove recovery)."""
        return None if self._process is None else self._process.pid

    async def _spawn(self) -> None:
        command = [
            sys.executable, "-m", "ticketline.telephony.media_worker",
            "--socket", str(self.socket_path), "--host", self.host,
            "--ports", f"{self.port_range.first}-{self.port_range.last}",
            "--moh-dir", str(self.moh_dir),
        ] + (["--realtime"] if self.realtime else [])  # fmt: skip
        self._process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL
        )
        try:
            reader, writer = await self._connect(self._process)
        except BaseException:
            await self._stop_process()
            raise
        self._audio_keys = weakref.WeakKeyDictionary()  # a new worker holds no audio
        self._link = _Link(reader, writer, self._event)
        log.info("media process %d serving on %s", self._process.pid, self.socket_path)

    async def _connect(
        self, process: asyncio.subprocess.Process
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONNECT_SECONDS
        while True:
            if process.returncode is not None:
                raise MediaUnavailable(f"the media process exited with {process.returncode}")
            try:
                return await asyncio.open_unix_connection(str(self.socket_path))
            except (FileNotFoundError, ConnectionRefusedError):
                if loop.time() > deadline:
                    raise MediaUnavailable("the media process did not start listening") from None
                await asyncio.sleep(0.05)

    async def _supervise(self) -> None:
        attempt = 0
        while not self._closing:
            assert self._link is not None
            await self._link.closed.wait()
            if self._closing:
                return
            log.error("media process lost; ending its calls and starting a new one")
            self._lost()
            await self._stop_process()
            while not self._closing:
                await asyncio.sleep(RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)])
                attempt += 1
                try:
                    await self._spawn()
                except (MediaUnavailable, OSError) as exc:
                    log.error("media process did not start: %s", exc)
                    continue
                self.restarts += 1
                attempt = 0
                break

    def _lost(self) -> None:
        for session in list(self.sessions.values()):
            session.close()
            session.finish(None)
        self.sessions.clear()
        self._groups.clear()
        for listener in self.failure_listeners:
            try:
                listener()
            except Exception:
                log.exception("media failure listener failed")

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()

    async def close(self) -> list[RecordingResult]:
        """End every session (their recordings are finished), then stop the worker."""
        finished: list[RecordingResult] = []
        for session in list(self.sessions.values()):
            with contextlib.suppress(MediaUnavailable):
                finished += await self.end_session(session)
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._link is not None:
            await self._link.close()
            self._link = None
        await self._stop_process()
        self._closing = False
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = self._socket_path = None
        return finished

    # -- messages -------------------------------------------------------------------

    def send(self, message: Message, blob: bytes = b"") -> None:
        """A request with no reply (dropped while no worker runs: its sessions are over)."""
        if self._link is not None:
            self._link.send(message, blob)

    def request(self, message: Message) -> asyncio.Future[Any]:
        if self._link is None:
            raise MediaUnavailable("the media process is not running")
        return self._link.request(message)

    def _event(self, message: Message) -> None:
        session = self.sessions.get(str(message.get("sid")))
        if session is None:
            return
        if message["ev"] == "digit":
            session.worker_digit(str(message["digit"]), str(message["via"]))
        elif message["ev"] == "played":
            session.played(message)

    def audio_key(self, audio: Audio) -> str:
        """The key the worker knows `audio` by, sending it the first time."""
        key = self._audio_keys.get(audio)
        if key is None:
            key = self._audio_keys[audio] = new_id()
            pcm = audio.pcm.astype("<i2").tobytes()
            self.send({"op": "audio", "key": key, "name": audio.name, "loop": audio.loop}, pcm)
            weakref.finalize(audio, self.send, {"op": "forget", "key": key})
        return key

    async def clock_stats(self) -> Message:
        """The worker's figures: its clock (ticks, late ticks, busy seconds) and what is open."""
        result: Message = await self.request({"op": "clock"})
        return result

    # -- sessions -------------------------------------------------------------------

    async def open_session(
        self,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        session_id: str | None = None,
    ) -> MediaSession:
        session_id = session_id or new_id()
        opened = await self.request(
            {"op": "open", "sid": session_id, "pt": payload_type, "dtmf": dtmf_payload_type}
        )
        session = RemoteSession(self, session_id, str(opened["host"]), int(opened["port"]))
        session.ssrc = int(opened["ssrc"])
        if (payload_type, dtmf_payload_type) != (0, 101):
            MediaSession.set_codec(session, payload_type, dtmf_payload_type)
        self.sessions[session_id] = session
        return session

    async def end_session(self, session: MediaSession) -> list[RecordingResult]:
        assert isinstance(session, RemoteSession)
        if session.closed:
            return []
        session.close()
        self.leave(session, tell=False)
        self.sessions.pop(session.id, None)
        try:
            closed = await self.request({"op": "close", "sid": session.id})
        except (MediaUnavailable, ValueError) as exc:
            log.warning("media session %s did not close cleanly: %s", session.id, exc)
            session.finish(None)
            return []
        session.finish(closed.get("played"))
        return [_result(r) for r in closed["recordings"]]

    # -- mixing ---------------------------------------------------------------------

    def join(
        self,
        group_id: str,
        session: MediaSession,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: MediaSession | None = None,
        muted: bool = False,
    ) -> MixGroup:
        # The mirror checks the whisper target; the worker leaves the old group itself.
        group = self._groups.join(group_id, session, mode, whisper_to, muted)
        self.send(
            {
                "op": "join", "sid": session.id, "group": group_id, "mode": mode.value,
                "whisper_to": None if whisper_to is None else whisper_to.id,
            }
        )  # fmt: skip
        if muted:
            group.set_muted(session, True)
        return group

    def leave(self, session: MediaSession, *, tell: bool = True) -> None:
        if self._groups.leave(session) is not None and tell:
            self.send({"op": "leave", "sid": session.id})

    def group_of(self, session: MediaSession) -> MixGroup | None:
        return self._groups.of(session)

    @property
    def groups(self) -> dict[str, RemoteGroup]:
        """The mirrored groups by id."""
        return self._groups.by_id

    def bridge(self, a: MediaSession, b: MediaSession) -> MixGroup:
        group_id = f"bridge-{new_id()}"
        self.join(group_id, a)
        return self.join(group_id, b)

    # -- recording ------------------------------------------------------------------

    def start_recording(
        self, session: MediaSession, path: str | os.PathLike[str], channels: int = 2
    ) -> RecordingHandle:
        if session.closed:
            raise ValueError(f"session {session.id} is closed")
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        recorder = RemoteRecorder(self, new_id(), Path(path), session)
        self.send(
            {
                "op": "record", "sid": session.id, "rec": recorder.key,
                "path": str(path), "channels": channels,
            }
        )  # fmt: skip
        return recorder

    async def end_recording(self, recording: RecordingHandle) -> RecordingResult:
        if not isinstance(recording, RemoteRecorder):
            raise TypeError(f"not a recording of this media process: {recording!r}")
        finished = await self.request({"op": "unrecord", "rec": recording.key})
        return _result(finished)
