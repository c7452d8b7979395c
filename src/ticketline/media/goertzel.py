"""In-band DTMF detection on 8 kHz linear PCM, 20 ms frame by frame.

Per frame, the power at the 8 DTMF frequencies is what the Goertzel recurrence
gives; it is computed as one small matrix product (8 x 160 complex) because a
Python-level recurrence would be ~100x slower. A frame is a digit when:
- the strongest row and column tone are each above `min_level`,
- each is at least `peak_ratio` times its group's runner-up,
- twist (column vs row power) is within -8 dB .. +4 dB (ITU Q.24 style),
- each tone is nearer its nominal frequency than probes 5 % away, i.e. off
  by less than 2.5 % (Q.24: accept 1.5 %, reject 3.5 %),
- together they hold at least `tone_fraction` of the frame's energy, which
  rejects speech and music whose energy is spread over many frequencies.
A digit is reported once it is seen in `min_frames` consecutive frames and not
again until a frame without it; so a tone of >= 40 ms gives exactly one digit
whatever its alignment: one of its two partial frames holds >= half of it,
and `tone_fraction` (0.38) leaves room for the sender's on/off ramps there.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ticketline.media.frames import FRAME_SAMPLES, SAMPLE_RATE, Pcm
from ticketline.media.tones import DTMF_COLUMNS, DTMF_KEYPAD, DTMF_ROWS

_NOMINAL = np.array(DTMF_ROWS + DTMF_COLUMNS, dtype=np.float64)
_PROBE_OFFSET = 0.05
_FREQUENCIES = np.concatenate(
    [_NOMINAL, _NOMINAL * (1 - _PROBE_OFFSET), _NOMINAL * (1 + _PROBE_OFFSET)]
)
_NORMAL_TWIST = 10 ** (-8 / 10)
_REVERSE_TWIST = 10 ** (4 / 10)


def _dft_matrix(samples: int) -> npt.NDArray[np.complex128]:
    n = np.arange(samples)
    result: npt.NDArray[np.complex128] = np.exp(
        -2j * np.pi * _FREQUENCIES[:, None] * n[None, :] / SAMPLE_RATE
    )
    return result


_MATRIX = _dft_matrix(FRAME_SAMPLES)


def tone_powers(frame: Pcm) -> npt.NDArray[np.float64]:
    """Mean power of each DTMF frequency in the frame, rows first then columns.

    Scaled so a sine of amplitude A at that frequency gives about A**2 / 2,
    directly comparable with the frame's mean energy.
    """
    return _powers(frame)[:8]


def _powers(frame: Pcm) -> npt.NDArray[np.float64]:
    """Powers at the 8 nominal frequencies, then 8 low probes, then 8 high probes."""
    spectrum = _MATRIX @ frame.astype(np.float64)
    result: npt.NDArray[np.float64] = np.abs(spectrum) ** 2 * (2.0 / FRAME_SAMPLES**2)
    return result


class DtmfDetector:
    """Feed 20 ms frames; `feed` returns a digit the first time it is confirmed."""

    def __init__(
        self,
        min_level: float = 200.0**2 / 2,
        peak_ratio: float = 6.0,
        tone_fraction: float = 0.38,
        min_frames: int = 2,
    ) -> None:
        self.min_level = min_level  # default: tones of amplitude >= 200 (about -44 dBFS)
        self.peak_ratio = peak_ratio
        self.tone_fraction = tone_fraction
        self.min_frames = min_frames
        self._candidate: str | None = None
        self._count = 0
        self._reported = False

    def feed(self, frame: bytes | Pcm) -> str | None:
        """Process one 160-sample frame; return a newly detected digit or None."""
        samples = np.frombuffer(frame, dtype="<i2") if isinstance(frame, bytes) else frame
        if samples.shape != (FRAME_SAMPLES,):
            raise ValueError(f"DTMF detector needs {FRAME_SAMPLES}-sample frames")
        digit = self.classify(samples)
        if digit != self._candidate:
            self._candidate, self._count, self._reported = digit, 0, False
        self._count += 1
        if digit is not None and not self._reported and self._count >= self.min_frames:
            self._reported = True
            return digit
        return None

    def classify(self, samples: Pcm) -> str | None:
        """The digit this single frame contains, if it passes every check."""
        all_powers = _powers(samples)
        powers = all_powers[:8]
        rows, columns = powers[:4], powers[4:]
        row, column = int(np.argmax(rows)), int(np.argmax(columns))
        row_power, column_power = float(rows[row]), float(columns[column])
        if min(row_power, column_power) < self.min_level:
            return None
        if not (
            _dominates(rows, row, self.peak_ratio) and _dominates(columns, column, self.peak_ratio)
        ):
            return None
        if not _NORMAL_TWIST <= column_power / row_power <= _REVERSE_TWIST:
            return None
        if not (_on_frequency(all_powers, row) and _on_frequency(all_powers, 4 + column)):
            return None
        energy = float(np.mean(samples.astype(np.float64) ** 2))
        if row_power + column_power < self.tone_fraction * energy:
            return None
        return DTMF_KEYPAD[row][column]


def _on_frequency(powers: npt.NDArray[np.float64], index: int) -> bool:
    return bool(powers[index] >= max(powers[8 + index], powers[16 + index]))


def _dominates(powers: npt.NDArray[np.float64], best: int, ratio: float) -> bool:
    others = np.delete(powers, best)
    return bool(powers[best] >= ratio * others.max())
