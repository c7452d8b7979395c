"""Helpers for IVR tests: flows from text, a simulated call run to its end."""

from __future__ import annotations

import textwrap
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ticketline.core.clock import FixedClock
from ticketline.ivr.actions import ActionRegistry
from ticketline.ivr.engine import IvrDeps, run_call
from ticketline.ivr.loader import Flow, load_text
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script
from ticketline.ivr.stats import CallTrace

FLOWS = Path(__file__).parents[2] / "src" / "ticketline" / "ivr" / "flows"
# Monday 23 November 2026, 10:00 in Shanghai: the hotline is open.
OPEN = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def flow_of(text: str) -> Flow:
    return load_text(textwrap.dedent(text), "test.yaml")


@pytest.fixture
def deps(tmp_path: Path) -> IvrDeps:
    return IvrDeps(
        prompts=TextPrompts(),
        actions=ActionRegistry(),
        clock=FixedClock(OPEN),
        queue=SimulatedQueue(),
        voicemail_dir=tmp_path / "voicemail",
    )


Simulate = Callable[..., Awaitable[tuple[SimulatedCall, CallTrace]]]


@pytest.fixture
def simulate(deps: IvrDeps) -> Simulate:
    async def run(
        flow: Flow, keys: str, caller: str = "13800138000"
    ) -> tuple[SimulatedCall, CallTrace]:
        call = SimulatedCall(parse_script(keys), caller=caller)
        trace = await run_call(flow, call, deps)
        return call, trace

    return run
