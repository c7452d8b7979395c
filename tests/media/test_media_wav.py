import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from ticketline.media.wav import WavWriter, decode_wav, read_wav


def dominant_frequency(samples: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[np.argmax(spectrum)])


def sine(freq: float, rate: int, seconds: float, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return level * np.sin(2 * np.pi * freq * t)


def riff(fmt_body: bytes, data: bytes, extra_chunks: bytes = b"") -> bytes:
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_body)) + fmt_body + extra_chunks
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(encoding: int, channels: int, rate: int, bits: int) -> bytes:
    block = channels * bits // 8
    return struct.pack("<HHIIHH", encoding, channels, rate, rate * block, block, bits)


def write_int16(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000])
def test_mono_file_at_any_rate_becomes_8khz(tmp_path: Path, rate: int) -> None:
    path = tmp_path / f"tone_{rate}.wav"
    write_int16(path, sine(1000, rate, 1.0), rate)
    pcm = read_wav(path)
    assert pcm.dtype == np.int16
    assert abs(pcm.size - 8000) <= 1
    assert dominant_frequency(pcm) == pytest.approx(1000, abs=5)
    # Passband gain close to 1: amplitude 0.5 full scale survives.
    assert np.abs(pcm[100:-100]).max() == pytest.approx(16384, rel=0.03)


def test_content_above_telephone_band_is_removed_not_aliased(tmp_path: Path) -> None:
    path = tmp_path / "high.wav"
    # 6 kHz would alias to 2 kHz at 8 kHz without a low-pass.
    write_int16(path, sine(6000, 44100, 1.0) + sine(500, 44100, 1.0, 0.1), 44100)
    pcm = read_wav(path).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(pcm.size)))
    freqs = np.fft.rfftfreq(pcm.size, 1 / 8000)
    alias = spectrum[np.abs(freqs - 2000) < 20].max()
    wanted = spectrum[np.abs(freqs - 500) < 20].max()
    assert alias < wanted / 100


def test_stereo_file_to_mono_and_stereo(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    left, right = sine(400, 16000, 0.5), sine(1500, 16000, 0.5)
    write_int16(path, np.stack([left, right], axis=1).ravel(), 16000, channels=2)
    mono = read_wav(path)
    assert mono.shape == (4000,)
    stereo = read_wav(path, stereo=True)
    assert stereo.shape == (4000, 2)
    assert dominant_frequency(stereo[:, 0]) == pytest.approx(400, abs=5)
    assert dominant_frequency(stereo[:, 1]) == pytest.approx(1500, abs=5)


@pytest.mark.parametrize(
    ("encoding", "bits", "encode"),
    [
        (1, 8, lambda x: (x * 127 + 128).astype(np.uint8).tobytes()),
        (1, 24, lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in x * 8388607)),
        (1, 32, lambda x: (x * 2147483647).astype("<i4").tobytes()),
        (3, 32, lambda x: x.astype("<f4").tobytes()),
        (3, 64, lambda x: x.astype("<f8").tobytes()),
    ],
)
def test_sample_formats(encoding: int, bits: int, encode) -> None:  # type: ignore[no-untyped-def]
    samples = sine(800, 8000, 0.2)
    pcm = decode_wav(riff(fmt_chunk(encoding, 1, 8000, bits), encode(samples)))
    assert pcm.size == 1600
    expected = np.rint(samples * 32767)
    assert np.abs(pcm - expected).max() <= (300 if bits == 8 else 2)


def test_extensible_format_and_odd_extra_chunk() -> None:
    samples = (sine(800, 8000, 0.1) * 32767).astype("<i2")
    fmt = fmt_chunk(0xFFFE, 1, 8000, 16) + struct.pack("<HHI", 22, 16, 4)
    fmt += struct.pack("<H", 1) + bytes(14)  # sub-format GUID starting with PCM
    odd = b"LIST" + struct.pack("<I", 3) + b"abc\x00"
    pcm = decode_wav(riff(fmt, samples.tobytes(), odd))
    assert np.array_equal(pcm, samples)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello world, not a wav", "not a WAV file"),
        (riff(fmt_chunk(1, 1, 8000, 16), bytes(100))[:60], "truncated"),
        (riff(fmt_chunk(2, 1, 8000, 4), bytes(10)), "unsupported WAV encoding 2"),
        (riff(fmt_chunk(1, 1, 8000, 12), bytes(10)), "unsupported WAV sample size 12"),
        (riff(fmt_chunk(1, 0, 8000, 16), bytes(10)), "0 channels"),
        (riff(b"\x01\x00", bytes(10)), "fmt chunk too short"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no fmt chunk"),
    ],
)
def test_bad_files_raise_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_wav(data)


def test_size_and_duration_limits(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    write_int16(path, sine(440, 8000, 3.0), 8000)
    with pytest.raises(ValueError, match="over the limit of 1000"):
        read_wav(path, max_bytes=1000)
    with pytest.raises(ValueError, match="lasts 3 s, over the limit of 2 s"):
        read_wav(path, max_seconds=2)


def test_writer_mono_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    frame = (sine(440, 8000, 0.02) * 32767).astype("<i2")
    with WavWriter(path) as writer:
        for _ in range(50):
            writer.write(frame.tobytes())
        writer.write(frame)
        assert writer.duration_seconds == pytest.approx(1.02)
    with wave.open(str(path), "rb") as check:
        assert (check.getnchannels(), check.getsampwidth(), check.getframerate()) == (1, 2, 8000)
        assert check.getnframes() == 51 * 160
    assert np.array_equal(read_wav(path)[:160], frame)


def test_writer_stereo_puts_caller_left_agent_right(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    caller = (sine(300, 8000, 0.02) * 32767).astype("<i2").tobytes()
    agent = (sine(2000, 8000, 0.02) * 32767).astype("<i2").tobytes()
    with WavWriter(path, channels=2) as writer:
        for _ in range(25):
            writer.write_stereo(caller, agent)
    stereo = read_wav(path, stereo=True)
    assert stereo.shape == (4000, 2)
    assert dominant_frequency(stereo[:, 0]) == pytest.approx(300, abs=5)
    assert dominant_frequency(stereo[:, 1]) == pytest.approx(2000, abs=5)


def test_writer_header_is_valid_before_close(tmp_path: Path) -> None:
    path = tmp_path / "partial.wav"
    writer = WavWriter(path)
    writer.write(bytes(320))
    writer.write(bytes(320))
    with wave.open(str(path), "rb") as check:  # a crash now still leaves a valid file
        assert check.getnframes() == 320
    writer.close()


def test_writer_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1 or 2 channels"):
        WavWriter(tmp_path / "x.wav", channels=3)
    with WavWriter(tmp_path / "y.wav", channels=2) as writer:
        with pytest.raises(ValueError, match="whole number"):
            writer.write(bytes(6))
        with pytest.raises(ValueError, match="differ in length"):
            writer.write_stereo(bytes(4), bytes(2))
    with WavWriter(tmp_path / "z.wav") as writer, pytest.raises(ValueError, match="2-channel"):
        writer.write_stereo(bytes(2), bytes(2))
