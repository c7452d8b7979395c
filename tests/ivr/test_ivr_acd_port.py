"""The queue node's hand-off to the ACD: what each ACD answer means for the flow."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from ticketline.acd.config import OverflowKind, SkillNeed
from ticketline.acd.errors import UnknownQueue
from ticketline.acd.ports import CallerInfo, CallHandle, EnqueueOutcome, EnqueueStatus
from ticketline.ivr.acd_port import AcdQueuePort
from ticketline.ivr.engine import IvrDeps
from ticketline.ivr.loader import load_file
from ticketline.ivr.session import CallerHungUp, QueueRequest
from ticketline.ivr.simulator import SimulatedCall, parse_script

from .conftest import FLOWS, Simulate


@dataclass
class Entry:
    """Records hand-offs and answers like the ACD would (a stand-in for the pure mapping)."""

    answer: EnqueueOutcome | None
    calls: list[tuple[str, str, list[SkillNeed], int, CallerInfo]] = field(default_factory=list)

    async def enqueue(
        self,
        call: CallHandle,
        queue: str,
        skills: Sequence[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> EnqueueOutcome:
        self.calls.append((call.call_id, queue, list(skills), priority, caller))
        if self.answer is None:
            raise UnknownQueue(f"no queue {queue}")
        return self.answer


REQUEST = QueueRequest("booking", "booking", 12, "13800138000", "en", customer_id="c1")


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (EnqueueOutcome(EnqueueStatus.QUEUED, "q1", position=3, estimated_wait=40), "connected"),
        (EnqueueOutcome(EnqueueStatus.RINGING, "q1"), "connected"),
        (
            EnqueueOutcome(EnqueueStatus.OVERFLOWED, "q1", overflow=OverflowKind.VOICEMAIL),
            "voicemail",
        ),
        (
            EnqueueOutcome(EnqueueStatus.OVERFLOWED, "q1", overflow=OverflowKind.CALLBACK),
            "callback",
        ),
        (EnqueueOutcome(EnqueueStatus.OVERFLOWED, "q1", overflow=OverflowKind.QUEUE), "connected"),
        (None, "unavailable"),
    ],
)
async def test_acd_answers_map_to_flow_outcomes(
    answer: EnqueueOutcome | None, outcome: str
) -> None:
    entry = Entry(answer)
    call = SimulatedCall(parse_script(""), call_id="call-7")
    result = await AcdQueuePort(entry).enqueue(call, REQUEST)
    assert result.outcome == outcome
    call_id, queue, skills, priority, caller = entry.calls[0]
    assert (call_id, queue, skills, priority) == ("call-7", "booking", [SkillNeed("booking")], 9)
    assert caller == CallerInfo("13800138000", "c1", first_time=False, language="en")


async def test_a_callback_overflow_is_confirmed_to_the_caller(
    simulate: Simulate, deps: IvrDeps
) -> None:
    deps.queue = AcdQueuePort(
        Entry(EnqueueOutcome(EnqueueStatus.OVERFLOWED, "q", overflow=OverflowKind.CALLBACK))
    )
    call, trace = await simulate(load_file(FLOWS / "hotline.yaml"), "2,0")
    assert "say[en] All our agents are busy. We will call you back when it is your turn." in (
        " ".join(call.transcript)
    )
    assert trace.outcome == "handled"


@dataclass
class WaitingEntry(Entry):
    """An ACD that also waits for the agent (as AcdRuntime.enqueue_and_wait does)."""

    given_back: tuple[str, str | None] = ("connected", "1001")
    hold: bool = False

    async def enqueue_and_wait(
        self,
        call: CallHandle,
        queue: str,
        skills: Sequence[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> tuple[str, str | None]:
        await self.enqueue(call, queue, skills, priority, caller)
        if self.hold:
            await asyncio.Event().wait()
        return self.given_back


@pytest.mark.parametrize(
    ("given_back", "outcome"),
    [
        (("connected", "1001"), "connected"),
        (("no_agents", None), "no_agents"),
        (("timeout", None), "timeout"),
        (("overflow", None), "voicemail"),
        (("callback", None), "callback"),
    ],
)
async def test_waiting_for_an_agent_or_being_given_back(
    given_back: tuple[str, str | None], outcome: str
) -> None:
    entry = WaitingEntry(EnqueueOutcome(EnqueueStatus.QUEUED, "q"), given_back=given_back)
    result = await AcdQueuePort(entry).enqueue(SimulatedCall(parse_script("")), REQUEST)
    assert result.outcome == outcome


async def test_a_caller_who_hangs_up_while_waiting_ends_the_wait() -> None:
    class Leaving(SimulatedCall):
        async def wait_ended(self) -> None:
            await asyncio.sleep(0.01)

    entry = WaitingEntry(EnqueueOutcome(EnqueueStatus.QUEUED, "q"), hold=True)
    with pytest.raises(CallerHungUp):
        await AcdQueuePort(entry).enqueue(Leaving(parse_script("")), REQUEST)
