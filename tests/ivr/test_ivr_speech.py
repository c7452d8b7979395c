"""Spoken menu choices recognised offline by pocketsphinx, from flite voices on a phone line."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import numpy as np
import pytest

from ticketline.ivr.engine import IvrDeps, run_call
from ticketline.ivr.loader import load_file
from ticketline.ivr.simulator import SimulatedCall, parse_script
from ticketline.ivr.speech_sphinx import SphinxRecognizer
from ticketline.media import g711
from ticketline.media.wav import decode_wav

from .conftest import FLOWS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("flite") is None, reason="flite makes the test voices"),
]
HOTLINE = load_file(FLOWS / "hotline.yaml")
MAIN_WORDS = HOTLINE.definition.nodes["main"].words  # type: ignore[union-attr]


@cache
def recognizer() -> SphinxRecognizer:
    return SphinxRecognizer()


def phone_line(words: str) -> bytes:
    """`words` spoken by flite, as 8 kHz PCM after a µ-law round trip, with pauses around."""
    wav = subprocess.run(
        ["flite", "-t", words, "-o", "/dev/stdout"], capture_output=True, check=True
    ).stdout
    pcm = g711.ulaw_decode_array(g711.ulaw_encode_array(decode_wav(wav)))
    pause = np.zeros(2000, np.int16)
    return np.concatenate([pause, pcm, pause]).astype("<i2").tobytes()


@pytest.mark.parametrize(
    ("said", "key"),
    [
        ("timetable", "1"),
        ("fares", "1"),
        ("book", "2"),
        ("refund", "3"),
        ("change", "3"),
        ("order", "4"),
        ("complaint", "6"),
        ("agent", "0"),
        ("operator", "0"),
    ],
)
def test_menu_words_choose_their_key(said: str, key: str) -> None:
    assert recognizer().choose(phone_line(said), MAIN_WORDS, "en") == key


def test_silence_noise_and_other_languages_choose_nothing() -> None:
    noise = np.random.default_rng(7).normal(0, 1500, 16000).astype("<i2").tobytes()
    assert recognizer().choose(bytes(16000), MAIN_WORDS, "en") is None
    assert recognizer().choose(noise, MAIN_WORDS, "en") is None
    assert recognizer().choose(phone_line("refund"), MAIN_WORDS, "zh") is None


async def test_a_caller_says_refund_at_the_main_menu(deps: IvrDeps) -> None:
    deps.recognizer = recognizer()
    call = SimulatedCall(parse_script("2,say:refund,1234#,h"), speak=phone_line)
    trace = await run_call(HOTLINE, call, deps)
    assert "caller says 'refund'" in call.transcript
    assert trace.path[trace.path.index("main") + 1] == "cr_code"
