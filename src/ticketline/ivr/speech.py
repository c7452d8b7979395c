"""Speech input: recognizers behind one small interface; the keypad always works too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Recognizer(Protocol):
    """Picks which of a menu's choices an utterance names, or None.

    `audio` is 8 kHz 16-bit mono PCM; `choices` maps a menu key to the words that
    choose it in `lang`.
    """

    def languages(self) -> set[str]: ...

    def choose(
        self, audio: bytes, choices: Mapping[str, Sequence[str]], lang: str
    ) -> str | None: ...
