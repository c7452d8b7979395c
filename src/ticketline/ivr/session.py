"""What the flow engine needs from a call, and the ports it hands work to.

`CallSession` is the engine's whole view of telephony: a real call implements
it over the call-control API (see `telephony_adapter.py`), the simulator
implements it from a script of keys. The engine never sees SIP or RTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol


class CallerHungUp(Exception):
    """The caller has gone; raised by any session method once the call has ended."""


@dataclass(frozen=True)
class Prompt:
    """Something to play: its words (for logs and the simulator) and its 8 kHz WAV."""

    key: str
    text: str
    lang: str
    path: Path | None = None


@dataclass(frozen=True)
class Digits:
    """What `collect_digits` got: the digits without the terminator, and how it ended."""

    digits: str
    terminated: bool = False
    timed_out: bool = False


class CallSession(Protocol):
    """One inbound call as the IVR drives it.

    Keys pressed while a prompt plays with `barge_in` stop the prompt and stay
    buffered: the next `collect_digits` returns them first (type-ahead).
    """

    @property
    def call_id(self) -> str: ...

    @property
    def caller(self) -> str: ...

    @property
    def called(self) -> str: ...

    async def answer(self) -> None: ...

    async def play(self, prompt: Prompt, *, barge_in: bool) -> bool:
        """Play to the end, or until a key when `barge_in`; True when a key cut it short."""
        ...

    async def collect_digits(
        self,
        *,
        min_digits: int,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - a DTMF wait, not a cancellation deadline
        inter_digit_timeout: float,
        terminator: str,
    ) -> Digits: ...

    async def record(self, path: Path, *, max_seconds: int) -> float:
        """Record the caller into a WAV until silence, '#', or `max_seconds`; return seconds."""
        ...

    async def transfer(self, target: str) -> bool:
        """Blind-transfer to an extension or external number; False if it failed."""
        ...

    async def hangup(self) -> None: ...


@dataclass(frozen=True)
class QueueRequest:
    """A caller the IVR hands to the ACD, with what it learnt about them."""

    queue: str
    skill: str | None
    priority: int
    caller: str
    language: str
    customer_id: str | None = None
    variables: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueResult:
    """How a queue gave the call back: `connected` ends the IVR's part of the call.

    Any other outcome (`overflow`, `timeout`, `no_agents`, `voicemail`, `unavailable`)
    names the branch the flow's `queue` node follows.
    """

    outcome: str
    agent: str | None = None


class QueuePort(Protocol):
    """The ACD's entrance, implemented by the ACD area and wired in app.py."""

    async def enqueue(self, session: CallSession, request: QueueRequest) -> QueueResult: ...


class SmsSender(Protocol):
    """Queues an SMS from a template (notify's `NotifyService.queue_sms` fits)."""

    def queue_sms(
        self,
        to: str,
        template_key: str,
        values: Mapping[str, object],
        *,
        locale: str = "zh_CN",
        ref: str | None = None,
    ) -> Awaitable[object]: ...


class AnnouncementSource(Protocol):
    """Operator announcements to play before the menu at `now` (text per language)."""

    async def active(self, flow: str, now: datetime) -> list[Mapping[str, str]]: ...


class PromptSource(Protocol):
    """Turns prompt text into something playable (the TTS cache, or text only)."""

    async def prompt(self, key: str, text: str, lang: str) -> Prompt: ...
