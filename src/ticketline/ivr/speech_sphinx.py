"""An offline English recognizer for spoken menu choices, on pocketsphinx.

pocketsphinx ships a 16 kHz US English acoustic model and dictionary in its
wheel. A menu's words become a one-rule JSGF grammar (one of the words, or
nothing), so the decoder only has to tell a dozen words apart; telephone audio
is up-sampled from 8 kHz first. Silence and noise give no hypothesis, and the
keypad is always there. Measured on flite voices through µ-law: 9 of 10 menu
words recognised (see tests/ivr/test_ivr_speech.py). Mandarin is not offered:
no free Mandarin model ships with the library.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ticketline.media.frames import Pcm
from ticketline.media.resample import resample

log = logging.getLogger(__name__)

MODEL_RATE = 16000
LINE_RATE = 8000
_WORD = re.compile(r"^[a-z][a-z' ]{0,40}$")


class SphinxRecognizer:
    """`Recognizer` for English menu words; the model loads on first use (about 2 s)."""

    def __init__(self) -> None:
        self._decoder: Any = None
        self._searches: set[str] = set()
        self._lock = threading.Lock()  # a pocketsphinx decoder is not thread-safe

    def languages(self) -> set[str]:
        return {"en"}

    def choose(self, audio: bytes, choices: Mapping[str, Sequence[str]], lang: str) -> str | None:
        """The key whose word was said in `audio` (8 kHz 16-bit PCM), or None."""
        if lang != "en" or not audio:
            return None
        words = {w.strip().lower(): key for key, said in choices.items() for w in said}
        with self._lock:
            decoder = self._load()
            usable = sorted(w for w in words if _WORD.match(w) and _known(decoder, w))
            if not usable:
                return None
            self._activate(decoder, usable)
            decoder.start_utt()
            decoder.process_raw(to_model_rate(audio), full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
        said = hypothesis.hypstr.strip() if hypothesis is not None else ""
        return words.get(said)

    def warm_up(self) -> None:
        """Load the model now (a server does this at start, not during the first call)."""
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._decoder is None:
            from pocketsphinx import Decoder  # type: ignore[import-untyped]

            self._decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL")
        return self._decoder

    def _activate(self, decoder: Any, words: list[str]) -> None:
        name = "menu_" + hashlib.sha256("|".join(words).encode()).hexdigest()[:12]
        if name not in self._searches:
            rule = " | ".join(words)
            decoder.add_jsgf_string(
                name, f"#JSGF V1.0;\ngrammar menu;\npublic <choice> = {rule};\n"
            )
            self._searches.add(name)
        decoder.activate_search(name)


def _known(decoder: Any, phrase: str) -> bool:
    return all(decoder.lookup_word(word) is not None for word in phrase.split())


def to_model_rate(audio: bytes) -> bytes:
    """8 kHz PCM as the 16 kHz PCM the acoustic model was trained on."""
    pcm: Pcm = np.frombuffer(audio, dtype="<i2")
    upsampled = resample(pcm.astype(np.float64), LINE_RATE, MODEL_RATE)
    return np.clip(np.rint(upsampled), -32768, 32767).astype("<i2").tobytes()
