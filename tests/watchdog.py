"""A hung test fails and shows where it waits, instead of stalling the whole run.

CI has an hour; one await that never completes would spend all of it and say
nothing. Each phase of a test (setup, call, teardown) gets `PHASE_LIMIT` seconds.
Past that, the await chain of every task on the event loop goes to the terminal
and the tasks are cancelled: the test fails where it hung and the run goes on.
A loop stuck in plain (blocking) code cannot be cancelled: the threads' stacks
are printed and the run ends at once.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

import pytest

PHASE_LIMIT = float(os.environ.get("TICKETLINE_TEST_PHASE_LIMIT", "300"))
CANCEL_GRACE = 30.0
EXIT_STATUS = 70


class Watchdog:
    def __init__(self, config: pytest.Config, limit: float) -> None:
        self.config = config
        self.limit = limit
        self._timer: threading.Timer | None = None

    def arm(self, what: str) -> None:
        self._timer = threading.Timer(self.limit, self._expired, args=(what,))
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, what: str) -> None:
        loop = _main_thread_loop()
        if loop is not None:
            cancelled = threading.Event()
            loop.call_soon_threadsafe(self._cancel_tasks, loop, what, cancelled)
            if cancelled.wait(CANCEL_GRACE):
                return
        self._give_up(what)

    def _cancel_tasks(
        self, loop: asyncio.AbstractEventLoop, what: str, cancelled: threading.Event
    ) -> None:
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        with self._terminal() as out:
            out.write(f"\n!!! {what}: still running after {self.limit:.0f} s; cancelling:\n")
            for task in tasks:
                out.write(f"task {task.get_name()}:\n")
                for line in await_chain(task):
                    out.write(f"    {line}\n")
            out.flush()
        for task in tasks:
            task.cancel()
        cancelled.set()

    def _give_up(self, what: str) -> None:
        with self._terminal() as out:
            out.write(f"\n!!! {what}: blocked for {self.limit:.0f} s; threads:\n")
            out.flush()
            faulthandler.dump_traceback(file=out, all_threads=True)
            out.flush()
        os._exit(EXIT_STATUS)

    def _terminal(self) -> Any:
        capture = self.config.pluginmanager.getplugin("capturemanager")
        return _Uncaptured(capture)


class _Uncaptured:
    """Write past pytest's output capture, straight to the terminal (or CI log)."""

    def __init__(self, capture: Any) -> None:
        self._context = capture.global_and_fixture_disabled() if capture else None

    def __enter__(self) -> TextIO:
        if self._context is not None:
            self._context.__enter__()
        return sys.stderr

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """Where a task waits: each coroutine it awaits through, down to the awaited object."""
    lines: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame: FrameType | None = getattr(awaited, "cr_frame", None) or getattr(
            awaited, "gi_frame", None
        )
        if frame is None:
            lines.append(f"awaiting {awaited!r}")
            break
        lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return lines


def _main_thread_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop the main thread is running, found on its stack."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, asyncio.AbstractEventLoop) and candidate.is_running():
            return candidate
        frame = frame.f_back
    return None


_watchdog: Watchdog | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _watchdog
    _watchdog = Watchdog(config, PHASE_LIMIT)


def _watched(what: str) -> Iterator[None]:
    assert _watchdog is not None
    _watchdog.arm(what)
    try:
        yield
    finally:
        _watchdog.disarm()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    yield from _watched(f"{item.nodeid} (setup)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield from _watched(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    yield from _watched(f"{item.nodeid} (teardown)")
