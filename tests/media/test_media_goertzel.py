import numpy as np
import pytest

from ticketline.media.frames import FRAME_SAMPLES, SAMPLE_RATE
from ticketline.media.goertzel import DtmfDetector, tone_powers
from ticketline.media.tones import (
    DTMF_FREQUENCIES,
    RINGBACK_CN,
    RINGBACK_US,
    cadence_cycle,
    dtmf_tone,
    music_on_hold,
)

RNG = np.random.default_rng(4733)


def detect(signal: np.ndarray, detector: DtmfDetector | None = None) -> str:
    detector = detector or DtmfDetector()
    usable = signal.size // FRAME_SAMPLES * FRAME_SAMPLES
    frames = signal[:usable].reshape(-1, FRAME_SAMPLES)
    return "".join(d for frame in frames if (d := detector.feed(frame)) is not None)


def with_noise(signal: np.ndarray, noise_rms: float) -> np.ndarray:
    noisy = signal.astype(np.float64) + RNG.normal(0, noise_rms, signal.size)
    return np.clip(noisy, -32768, 32767).astype(np.int16)


def silence(ms: int) -> np.ndarray:
    return np.zeros(SAMPLE_RATE * ms // 1000, dtype=np.int16)


def test_powers_are_scaled_like_mean_energy() -> None:
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    frame = (1000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16)
    assert tone_powers(frame)[0] == pytest.approx(1000**2 / 2, rel=0.05)


def test_every_digit_in_noise() -> None:
    digits = "".join(DTMF_FREQUENCIES)
    signal = np.concatenate([dtmf_tone(d, 80, 60) for d in digits])
    assert detect(with_noise(signal, 300)) == digits


@pytest.mark.parametrize("offset_samples", [0, 40, 80, 100, 159])
def test_40ms_tone_gives_exactly_one_digit_at_any_alignment(offset_samples: int) -> None:
    signal = np.concatenate([silence(100)[:offset_samples], dtmf_tone("7", 40, 100)])
    assert detect(with_noise(signal, 100)) == "7"


def test_long_tone_is_one_digit_and_repeats_need_a_gap() -> None:
    signal = np.concatenate(
        [dtmf_tone("5", 1000, 40), dtmf_tone("5", 60, 40), dtmf_tone("#", 60, 0)]
    )
    assert detect(signal) == "55#"


def test_single_frame_blip_is_ignored() -> None:
    signal = np.concatenate([silence(20), dtmf_tone("1", 20, 100)])
    assert detect(signal) == ""


def test_quiet_tone_and_twisted_tone_are_rejected() -> None:
    quiet = (dtmf_tone("3", 200, 0) * 0.02).astype(np.int16)
    assert detect(quiet) == ""
    t = np.arange(1600) / SAMPLE_RATE
    twisted = 8000 * np.sin(2 * np.pi * 697 * t) + 800 * np.sin(2 * np.pi * 1209 * t)
    assert detect(twisted.astype(np.int16)) == ""


def speech_like(seconds: float) -> np.ndarray:
    """Voiced harmonics with a gliding pitch and random formant weights, 20 ms at a time."""
    frames = []
    phase = 0.0
    for _ in range(int(seconds * 50)):
        f0 = RNG.uniform(90, 300)
        harmonics = np.arange(1, int(3400 / f0))
        weights = RNG.rayleigh(1.0, harmonics.size) / harmonics
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        frame = (weights[:, None] * np.sin(2 * np.pi * f0 * harmonics[:, None] * t + phase)).sum(0)
        phase += 2 * np.pi * f0 * FRAME_SAMPLES / SAMPLE_RATE
        frames.append(frame / np.abs(frame).max() * RNG.uniform(2000, 12000))
    return np.concatenate(frames).astype(np.int16)


DTMF_NOMINAL = np.array(sorted({f for pair in DTMF_FREQUENCIES.values() for f in pair}))


def not_dtmf_frequencies(count: int) -> np.ndarray:
    """Random 300-3400 Hz tones, none within the ±3.5 % a detector may accept as DTMF."""
    freqs = RNG.uniform(300, 3400, 4 * count)
    off = np.all(np.abs(freqs[:, None] / DTMF_NOMINAL[None, :] - 1) > 0.035, axis=1)
    return freqs[off][:count]


def random_multitone(seconds: float) -> np.ndarray:
    """Chords of 2-4 random non-DTMF tones in 300-3400 Hz, changing every 100 ms."""
    parts = []
    for _ in range(int(seconds * 10)):
        t = np.arange(800) / SAMPLE_RATE
        freqs = not_dtmf_frequencies(int(RNG.integers(2, 5)))
        parts.append(sum(3000 * np.sin(2 * np.pi * f * t) for f in freqs))
    return np.concatenate(parts).astype(np.int16)


@pytest.mark.parametrize(
    "make",
    [
        lambda: speech_like(20.0),
        lambda: random_multitone(20.0),
        lambda: with_noise(silence(5000), 3000),
        lambda: np.tile(music_on_hold(), 2),
        lambda: cadence_cycle(RINGBACK_CN),
        lambda: cadence_cycle(RINGBACK_US),
        lambda: silence(1000),
    ],
    ids=["speech", "multitone", "noise", "music", "ringback-cn", "ringback-us", "silence"],
)
def test_no_false_digits(make) -> None:  # type: ignore[no-untyped-def]
    assert detect(make()) == ""


@pytest.mark.parametrize(
    ("deviation", "expected"), [(0.015, "9"), (-0.015, "9"), (0.04, ""), (-0.04, "")]
)
def test_frequency_tolerance(deviation: float, expected: str) -> None:
    t = np.arange(1600) / SAMPLE_RATE
    row, column = DTMF_FREQUENCIES["9"]
    signal = sum(5000 * np.sin(2 * np.pi * f * (1 + deviation) * t) for f in (row, column))
    assert detect(signal.astype(np.int16)) == expected


def test_frame_size_is_checked() -> None:
    with pytest.raises(ValueError, match="160-sample"):
        DtmfDetector().feed(bytes(100))
