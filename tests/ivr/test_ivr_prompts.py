"""Prompts spoken by the real espeak-ng, cached as 8 kHz WAVs; recordings override them."""

from __future__ import annotations

import asyncio
import io
import wave
from pathlib import Path

import numpy as np
import pytest

from ticketline.core.errors import InvalidInput
from ticketline.ivr.loader import load_file
from ticketline.ivr.prompts import PromptCache, SpeechUnavailable, static_texts
from ticketline.media.wav import read_wav

from .conftest import FLOWS

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/espeak-ng").exists(), reason="espeak-ng is installed by scripts/test"
)


def wav_info(path: Path) -> tuple[int, int, float]:
    with wave.open(str(path)) as wav:
        return wav.getframerate(), wav.getnchannels(), wav.getnframes() / wav.getframerate()


async def test_text_is_rendered_once_to_an_8khz_wav_per_voice(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    zh = await cache.prompt("hotline.main", "您好，欢迎致电票务服务热线。", "zh")
    en = await cache.prompt("hotline.main", "Welcome to the ticket hotline.", "en")
    assert zh.path is not None
    assert en.path is not None
    assert "cmn-latn-pinyin" in str(zh.path)
    assert "en-us" in str(en.path)
    rate, channels, seconds = wav_info(zh.path)
    assert (rate, channels) == (8000, 1)
    assert 1.0 < seconds < 6.0
    assert np.abs(read_wav(en.path)).max() > 5000  # speech, not silence
    again = await cache.prompt("hotline.main", "Welcome to the ticket hotline.", "en")
    assert again.path == en.path
    assert cache.renders == 2
    await cache.prompt("hotline.main", "Welcome to the ticket hotline!", "en")
    assert cache.renders == 3  # edited text, new rendering


async def test_concurrent_requests_for_one_text_share_one_rendering(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    paths = await asyncio.gather(*(cache.render("Please hold.", "en") for _ in range(8)))
    assert len(set(paths)) == 1
    assert cache.renders == 1


async def test_without_sox_numpy_resamples_to_the_same_length(tmp_path: Path) -> None:
    fast = await PromptCache(tmp_path / "a").render("Your train leaves at 8 AM.", "en")
    slow = await PromptCache(tmp_path / "b", sox=None).render("Your train leaves at 8 AM.", "en")
    assert wav_info(slow)[:2] == (8000, 1)
    assert abs(wav_info(fast)[2] - wav_info(slow)[2]) < 0.05


def _recording(rate: int, channels: int, seconds: float) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    frames = np.repeat(tone[:, None], channels, axis=1)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.tobytes())
    return out.getvalue()


async def test_an_uploaded_recording_replaces_the_spoken_prompt(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    stored = cache.set_override("hotline.main", "zh", _recording(44100, 2, 1.5))
    assert wav_info(stored) == (8000, 1, 1.5)
    prompt = await cache.prompt("hotline.main", "任何文字", "zh")
    assert prompt.path == stored
    assert cache.renders == 0
    english = await cache.prompt("hotline.main", "Any words", "en")
    assert english.path != stored  # the English prompt is still spoken
    assert cache.remove_override("hotline.main", "zh")
    assert (await cache.prompt("hotline.main", "任何文字", "zh")).path != stored


def test_bad_uploads_are_refused_with_the_reason(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    with pytest.raises(InvalidInput, match="file: not a WAV file"):
        cache.set_override("hotline.main", "zh", b"ID3 this is an mp3")
    with pytest.raises(InvalidInput, match="over the limit"):
        cache.set_override("hotline.main", "zh", _recording(8000, 1, 301))
    with pytest.raises(InvalidInput, match="key"):
        cache.set_override("../../etc/passwd", "zh", _recording(8000, 1, 1))
    assert not any(tmp_path.rglob("*.wav"))


async def test_a_missing_synthesizer_is_a_clear_error(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path, espeak="/nonexistent/espeak-ng")
    with pytest.raises(SpeechUnavailable, match="cannot run /nonexistent/espeak-ng"):
        await cache.render("Hello", "en")


async def test_a_flow_is_pre_rendered_in_both_languages(tmp_path: Path) -> None:
    flow = load_file(FLOWS / "theatre.yaml")
    texts = static_texts(flow)
    assert ("For English, press 2.", "en") not in texts  # theatre words it differently
    assert {lang for _, lang in texts} == {"zh", "en"}
    cache = PromptCache(tmp_path)
    assert await cache.render_flow(flow) == len(texts)
    assert await cache.render_flow(flow) == 0
