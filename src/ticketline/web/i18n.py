"""Translations from Babel .po catalogs, compiled in memory at start-up.

English is the source language; `zh_CN` is the default for users. Nothing binary
is committed: the .po files are read and compiled once when the server starts.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED = ("zh_CN", "en")


@cache
def translations(locale: str) -> NullTranslations:
    """The catalog for `locale`; English (and anything unknown) passes text through.

    Every `*.po` file of the locale is read: `messages.po` first, then one file per
    area in name order (separate files keep the areas' edits apart). A message
    id belongs in one file only; were it in two, the later file would win.
    """
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    files = sorted(folder.glob("*.po"), key=lambda path: (path.name != "messages.po", path.name))
    if locale == "en" or not files:
        return NullTranslations()
    merged: Translations | None = None
    for po_file in files:
        part = _compile(po_file, locale)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged or NullTranslations()


def _compile(po_file: Path, locale: str) -> Translations:
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def choose_locale(preferred: str | None, accept_language: str | None, default: str) -> str:
    """The user's stored choice first, then the browser's languages, then the default."""
    if preferred in SUPPORTED:
        return str(preferred)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default
