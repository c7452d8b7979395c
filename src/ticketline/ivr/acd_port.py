"""The `queue` node's way into the ACD: the IVR's `QueuePort` over the ACD's `QueueEntry`.

Once the ACD has the call (queued, or an agent already ringing) the IVR's part
of it is over: the ACD plays the waiting music and announcements and connects
the agent. When the queue cannot keep the caller and overflows to voicemail or
a callback at once, the call comes back to the flow, which records the message
or confirms the callback in the caller's language.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from ticketline.acd.config import OverflowKind, SkillNeed
from ticketline.acd.errors import UnknownQueue
from ticketline.acd.ports import CallerInfo, CallHandle, EnqueueStatus, QueueEntry
from ticketline.core.errors import InvalidInput
from ticketline.ivr.session import CallerHungUp, CallSession, QueueRequest, QueueResult

MAX_PRIORITY = 9
# How the ACD gives a call back (enqueue_and_wait) -> the `queue` node's outcome.
GIVEN_BACK = {"overflow": "voicemail", "callback": "callback", "abandoned": "abandoned"}


WaitFor = Callable[
    [CallHandle, str, Sequence[SkillNeed], int, CallerInfo], Awaitable[tuple[str, str | None]]
]


class AcdQueuePort:
    """`QueuePort` for the engine, handing calls to the ACD's `QueueEntry`."""

    def __init__(self, entry: QueueEntry) -> None:
        self.entry = entry

    async def enqueue(self, session: CallSession, request: QueueRequest) -> QueueResult:
        skills = [SkillNeed(request.skill)] if request.skill else []
        caller = CallerInfo(
            number=request.caller,
            customer_id=request.customer_id,
            first_time=request.customer_id is None,
            language="zh_CN" if request.language == "zh" else "en",
        )
        priority = max(0, min(MAX_PRIORITY, request.priority))
        try:
            wait: WaitFor | None = getattr(self.entry, "enqueue_and_wait", None)
            if wait is not None:  # the ACD runtime can wait for the agent or give it back
                return await self._wait(wait, session, request.queue, skills, priority, caller)
            outcome = await self.entry.enqueue(session, request.queue, skills, priority, caller)
        except (UnknownQueue, InvalidInput):
            return QueueResult("unavailable")
        if outcome.status is not EnqueueStatus.OVERFLOWED:
            return QueueResult("connected")
        if outcome.overflow is OverflowKind.VOICEMAIL:
            return QueueResult("voicemail")
        if outcome.overflow is OverflowKind.CALLBACK:
            return QueueResult("callback")
        return QueueResult("connected")  # moved to another queue: the ACD still has it

    async def _wait(
        self,
        wait: WaitFor,
        session: CallSession,
        queue: str,
        skills: list[SkillNeed],
        priority: int,
        caller: CallerInfo,
    ) -> QueueResult:
        """Wait for an agent; a caller who hangs up meanwhile ends the wait."""
        waiting = asyncio.ensure_future(wait(session, queue, skills, priority, caller))
        ended = getattr(session, "wait_ended", None)
        if ended is not None:
            gone = asyncio.ensure_future(ended())
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
            gone.cancel()
            if not waiting.done():
                waiting.cancel()
                raise CallerHungUp
        how, agent = await waiting
        if how == "connected":
            return QueueResult("connected", agent)
        return QueueResult(GIVEN_BACK.get(how, how))
