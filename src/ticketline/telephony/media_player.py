"""What a session can play: prompts, tones and files as `Audio`, and their cursors.

An `Audio` is 8 kHz PCM kept with its G.711 encodings, made once per codec
and cached on the object, so playing a prompt costs one slice per 20 ms frame
and a thousand callers hearing the same music share one encoded buffer.
`PromptLibrary` loads WAV files once (keyed by path, size and mtime); a file
that is missing or unreadable raises `PromptUnavailable` with the reason, and
`load_or_default` turns that into a short default tone so the call goes on.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ticketline.core.errors import TicketlineError
from ticketline.media import g711
from ticketline.media.frames import FRAME_SAMPLES, Pcm
from ticketline.media.tones import Cadence, cadence_cycle, dtmf_tone, tone

log = logging.getLogger(__name__)

PCMU = 0
PCMA = 8
SILENCE_CODE = {PCMU: g711.ULAW_SILENCE, PCMA: g711.ALAW_SILENCE}
SILENCE_PAYLOAD = {pt: bytes([code]) * FRAME_SAMPLES for pt, code in SILENCE_CODE.items()}
DECODE_TABLE = {PCMU: g711.ULAW_DECODE, PCMA: g711.ALAW_DECODE}
_ENCODE_TABLE = {PCMU: g711.ULAW_ENCODE, PCMA: g711.ALAW_ENCODE}
DEFAULT_TONE = (1000, 400)  # Hz, ms: what a caller hears when a prompt cannot be played


class PromptUnavailable(TicketlineError):
    """A prompt file is missing, unreadable or not a supported WAV."""

    code = "prompt_unavailable"
    status = 404


def check_codec(payload_type: int) -> int:
    """Return the payload type if it is G.711 (0 PCMU, 8 PCMA), else raise ValueError."""
    if payload_type not in _ENCODE_TABLE:
        raise ValueError(f"payload_type must be 0 (PCMU) or 8 (PCMA), got {payload_type}")
    return payload_type


def encode(pcm: Pcm, payload_type: int) -> bytes:
    """G.711-encode int16 samples for the payload type."""
    table = _ENCODE_TABLE[payload_type]
    return table.take(np.asarray(pcm, dtype=np.int16).view(np.uint16)).tobytes()


def decode(payload: bytes, payload_type: int) -> Pcm:
    """G.711-decode a payload to int16 samples."""
    return DECODE_TABLE[payload_type].take(np.frombuffer(payload, dtype=np.uint8))


@dataclass(eq=False)
class Audio:
    """Playable 8 kHz audio; `loop` audio never ends by itself."""

    pcm: Pcm
    name: str
    loop: bool = False
    _encoded: dict[int, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.pcm.ndim != 1:
            raise ValueError(f"audio {self.name!r} must be mono, got shape {self.pcm.shape}")
        if self.loop and self.pcm.size < FRAME_SAMPLES:
            raise ValueError(f"looping audio {self.name!r} must last at least one frame")

    @property
    def duration_ms(self) -> int:
        """Length of one pass."""
        return self.pcm.size * 1000 // 8000

    def encoded(self, payload_type: int) -> bytes:
        """The whole audio encoded for the codec, padded with silence to whole frames."""
        data = self._encoded.get(payload_type)
        if data is None:
            pad = -self.pcm.size % FRAME_SAMPLES
            if self.loop:
                pad = 0  # a loop wraps instead
            data = encode(np.concatenate([self.pcm, np.zeros(pad, np.int16)]), payload_type)
            self._encoded[payload_type] = data
        return data


class Cursor:
    """A position in an `Audio` for one session: one encoded frame per call."""

    __slots__ = ("_data", "_loop", "_offset", "audio")

    def __init__(self, audio: Audio, payload_type: int) -> None:
        self.audio = audio
        self._data = audio.encoded(payload_type)
        self._loop = audio.loop
        self._offset = 0

    def next_payload(self) -> bytes | None:
        """The next 160-byte frame, or None when a non-looping audio is over."""
        start = self._offset
        end = start + FRAME_SAMPLES
        if end <= len(self._data):
            self._offset = end
            return self._data[start:end]
        if not self._loop:
            return None
        rest = end - len(self._data)
        self._offset = rest
        return self._data[start:] + self._data[:rest]

    @property
    def played_ms(self) -> int:
        """Audio sent so far in this pass."""
        return self._offset // 8


def tone_audio(cadence: Cadence, *, loop: bool = True) -> Audio:
    """A cadence (ringback, busy, ...) as audio; looping by default."""
    return Audio(cadence_cycle(cadence), f"tone:{cadence.frequencies}", loop=loop)


def beep_audio(frequency: int = DEFAULT_TONE[0], duration_ms: int = DEFAULT_TONE[1]) -> Audio:
    """A single beep."""
    return Audio(tone((frequency,), duration_ms), f"beep:{frequency}")


def dtmf_audio(digits: str, duration_ms: int = 100) -> Audio:
    """In-band DTMF tones for peers that cannot receive RFC 4733 events."""
    parts = [dtmf_tone(digit, duration_ms) for digit in digits]
    return Audio(np.concatenate(parts), f"dtmf:{digits}")


class PromptLibrary:
    """Loads prompt WAV files once and keeps the most recently used ones."""

    def __init__(self, capacity: int = 512, max_seconds: float = 600.0) -> None:
        self._capacity = capacity
        self._max_seconds = max_seconds
        self._cache: OrderedDict[tuple[str, int, int], Audio] = OrderedDict()

    def load(self, path: str | os.PathLike[str], *, loop: bool = False) -> Audio:
        """Read (or reuse) the WAV at `path`; raise PromptUnavailable saying why."""
        from ticketline.media.wav import read_wav

        try:
            stat = Path(path).stat()
        except OSError as exc:
            raise PromptUnavailable(f"prompt {os.fspath(path)!r}: {exc.strerror}") from exc
        key = (os.fspath(path), stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(key)
        if cached is not None and cached.loop == loop:
            self._cache.move_to_end(key)
            return cached
        try:
            pcm = read_wav(path, max_seconds=self._max_seconds)
        except (OSError, ValueError) as exc:
            raise PromptUnavailable(f"prompt {os.fspath(path)!r}: {exc}") from exc
        audio = Audio(pcm, Path(path).name, loop=loop and pcm.size >= FRAME_SAMPLES)
        self._cache[key] = audio
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return audio

    def load_or_default(self, path: str | os.PathLike[str]) -> tuple[Audio, str | None]:
        """The prompt, or a default beep and the error message when it cannot be played."""
        try:
            return self.load(path), None
        except PromptUnavailable as exc:
            log.warning("playing the default tone instead: %s", exc.message)
            return beep_audio(), exc.message
