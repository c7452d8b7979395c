"""Recording a session to WAV: stereo puts what the leg sent us (the caller) on the
left and what we sent it (the agent, prompts, music) on the right.

Each tick costs two list appends: the G.711 payloads are kept as they are and
decoded, interleaved and written once a second, so hundreds of recordings do
not each touch numpy and the disk fifty times a second. While paused (card
numbers) the frames are written as silence and the pause is kept as a marker
(start and end in seconds from the start of the file).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from ticketline.media.frames import saturate
from ticketline.media.wav import WavWriter
from ticketline.telephony.media_player import DECODE_TABLE, SILENCE_PAYLOAD
from ticketline.telephony.media_session import FRAME, MediaSession

FLUSH_FRAMES = 50  # one second


@dataclass(frozen=True, slots=True)
class PauseMarker:
    """A stretch of the recording left silent on purpose, in seconds from its start."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """A finished recording file."""

    path: Path
    channels: int
    duration_ms: int
    pauses: tuple[PauseMarker, ...]


class Recorder:
    """Captures one session's two directions, tick by tick."""

    def __init__(self, session: MediaSession, path: str | os.PathLike[str], channels: int = 2):
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        self.session = session
        self.path = Path(path)
        self.channels = channels
        self.paused = False
        self.finished = False
        self.frames = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = WavWriter(self.path, channels)
        self._left: list[bytes | None] = []
        self._right: list[bytes | None] = []
        self._pauses: list[PauseMarker] = []
        self._paused_at: float | None = None
        # Spread the recorders' writes over the second, so that hundreds of calls
        # recorded from the same moment do not all decode and write in one tick.
        self._flush_at = FLUSH_FRAMES + random.randrange(FLUSH_FRAMES)

    @property
    def duration_ms(self) -> int:
        """Audio captured so far."""
        return self.frames * 20

    def capture(self) -> None:
        """Take this tick's frames from the session (the engine calls it after sending)."""
        if self.paused:
            self._left.append(None)
            self._right.append(None)
        else:
            self._left.append(self.session.rx_frame)
            self._right.append(self.session.tx_frame)
        self.frames += 1
        if len(self._left) >= self._flush_at:
            self._flush_at = FLUSH_FRAMES
            self.flush()

    def pause(self) -> None:
        """Write silence from now on until `resume`, and mark the stretch."""
        if not self.paused:
            self.paused = True
            self._paused_at = self.duration_ms / 1000

    def resume(self) -> None:
        """Record audio again."""
        if self.paused:
            self.paused = False
            start = self._paused_at if self._paused_at is not None else 0.0
            self._pauses.append(PauseMarker(start, self.duration_ms / 1000))
            self._paused_at = None

    def flush(self) -> None:
        """Decode and write what is buffered."""
        if not self._left:
            return
        payload_type = self.session.payload_type
        left = _decode(self._left, payload_type)
        right = _decode(self._right, payload_type)
        self._left.clear()
        self._right.clear()
        if self.channels == 2:
            pair = np.empty(left.size * 2, dtype=np.int16)
            pair[0::2] = left
            pair[1::2] = right
            self._writer.write(pair)
        else:
            self._writer.write(saturate(left.astype(np.int32) + right))

    def finish(self) -> RecordingResult:
        """Flush, close the file and say what it holds (idempotent)."""
        if not self.finished:
            self.resume()
            self.flush()
            self._writer.close()
            self.finished = True
        return RecordingResult(self.path, self.channels, self.duration_ms, tuple(self._pauses))


def _decode(frames: list[bytes | None], payload_type: int) -> np.ndarray:
    if None not in frames:
        whole = cast("list[bytes]", frames)
        if set(map(len, whole)) == {FRAME}:  # the usual case, checked without a Python loop
            return DECODE_TABLE[payload_type].take(np.frombuffer(b"".join(whole), dtype=np.uint8))
    return _decode_with_gaps(frames, payload_type)


def _decode_with_gaps(frames: list[bytes | None], payload_type: int) -> np.ndarray:
    silence = SILENCE_PAYLOAD[payload_type]
    joined = b"".join(silence if f is None or len(f) != FRAME else f for f in frames)
    pcm = DECODE_TABLE[payload_type].take(np.frombuffer(joined, dtype=np.uint8))
    # Paused or missing frames must be digital zero, not A-law's +8 "silence".
    for index, frame in enumerate(frames):
        if frame is None:
            pcm[index * FRAME : (index + 1) * FRAME] = 0
    return pcm
