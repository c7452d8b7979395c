"""The media engine: RTP sessions, one 20 ms clock for all of them, mixing and recording.

Every tick runs four passes over flat lists, with no task or timer per call:
1. each session takes its received frame (and looks for in-band DTMF),
2. each mix group (bridge, conference, snoop) computes what its members hear,
3. each session sends one packet (digit, playback, mix or silence),
4. each recorder takes the frames just received and sent.
The clock schedules against absolute deadlines (`start + n * 20 ms`), so
lateness of one tick is not carried into the next; after a stall of more than
`MAX_CATCH_UP` ticks it resynchronises instead of sending a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ticketline.core.ids import new_id
from ticketline.media.mixer import PartyMode
from ticketline.telephony.media_mixing import MixGroup, MixGroups
from ticketline.telephony.media_moh import MohLibrary
from ticketline.telephony.media_plane import RecordingHandle
from ticketline.telephony.media_player import PromptLibrary, check_codec
from ticketline.telephony.media_ports import PortAllocator, PortRange, open_endpoint
from ticketline.telephony.media_recorder import Recorder, RecordingResult
from ticketline.telephony.media_session import MediaSession, SessionProtocol

log = logging.getLogger(__name__)

TICK = 0.020
MAX_CATCH_UP = 5
RTCP_EVERY_TICKS = 250  # 5 s


@dataclass(slots=True)
class ClockStats:
    """How well the clock keeps time."""

    ticks: int = 0
    late_ticks: int = 0
    resyncs: int = 0
    busy_seconds: float = 0.0
    max_tick_seconds: float = 0.0


class MediaEngine:
    """Owns the RTP port range, the sessions and the media clock of one process."""

    def __init__(
        self,
        host: str,
        ports: PortRange,
        moh_dir: Path,
        *,
        prompts: PromptLibrary | None = None,
    ) -> None:
        self.host = host
        self.ports = PortAllocator(ports, host)
        self.prompts = prompts or PromptLibrary()
        self.moh = MohLibrary(moh_dir, self.prompts)
        self.clock = ClockStats()
        self.sessions: dict[str, MediaSession] = {}
        self._groups = MixGroups(MixGroup)
        self.recorders: list[Recorder] = []
        self._session_list: list[MediaSession] = []
        self._task: asyncio.Task[None] | None = None
        self.failure_listeners: list[Callable[[], None]] = []  # never called: no process to lose

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Start the clock (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="media-clock")

    async def close(self) -> list[RecordingResult]:
        """Stop the clock, close every session and finish every recording."""
        finished: list[RecordingResult] = []
        for session in list(self.sessions.values()):
            finished += self.close_session(session)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        return finished

    @property
    def running(self) -> bool:
        """True while the clock runs."""
        return self._task is not None and not self._task.done()

    # -- sessions -------------------------------------------------------------

    async def open_session(
        self,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        session_id: str | None = None,
    ) -> MediaSession:
        """Allocate a port pair and open a session on it (ValueError for a bad codec)."""
        check_codec(payload_type)  # before any port is taken
        port, rtp_sock, rtcp_sock = self.ports.allocate()
        session = MediaSession(
            session_id or new_id(), self.host, port, payload_type, dtmf_payload_type
        )
        closing = [2]

        def socket_closed() -> None:
            closing[0] -= 1
            if closing[0] == 0:
                self.ports.release(port)

        try:
            rtp = await open_endpoint(
                rtp_sock, SessionProtocol(session.rtp_received, socket_closed)
            )
            rtcp = await open_endpoint(
                rtcp_sock, SessionProtocol(session.rtcp_received, socket_closed)
            )
        except BaseException:
            rtp_sock.close()
            rtcp_sock.close()
            self.ports.release(port)
            raise
        session.attach(rtp, rtcp, rtp_sock)
        self.sessions[session.id] = session
        self._session_list = list(self.sessions.values())
        return session

    def close_session(self, session: MediaSession) -> list[RecordingResult]:
        """Close a session: leave its group, finish its recordings, free its ports."""
        finished = [self.stop_recording(r) for r in list(session.recorders)]
        self.leave(session)
        session.close()  # the ports are released when both sockets report closed
        if self.sessions.pop(session.id, None) is not None:
            self._session_list = list(self.sessions.values())
        return finished

    async def end_session(self, session: MediaSession) -> list[RecordingResult]:
        """`close_session`, as the media plane protocol has it."""
        return self.close_session(session)

    # -- mixing ---------------------------------------------------------------

    def join(
        self,
        group_id: str,
        session: MediaSession,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: MediaSession | None = None,
        muted: bool = False,
    ) -> MixGroup:
        """Put a session in a group (created on first use), leaving any other group."""
        return self._groups.join(group_id, session, mode, whisper_to, muted)

    def leave(self, session: MediaSession) -> None:
        """Take a session out of its group; an emptied group is dropped."""
        self._groups.leave(session)

    def group_of(self, session: MediaSession) -> MixGroup | None:
        """The group a session is in, if any."""
        return self._groups.of(session)

    @property
    def groups(self) -> dict[str, MixGroup]:
        """The groups by id."""
        return self._groups.by_id

    def bridge(self, a: MediaSession, b: MediaSession) -> MixGroup:
        """Let two sessions hear each other (a new group of their own)."""
        group_id = f"bridge-{new_id()}"
        self.join(group_id, a)
        return self.join(group_id, b)

    # -- recording ------------------------------------------------------------

    def start_recording(
        self, session: MediaSession, path: str | os.PathLike[str], channels: int = 2
    ) -> Recorder:
        """Record the session from the next tick on."""
        if session.closed:
            raise ValueError(f"session {session.id} is closed")
        recorder = Recorder(session, path, channels)
        session.recorders.append(recorder)
        self.recorders.append(recorder)
        return recorder

    def stop_recording(self, recorder: Recorder) -> RecordingResult:
        """Finish a recording and close its file."""
        if recorder in self.recorders:
            self.recorders.remove(recorder)
        if recorder in recorder.session.recorders:
            recorder.session.recorders.remove(recorder)
        return recorder.finish()

    async def end_recording(self, recording: RecordingHandle) -> RecordingResult:
        """`stop_recording`, as the media plane protocol has it."""
        if not isinstance(recording, Recorder):
            raise TypeError(f"not a recording of this engine: {recording!r}")
        return self.stop_recording(recording)

    # -- the clock ------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += TICK
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.clock.late_ticks += 1
                if delay < -TICK * MAX_CATCH_UP:
                    self.clock.resyncs += 1
                    due = loop.time()
                await asyncio.sleep(0)
            started = loop.time()
            self.tick()
            spent = loop.time() - started
            self.clock.busy_seconds += spent
            self.clock.max_tick_seconds = max(self.clock.max_tick_seconds, spent)

    def tick(self) -> None:
        """Run one 20 ms step for every session (public so tests can step it by hand)."""
        sessions = self._session_list
        for session in sessions:
            try:
                session.tick_rx()
            except Exception:
                log.exception("media session %s failed to receive", session.id)
        for group in self._groups.ordered:
            try:
                group.tick()
            except Exception:
                log.exception("mix group %s failed", group.id)
        for session in sessions:
            try:
                session.tick_tx()
            except Exception:
                log.exception("media session %s failed to send", session.id)
            session.mix_out = None
        for recorder in self.recorders:
            try:
                recorder.capture()
            except Exception:
                log.exception("recording %s failed", recorder.path)
        self.clock.ticks += 1
        for session in sessions[self.clock.ticks % RTCP_EVERY_TICKS :: RTCP_EVERY_TICKS]:
            session.tick_rtcp()
