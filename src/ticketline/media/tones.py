"""Call-progress tones, DTMF tones, beeps and a generated music-on-hold loop.

Everything is int16 at 8 kHz. A cadence is rendered once as one full on/off
cycle and played by a looping `PcmSource`, so a frame costs a slice, not a sine.
The hold music is synthesised here so the product ships music without files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ticketline.media.frames import FRAME_BYTES, SAMPLE_RATE, Pcm

DTMF_ROWS = (697, 770, 852, 941)
DTMF_COLUMNS = (1209, 1336, 1477, 1633)
DTMF_KEYPAD = ("123A", "456B", "789C", "*0#D")
DTMF_FREQUENCIES: dict[str, tuple[int, int]] = {
    key: (DTMF_ROWS[row], DTMF_COLUMNS[col])
    for row, keys in enumerate(DTMF_KEYPAD)
    for col, key in enumerate(keys)
}

TONE_LEVEL = 0.2  # of full scale, about -14 dBFS per tone component


class FrameSource(Protocol):
    """Anything that yields 20 ms frames (160 int16 samples as bytes) until it is done."""

    def next_frame(self) -> bytes | None:
        """Return the next frame, or None when the source is exhausted."""
        ...


class PcmSource:
    """Play an int16 buffer frame by frame, optionally looping; the tail is padded with silence."""

    def __init__(self, pcm: bytes | Pcm, *, loop: bool = False) -> None:
        self._data = pcm if isinstance(pcm, bytes) else np.asarray(pcm, dtype="<i2").tobytes()
        if len(self._data) % 2:
            raise ValueError(f"PCM byte length must be even, got {len(self._data)}")
        self._loop = loop and len(self._data) > 0
        if self._loop and len(self._data) < FRAME_BYTES:
            # Repeat a tiny buffer so one wrap per frame is always enough.
            self._data *= -(-FRAME_BYTES // len(self._data))
        self._offset = 0

    def next_frame(self) -> bytes | None:
        """Return the next 20 ms frame, or None at the end of a non-looping buffer."""
        if self._offset >= len(self._data) and not self._loop:
            return None
        frame = self._data[self._offset : self._offset + FRAME_BYTES]
        self._offset += len(frame)
        if self._loop and len(frame) < FRAME_BYTES:
            self._offset = FRAME_BYTES - len(frame)
            frame += self._data[: self._offset]
        return frame.ljust(FRAME_BYTES, b"\x00")


@dataclass(frozen=True, slots=True)
class Cadence:
    """A tone of summed frequencies, `on_ms` on then `off_ms` off, repeated."""

    frequencies: tuple[int, ...]
    on_ms: int
    off_ms: int
    level: float = TONE_LEVEL


RINGBACK_CN = Cadence((450,), 1000, 4000)
BUSY_CN = Cadence((450,), 350, 350)
RINGBACK_US = Cadence((440, 480), 2000, 4000)
BUSY_US = Cadence((480, 620), 500, 500)


def tone(frequencies: tuple[int, ...], duration_ms: int, level: float = TONE_LEVEL) -> Pcm:
    """Sum of sines, each at `level` of full scale, with 5 ms ramps against clicks."""
    count = SAMPLE_RATE * duration_ms // 1000
    t = np.arange(count) / SAMPLE_RATE
    wave = sum((np.sin(2 * np.pi * f * t) for f in frequencies), np.zeros(count))
    return _to_pcm(wave * level * 32767 * _ramp(count, 40))


def silence(duration_ms: int) -> Pcm:
    """Digital silence of the given length."""
    return np.zeros(SAMPLE_RATE * duration_ms // 1000, dtype=np.int16)


def cadence_cycle(cadence: Cadence) -> Pcm:
    """One on/off cycle of a cadence."""
    on = tone(cadence.frequencies, cadence.on_ms, cadence.level)
    return np.concatenate([on, silence(cadence.off_ms)])


def cadence_source(cadence: Cadence) -> PcmSource:
    """A never-ending frame source playing the cadence."""
    return PcmSource(cadence_cycle(cadence), loop=True)


def beep(frequency: int = 1000, duration_ms: int = 200) -> Pcm:
    """A short beep, e.g. before recording a voicemail."""
    return tone((frequency,), duration_ms)


def dtmf_tone(digit: str, duration_ms: int = 100, gap_ms: int = 50) -> Pcm:
    """In-band DTMF for one digit followed by a silent gap."""
    if digit.upper() not in DTMF_FREQUENCIES:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    pair = DTMF_FREQUENCIES[digit.upper()]
    return np.concatenate([tone(pair, duration_ms), silence(gap_ms)])


# C major - A minor - F major - G major, one bar each, as (bass, chord notes) in Hz.
_PROGRESSION = (
    (130.81, (261.63, 329.63, 392.00)),
    (110.00, (220.00, 261.63, 329.63)),
    (87.31, (220.00, 261.63, 349.23)),
    (98.00, (246.94, 293.66, 392.00)),
)
_BAR_MS = 1500


def music_on_hold() -> Pcm:
    """A 6-second loopable chord progression with soft envelopes (read-only array)."""
    return _music_on_hold()


def music_on_hold_source() -> PcmSource:
    """A never-ending frame source playing the hold music."""
    return PcmSource(music_on_hold(), loop=True)


@lru_cache(maxsize=1)
def _music_on_hold() -> Pcm:
    bars = [_bar(bass, chord) for bass, chord in _PROGRESSION]
    music = _to_pcm(np.concatenate(bars))
    music.setflags(write=False)
    return music


def _bar(bass: float, chord: tuple[float, ...]) -> npt.NDArray[np.float64]:
    count = SAMPLE_RATE * _BAR_MS // 1000
    t = np.arange(count) / SAMPLE_RATE
    # Piano-like: quick attack, exponential decay, and a release to zero at the bar end
    # so the loop joins without a click.
    envelope = (1 - np.exp(-t * 60)) * np.exp(-t * 1.6) * _ramp(count, 400)
    pad = sum((np.sin(2 * np.pi * f * t) for f in chord), np.zeros(count)) / len(chord)
    low = 0.6 * np.sin(2 * np.pi * bass * t) + 0.15 * np.sin(2 * np.pi * 2 * bass * t)
    result: npt.NDArray[np.float64] = (0.6 * pad + 0.4 * low) * envelope * 9000
    return result


def _ramp(count: int, ramp: int) -> npt.NDArray[np.float64]:
    envelope = np.ones(count)
    ramp = min(ramp, count // 2)
    if ramp:
        rise = np.linspace(0.0, 1.0, ramp)
        envelope[:ramp] = rise
        envelope[count - ramp :] = rise[::-1]
    return envelope


def _to_pcm(samples: npt.NDArray[np.float64]) -> Pcm:
    result: Pcm = np.clip(np.rint(samples), -32768, 32767).astype(np.int16)
    return result
