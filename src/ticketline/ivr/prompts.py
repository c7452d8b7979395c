"""Spoken prompts: espeak-ng renders text once into a cache of 8 kHz WAVs; recordings win.

A prompt is found, in order: an operator's recording for its key and language
(`overrides/<key>.<lang>.wav`), else the cached rendering of its exact text in
that language's voice, else a fresh rendering. The cache is keyed by a hash of
voice and text, so an edited prompt renders anew and an unchanged one never
does. Renders of the same text at the same moment share one espeak-ng process;
files appear atomically (written aside, then renamed), so a player never reads
half a WAV.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import shutil
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ticketline.core.errors import InvalidInput, TicketlineError
from ticketline.ivr.loader import Flow
from ticketline.ivr.registry import FlowRegistry
from ticketline.ivr.sayas import PLACEHOLDER
from ticketline.ivr.schema import PromptRef
from ticketline.ivr.session import Prompt
from ticketline.media.frames import Pcm
from ticketline.media.wav import WavWriter, decode_wav

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us"}
SPEED = {"zh": 150, "en": 160}  # words per minute; espeak's default 175 is fast on a phone
RENDER_VERSION = "1"  # bump to re-render every cached prompt (new voice settings)
SOX_OUTPUT = ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
MAX_TEXT = 2000
MAX_RECORDING_SECONDS = 300
_KEY = re.compile(r"^[\w.-]{1,120}$")


class SpeechUnavailable(TicketlineError):
    """espeak-ng is missing or failed; the caller hears a tone instead of words."""

    code = "speech_unavailable"
    status = 503


@dataclass
class PromptCache:
    """Renders and remembers prompts under `folder` (`cache/` and `overrides/`)."""

    folder: Path
    voices: dict[str, str] = field(default_factory=lambda: dict(VOICES))
    espeak: str = "espeak-ng"
    sox: str | None = "sox"
    _inflight: dict[Path, asyncio.Future[Path]] = field(default_factory=dict)
    renders: int = 0

    @property
    def cache_dir(self) -> Path:
        return self.folder / "cache"

    @property
    def overrides_dir(self) -> Path:
        return self.folder / "overrides"

    async def prompt(self, key: str, text: str, lang: str) -> Prompt:
        """A playable prompt: a recording for `key`, else `text` spoken in `lang`."""
        recorded = self.override_path(key, lang)
        if recorded is not None and recorded.is_file():
            return Prompt(key, text, lang, recorded)
        return Prompt(key, text, lang, await self.render(text, lang))

    def cached_path(self, text: str, lang: str) -> Path:
        voice = self._voice(lang)
        digest = hashlib.sha256(f"{RENDER_VERSION}|{voice}|{text}".encode()).hexdigest()
        return self.cache_dir / voice / digest[:2] / f"{digest}.wav"

    async def render(self, text: str, lang: str) -> Path:
        """The cached WAV of `text` in `lang`, rendering it if this is the first time."""
        if not text.strip() or len(text) > MAX_TEXT:
            raise InvalidInput("text", f"a prompt needs 1 to {MAX_TEXT} characters")
        path = self.cached_path(text, lang)
        if path.is_file():
            return path
        pending = self._inflight.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._inflight[path] = future
        try:
            await self._synthesize(text, lang, path)
            future.set_result(path)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            del self._inflight[path]
            if future.done() and future.exception() is not None:
                future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
        return path

    async def _synthesize(self, text: str, lang: str, path: Path) -> None:
        if self.sox and shutil.which(self.sox):
            await self._espeak_to_sox(text, lang, path)
        else:  # numpy's resampler is exact but ~20x slower than sox on long prompts
            pcm = await asyncio.to_thread(decode_wav, await self._espeak(text, lang))
            await asyncio.to_thread(_write_atomic, path, pcm)
        self.renders += 1

    def _espeak_args(self, lang: str) -> list[str]:
        return [self.espeak, "-v", self._voice(lang), "-s", str(SPEED.get(lang, 160)), "--stdout"]

    async def _espeak_to_sox(self, text: str, lang: str, path: Path) -> None:
        """espeak-ng | sox straight into the cache file: about 25 ms for a sentence."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.{id(text)}.tmp.wav")
        read_end, write_end = os.pipe()
        try:
            speaker = await _spawn(self._espeak_args(lang), stdin=PIPE, stdout=write_end)
            resampler = await _spawn(
                [self.sox or "sox", "-q", "-t", "wav", "-", *SOX_OUTPUT, str(temporary)],
                stdin=read_end,
                stdout=DEVNULL,
            )
        finally:
            os.close(read_end)
            os.close(write_end)
        _, speak_err = await speaker.communicate(text.encode("utf-8"))
        _, sox_err = await resampler.communicate()
        try:
            if speaker.returncode != 0 or resampler.returncode != 0:
                reason = (speak_err or sox_err).decode(errors="replace")[:200]
                raise SpeechUnavailable(f"speech rendering failed: {reason}")
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    async def _espeak(self, text: str, lang: str) -> bytes:
        speaker = await _spawn(self._espeak_args(lang), stdin=PIPE, stdout=PIPE)
        out, err = await speaker.communicate(text.encode("utf-8"))
        if speaker.returncode != 0 or not out:
            raise SpeechUnavailable(f"{self.espeak} failed: {err.decode(errors='replace')[:200]}")
        return _fix_stream_header(out)

    def _voice(self, lang: str) -> str:
        try:
            return self.voices[lang]
        except KeyError:
            raise InvalidInput("lang", f"no voice for language {lang!r}") from None

    def override_path(self, key: str, lang: str) -> Path | None:
        if not _KEY.match(key) or lang not in self.voices:
            return None
        return self.overrides_dir / f"{key}.{lang}.wav"

    def set_override(self, key: str, lang: str, wav: bytes) -> Path:
        """Store an operator's recording for a prompt: any common WAV, kept as 8 kHz mono."""
        path = self.override_path(key, lang)
        if path is None:
            raise InvalidInput("key", f"not a prompt key and language: {key!r}, {lang!r}")
        try:
            pcm = decode_wav(wav, max_seconds=MAX_RECORDING_SECONDS)
        except ValueError as exc:
            raise InvalidInput("file", str(exc)) from exc
        _write_atomic(path, pcm)
        return path

    def remove_override(self, key: str, lang: str) -> bool:
        path = self.override_path(key, lang)
        if path is None or not path.is_file():
            return False
        path.unlink()
        return True

    async def render_flow(self, flow: Flow) -> int:
        """Render every fixed prompt text of a flow ahead of calls; return how many were new."""
        before = self.renders
        for text, lang in static_texts(flow):
            await self.render(text, lang)
        return self.renders - before


def static_texts(flow: Flow) -> set[tuple[str, str]]:
    """(text, lang) of every prompt of a flow that has no placeholder."""
    refs: list[PromptRef] = []
    for defined in flow.definition.prompts.values():
        texts = {"zh": defined.zh, "en": defined.en}
        refs.append({lang: text for lang, text in texts.items() if text})  # type: ignore[misc]
    for node in flow.definition.nodes.values():
        refs.extend(
            ref
            for name in ("prompt", "timeout_prompt", "invalid_prompt")
            if isinstance(ref := getattr(node, name, None), dict)
        )
    return {
        (text, lang)
        for ref in refs
        if isinstance(ref, dict)
        for lang, text in ref.items()
        if lang in flow.definition.languages and text.strip() and not PLACEHOLDER.search(text)
    }


async def _spawn(args: list[str], *, stdin: int, stdout: int) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(*args, stdin=stdin, stdout=stdout, stderr=PIPE)
    except OSError as exc:
        raise SpeechUnavailable(f"cannot run {args[0]}: {exc.strerror}") from exc


def _fix_stream_header(wav: bytes) -> bytes:
    """espeak-ng's --stdout WAV has 0x7FFFFFFF sizes (it cannot seek); set the real ones."""
    if len(wav) < 44 or wav[:4] != b"RIFF":
        return wav
    data_at = wav.find(b"data", 12)
    if data_at < 0:
        return wav
    size = len(wav) - data_at - 8
    return (
        wav[:4]
        + (len(wav) - 8).to_bytes(4, "little")
        + wav[8 : data_at + 4]
        + size.to_bytes(4, "little")
        + wav[data_at + 8 :]
    )


def _write_atomic(path: Path, pcm: Pcm) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with WavWriter(temporary) as writer:
            writer.write(pcm)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


async def prerender(cache: PromptCache, flows: FlowRegistry) -> int:
    """Render every flow's fixed prompts in the background after start-up; return how many."""
    rendered = 0
    for name in flows.names():
        try:
            rendered += await cache.render_flow(flows.get(name))
        except TicketlineError as exc:
            log.warning("IVR prompts of %s not pre-rendered: %s", name, exc.message)
    return rendered


def prompt_keys(flows: Iterable[Flow]) -> list[str]:
    """Every named prompt key operators may record over, as `flow.prompt`."""
    return sorted(f"{f.name}.{p}" for f in flows for p in f.definition.prompts)
