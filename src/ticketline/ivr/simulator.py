"""Run a flow without a phone: a scripted caller and a transcript of what the call heard.

The script is what the caller does, one item per wait, separated by commas:
``"1,20261201#"`` presses 1 at the first menu, then types a date ending in #.
An empty item waits without pressing anything (a timeout); ``h`` hangs up;
an item starting with ``!`` is pressed while the prompt is still playing
(barge-in); ``say:words`` answers by voice when a recognizer is configured.
When the script runs out, the caller hangs up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ticketline.ivr.session import (
    CallerHungUp,
    CallSession,
    Digits,
    Prompt,
    QueueRequest,
    QueueResult,
)

HANGUP = "h"


def parse_script(script: str) -> list[str]:
    """'1,,20261201#' -> ['1', '', '20261201#']; spaces are ignored."""
    if not script.strip():
        return []
    return [item.strip() for item in script.split(",")]


@dataclass
class SimulatedCall:
    """A `CallSession` that takes keys from a script and writes down what it is asked to do."""

    script: list[str]
    caller: str = "13800138000"
    called: str = "95105"
    call_id: str = "sim-1"
    transcript: list[str] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    speak: Callable[[str], bytes] | None = None  # words -> 8 kHz PCM, for speech input
    _buffer: str = ""
    _ended: bool = False
    _pending: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._pending = deque(self.script)

    def _note(self, line: str) -> None:
        self.transcript.append(line)

    def _check(self) -> None:
        if self._ended:
            raise CallerHungUp

    async def answer(self) -> None:
        self._note("answer")

    async def play(self, prompt: Prompt, *, barge_in: bool) -> bool:
        self._check()
        self.prompts.append(prompt)
        label = f"say[{prompt.lang}]" if prompt.text else "play"
        self._note(f"{label} {prompt.text or prompt.key}")
        if barge_in and self._pending and self._pending[0].startswith("!"):
            self._buffer += self._pending.popleft()[1:]
            self._note(f"  (cut short by {self._buffer})")
            return True
        return False

    async def collect_digits(
        self,
        *,
        min_digits: int,
        max_digits: int,
        timeout: float,  # noqa: ASYNC109 - a DTMF wait, not a cancellation deadline
        inter_digit_timeout: float,
        terminator: str,
    ) -> Digits:
        self._check()
        if not self._buffer:
            self._buffer = self._next_item()
        got = self._take(max_digits, terminator)
        self._note(f"keys {got.digits or '-'}" + (" (timeout)" if got.timed_out else ""))
        return got

    def _next_item(self) -> str:
        if not self._pending:
            return self._hang_up()
        item = self._pending.popleft()
        if item == HANGUP:
            return self._hang_up()
        if item.startswith("say:"):
            self._pending.appendleft(item)
            return ""
        return item.lstrip("!")

    def _hang_up(self) -> str:
        self._ended = True
        self._note("caller hangs up")
        raise CallerHungUp

    def _take(self, max_digits: int, terminator: str) -> Digits:
        buffer, taken = self._buffer, ""
        for index, key in enumerate(buffer):
            if terminator and key == terminator:
                self._buffer = buffer[index + 1 :]
                return Digits(taken, terminated=True)
            taken += key
            if len(taken) == max_digits:
                self._buffer = buffer[index + 1 :]
                return Digits(taken)
        self._buffer = ""
        return Digits(taken, timed_out=True)

    async def listen(self, *, seconds: float) -> bytes:
        """Speech for a menu: the next `say:` item spoken by `speak`, else silence."""
        self._check()
        if self.speak is None or not self._pending or not self._pending[0].startswith("say:"):
            return b""
        words = self._pending.popleft().removeprefix("say:")
        self._note(f"caller says {words!r}")
        return self.speak(words)

    async def record(self, path: Path, *, max_seconds: int) -> float:
        self._check()
        self._note(f"record message to {path.name} (up to {max_seconds} s)")
        return 5.0

    async def transfer(self, target: str) -> bool:
        self._check()
        self._note(f"transfer to {target}")
        self._ended = True
        return True

    async def hangup(self) -> None:
        if not self._ended:
            self._note("hangup")
        self._ended = True


@dataclass
class SimulatedQueue:
    """Stands in for the ACD in a simulation: every hand-off ends with `outcome`."""

    outcome: str = "connected"
    requests: list[QueueRequest] = field(default_factory=list)

    async def enqueue(self, session: CallSession, request: QueueRequest) -> QueueResult:
        self.requests.append(request)
        if isinstance(session, SimulatedCall):
            session._note(
                f"queue {request.queue} skill={request.skill} priority={request.priority}"
                f" -> {self.outcome}"
            )
            if self.outcome == "connected":
                session._ended = True
        return QueueResult(self.outcome, "agent" if self.outcome == "connected" else None)


class TextPrompts:
    """A prompt source that keeps the words only (no audio), for quick simulations."""

    async def prompt(self, key: str, text: str, lang: str) -> Prompt:
        return Prompt(key, text, lang)
