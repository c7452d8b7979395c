"""The suite's watchdog: a hung test fails, shows where it waits, and the run goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def quick_watchdog(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("TICKETLINE_TEST_PHASE_LIMIT", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return pytester


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "tests.watchdog", "-o", "asyncio_mode=auto", "-p", "no:cacheprovider"
    )


def test_a_test_stuck_on_an_await_fails_where_it_waits_and_the_next_one_runs(
    quick_watchdog: pytest.Pytester,
) -> None:
    quick_watchdog.makepyfile(
        test_stuck="""
        import asyncio

        async def wait_for_an_answer_that_never_comes():
            await asyncio.get_running_loop().create_future()

        async def test_stuck():
            await wait_for_an_answer_that_never_comes()

        def test_next():
            pass
        """
    )
    result = run(quick_watchdog)
    result.assert_outcomes(failed=1, passed=1)
    where = "*test_stuck.py::test_stuck: still running after 1 s; cancelling:*"
    result.stderr.fnmatch_lines([where, "*in wait_for_an_answer_that_never_comes"])


def test_a_test_blocking_the_loop_ends_the_run_with_every_threads_stack(
    quick_watchdog: pytest.Pytester,
) -> None:
    quick_watchdog.makepyfile(
        test_blocked="""
        import time

        def test_blocked():
            time.sleep(10)
        """
    )
    result = run(quick_watchdog)
    assert result.ret == 70
    result.stderr.fnmatch_lines(["*test_blocked: blocked for 1 s; threads:*", "*in test_blocked*"])
