"""The ACD's two seams: how calls come in (from the IVR) and how phones are driven.

`QueueEntry` is what the IVR's `queue` node calls: it hands a live call to the
ACD and gets back at once what happened (queued with position and estimated wait,
ringing an agent already, or overflowed). From then on the ACD owns the call
until it is connected, leaves the queue or ends; the IVR does not touch it again.

`AgentPhones` is the little the ACD needs from telephony. The implementation over
the call-control API lives in acd/telephony_port.py once that API exists; tests
use an in-memory one. Answers and failures of offers come back into the ACD as
calls to AcdCalls.answered / no_answer / caller_hung_up (service.py), fed by the
telephony's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ticketline.acd.config import OverflowKind, SkillNeed


class CallHandle(Protocol):
    """A live call as the IVR holds it; the ACD only needs its id."""

    @property
    def call_id(self) -> str: ...


@dataclass(frozen=True)
class CallerInfo:
    """What the IVR knows of the caller (the VIP tier travels as the priority)."""

    number: str = ""
    customer_id: str | None = None
    first_time: bool = False
    language: str = "zh_CN"


class EnqueueStatus(StrEnum):
    QUEUED = "queued"  # waiting; position and estimated wait given
    RINGING = "ringing"  # an agent's phone rings already
    OVERFLOWED = "overflowed"  # sent to voicemail, a callback or another queue at once


@dataclass(frozen=True)
class EnqueueOutcome:
    status: EnqueueStatus
    queue_id: str
    position: int | None = None
    estimated_wait: int | None = None
    overflow: OverflowKind | None = None


class QueueEntry(Protocol):
    """The hand-off from the IVR's `queue` node to the ACD."""

    async def enqueue(
        self,
        call: CallHandle,
        queue: str,
        skills: Sequence[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> EnqueueOutcome:
        """Queue `call` in `queue` with extra `skills` and `priority` (0-9, VIP higher).

        Raises UnknownQueue (acd.errors) for a queue that does not exist and
        InvalidInput for a bad priority or skill level.
        """
        ...


@dataclass(frozen=True)
class WaitingKeys:
    """The keys a waiting caller may press (None: not offered in this queue)."""

    message: str | None = None
    callback: str | None = None

    def __bool__(self) -> bool:
        return self.message is not None or self.callback is not None


NO_KEYS = WaitingKeys()


class AgentPhones(Protocol):
    """What the ACD asks of telephony. Every method returns once the request is made."""

    async def ring(
        self, call_id: str, extensions: Sequence[str], ring_seconds: int, caller_id: str
    ) -> None:
        """Ring these extensions for `call_id` (an offer); the caller keeps hearing music."""
        ...

    async def stop_ringing(self, call_id: str, extension: str) -> None: ...

    async def connect(self, call_id: str, extension: str) -> None:
        """Bridge the caller of `call_id` with the agent leg that answered at `extension`."""
        ...

    async def dial_customer(self, call_id: str, extension: str, number: str) -> None:
        """Callback: the agent at `extension` answered; dial the customer and bridge."""
        ...

    async def play(self, call_id: str, prompt: str, variables: dict[str, str]) -> None:
        """Play a prompt (position, estimated wait, a periodic message) to the caller."""
        ...

    async def start_music(self, call_id: str, music: str, keys: WaitingKeys) -> None:
        """Music while waiting; when `keys` offers any, listen for them and tell the
        ACD (AcdCalls.key_pressed) which one the caller pressed."""
        ...

    async def stop_music(self, call_id: str) -> None: ...

    async def to_voicemail(self, call_id: str, queue_id: str) -> None:
        """Send the caller to the queue's voicemail box."""
        ...

    async def hang_up(self, call_id: str, cause: str) -> None: ...

    async def release_agent(self, call_id: str, cause: str) -> None:
        """Hang up the agent's leg of a call that moves on (a transfer): no completion."""
        ...
