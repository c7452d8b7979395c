"""Operations on one session that take time: play, collect digits, send DTMF.

Digits that arrive while nothing is collecting stay in the session's
type-ahead buffer, so a caller who presses a key during a prompt is not lost;
an interruptible prompt stops at the first buffered or new digit and leaves
it in the buffer for `collect_digits`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ticketline.media.dtmf import DTMF_DIGITS
from ticketline.telephony.media_player import Audio, dtmf_audio
from ticketline.telephony.media_session import MediaSession, PlayOutcome

MAX_DIGITS = 64


@dataclass(frozen=True, slots=True)
class DigitsResult:
    """What `collect_digits` got and why it stopped.

    `reason`: max_digits, terminator, timeout or hangup; `ok` when at least
    `min_digits` were collected and the call is still up.
    """

    digits: str
    reason: str
    ok: bool


async def play(
    session: MediaSession,
    audio: Audio,
    *,
    interruptible_by_dtmf: bool = False,
    error: str | None = None,
) -> PlayOutcome:
    """Play `audio` to the session; return how it ended."""
    future = session.start_playing(audio, interruptible=interruptible_by_dtmf, error=error)
    if interruptible_by_dtmf and session.digits:
        session.stop_playing("interrupted", session.digits[0])
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        playing = session.playing
        if playing is not None and playing.future is future:
            session.stop_playing("stopped")
        raise


def check_collect(
    min_digits: int, max_digits: int, timeout: float, inter_digit_timeout: float, terminator: str
) -> None:
    """Raise ValueError naming the first bad argument of `collect_digits`."""
    if not 0 <= min_digits <= MAX_DIGITS:
        raise ValueError(f"min_digits must be in 0..{MAX_DIGITS}, got {min_digits}")
    if not max(1, min_digits) <= max_digits <= MAX_DIGITS:
        raise ValueError(f"max_digits must be in {max(1, min_digits)}..{MAX_DIGITS}")
    if not 0 < timeout <= 3600:
        raise ValueError(f"timeout must be in (0, 3600] seconds, got {timeout}")
    if not 0 < inter_digit_timeout <= 3600:
        raise ValueError(f"inter_digit_timeout must be in (0, 3600], got {inter_digit_timeout}")
    if any(ch not in DTMF_DIGITS for ch in terminator):
        raise ValueError(f"terminator must be DTMF digits, got {terminator!r}")


async def collect_digits(
    session: MediaSession,
    min_digits: int = 1,
    max_digits: int = 1,
    timeout: float = 5.0,  # noqa: ASYNC109 - the call-control API names it so
    inter_digit_timeout: float = 3.0,
    terminator: str = "#",
) -> DigitsResult:
    """Collect digits: stop at `max_digits`, a terminator, a timeout, or hangup.

    `timeout` waits for the first digit, `inter_digit_timeout` for each next one.
    The terminator is not part of the digits.
    """
    check_collect(min_digits, max_digits, timeout, inter_digit_timeout, terminator)
    loop = asyncio.get_running_loop()
    collected: list[str] = []

    def done(reason: str) -> DigitsResult:
        ok = reason != "hangup" and len(collected) >= min_digits
        return DigitsResult("".join(collected), reason, ok)

    deadline = loop.time() + timeout
    while True:
        while session.digits:
            digit = session.digits.popleft()
            if digit in terminator:
                return done("terminator")
            collected.append(digit)
            if len(collected) >= max_digits:
                return done("max_digits")
            deadline = loop.time() + inter_digit_timeout
        if session.closed:
            return done("hangup")
        remaining = deadline - loop.time()
        if remaining <= 0:
            return done("timeout")
        waiter: asyncio.Future[None] = loop.create_future()
        session.digit_waiter = waiter
        handle = loop.call_later(remaining, _wake, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
            session.digit_waiter = None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def send_dtmf(session: MediaSession, digits: str, duration_ms: int = 100) -> None:
    """Send digits as RFC 4733 events, or as in-band tones if the peer has no events."""
    if not digits or any(ch not in DTMF_DIGITS for ch in digits.upper()):
        raise ValueError(f"digits must be DTMF digits (0-9 * # A-D), got {digits!r}")
    if session.dtmf_payload_type is None:
        await play(session, dtmf_audio(digits.upper(), duration_ms))
        return
    futures = [session.queue_event(digit, duration_ms) for digit in digits.upper()]
    await asyncio.gather(*futures)
