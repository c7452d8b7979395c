"""What call control needs from a media plane, in this process or in another.

`MediaEngine` (in process) and `RemoteMedia` (a media process behind a Unix
socket) both provide it; `CallControl`, its channels and the IVR's adapter
use nothing else, so either can sit under them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ticketline.media.mixer import PartyMode
from ticketline.telephony.media_mixing import MixGroup
from ticketline.telephony.media_moh import MohLibrary
from ticketline.telephony.media_player import PromptLibrary
from ticketline.telephony.media_recorder import RecordingResult
from ticketline.telephony.media_session import MediaSession


class RecordingHandle(Protocol):
    """A recording in progress."""

    path: Path

    def pause(self) -> None: ...

    def resume(self) -> None: ...


class MediaPlane(Protocol):
    """Sessions, mixing and recording, started and closed with the application."""

    prompts: PromptLibrary
    moh: MohLibrary
    # Called when the plane lost every session at once (its process died).
    failure_listeners: list[Callable[[], None]]

    async def start(self) -> None: ...

    async def close(self) -> list[RecordingResult]: ...

    @property
    def running(self) -> bool: ...

    async def open_session(
        self,
        payload_type: int = 0,
        dtmf_payload_type: int | None = 101,
        session_id: str | None = None,
    ) -> MediaSession: ...

    async def end_session(self, session: MediaSession) -> list[RecordingResult]: ...

    def join(
        self,
        group_id: str,
        session: MediaSession,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: MediaSession | None = None,
        muted: bool = False,
    ) -> MixGroup: ...

    def leave(self, session: MediaSession) -> None: ...

    def group_of(self, session: MediaSession) -> MixGroup | None: ...

    def bridge(self, a: MediaSession, b: MediaSession) -> MixGroup: ...

    def start_recording(
        self, session: MediaSession, path: str | os.PathLike[str], channels: int = 2
    ) -> RecordingHandle: ...

    async def end_recording(self, recording: RecordingHandle) -> RecordingResult: ...
