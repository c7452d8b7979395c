import numpy as np
import pytest

from ticketline.media.frames import FRAME_BYTES, FRAME_SAMPLES, rms
from ticketline.media.tones import (
    BUSY_CN,
    DTMF_FREQUENCIES,
    RINGBACK_CN,
    RINGBACK_US,
    PcmSource,
    beep,
    cadence_cycle,
    cadence_source,
    dtmf_tone,
    music_on_hold,
    music_on_hold_source,
    tone,
)


def spectrum_peaks(samples: np.ndarray, count: int) -> list[float]:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    freqs = np.fft.rfftfreq(samples.size, 1 / 8000)
    return sorted(float(f) for f in freqs[np.argsort(spectrum)[-count:]])


def test_chinese_ringback_is_450hz_one_second_in_five() -> None:
    cycle = cadence_cycle(RINGBACK_CN)
    assert cycle.size == 40000
    assert spectrum_peaks(cycle[:8000], 1) == [450.0]
    assert np.count_nonzero(cycle[8000:]) == 0
    assert np.count_nonzero(cycle[:8000]) > 7800


def test_busy_and_us_ringback() -> None:
    assert cadence_cycle(BUSY_CN).size == 5600
    us = cadence_cycle(RINGBACK_US)
    assert us.size == 48000
    assert spectrum_peaks(us[:16000], 2) == [440.0, 480.0]


def test_dtmf_tone_has_row_and_column() -> None:
    for digit, pair in DTMF_FREQUENCIES.items():
        samples = dtmf_tone(digit, duration_ms=1000, gap_ms=0)
        assert spectrum_peaks(samples, 2) == [float(pair[0]), float(pair[1])]
    assert dtmf_tone("5").size == 1200
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_tone("x")


def test_tones_do_not_clip_and_ramp_in() -> None:
    samples = tone((440, 480), 500)
    assert np.abs(samples).max() < 32767 * 0.45
    assert abs(int(samples[0])) < 50
    assert beep().size == 1600


def test_pcm_source_pads_last_frame_and_ends() -> None:
    source = PcmSource(np.arange(200, dtype=np.int16))
    first, second = source.next_frame(), source.next_frame()
    assert first is not None
    assert second is not None
    assert len(first) == len(second) == FRAME_BYTES
    assert np.frombuffer(second, "<i2")[:40].tolist() == list(range(160, 200))
    assert not any(np.frombuffer(second, "<i2")[40:])
    assert source.next_frame() is None


def test_looping_source_wraps_seamlessly() -> None:
    data = np.arange(250, dtype=np.int16)
    source = PcmSource(data, loop=True)
    frames = [source.next_frame() for _ in range(5)]
    joined = np.frombuffer(b"".join(f for f in frames if f), "<i2")
    assert np.array_equal(joined, np.tile(data, 4)[: 5 * FRAME_SAMPLES])


def test_looping_tiny_buffer() -> None:
    source = PcmSource(np.array([1, 2, 3], dtype=np.int16), loop=True)
    frames = b"".join(source.next_frame() or b"" for _ in range(3))
    assert np.array_equal(np.frombuffer(frames, "<i2"), np.tile([1, 2, 3], 160)[:480])


def test_empty_looping_source_ends() -> None:
    assert PcmSource(b"", loop=True).next_frame() is None


def test_cadence_source_never_ends() -> None:
    source = cadence_source(BUSY_CN)
    frames = [source.next_frame() for _ in range(100)]
    assert all(f is not None and len(f) == FRAME_BYTES for f in frames)
    levels = [rms(f) for f in frames if f]
    assert levels[0] > 1000
    assert levels[20] == 0.0  # 400-420 ms is in the 350 ms off period


def test_music_on_hold_is_a_pleasant_loop() -> None:
    music = music_on_hold()
    assert music.size == 48000
    assert not music.flags.writeable
    assert np.abs(music).max() < 20000
    assert abs(int(music[0])) < 100
    assert abs(int(music[-1])) < 100  # loops without a click
    assert rms(music) > 500
    source = music_on_hold_source()
    assert all(source.next_frame() for _ in range(400))
