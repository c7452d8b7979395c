"""Shared constants and tiny helpers for 8 kHz, 20 ms, 16-bit linear PCM frames."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2

Pcm = npt.NDArray[np.int16]

_SILENCE = bytes(FRAME_BYTES)


def silence_frame() -> bytes:
    """Return one 20 ms frame of 16-bit little-endian silence."""
    return _SILENCE


def pcm_from_bytes(data: bytes) -> Pcm:
    """View little-endian int16 bytes as a numpy array (copy-free where possible)."""
    if len(data) % 2:
        raise ValueError(f"PCM byte length must be even, got {len(data)}")
    return np.frombuffer(data, dtype="<i2").astype(np.int16, copy=False)


def pcm_to_bytes(samples: npt.NDArray[np.integer]) -> bytes:
    """Serialize samples as little-endian int16 bytes (values must already fit)."""
    return np.asarray(samples, dtype="<i2").tobytes()


def rms(samples: bytes | npt.NDArray[np.integer]) -> float:
    """Root-mean-square level of a frame; 0.0 for an empty frame."""
    arr = pcm_from_bytes(samples) if isinstance(samples, bytes) else samples
    if arr.size == 0:
        return 0.0
    as_float = arr.astype(np.float64)
    return float(np.sqrt(np.mean(as_float * as_float)))


def energy(samples: bytes | npt.NDArray[np.integer]) -> float:
    """Mean energy (mean of squares) of a frame; 0.0 for an empty frame."""
    level = rms(samples)
    return level * level


def saturate(samples: npt.NDArray[np.integer]) -> Pcm:
    """Clip a wider integer array into int16 range."""
    # minimum/maximum are about twice as fast as np.clip on 160-sample frames.
    clipped: Pcm = np.maximum(np.minimum(samples, 32767), -32768).astype(np.int16)
    return clipped
