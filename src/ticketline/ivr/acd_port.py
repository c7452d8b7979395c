"""The `queue` node's way into the ACD: the IVR's `QueuePort` over the ACD's `QueueEntry`.

Once the ACD has the call (queued, or an agent already ringing) the IVR's part
of it is over: the ACD plays the waiting music and announcements and connects
the agent. When the queue cannot keep the caller and overflows to voicemail or
a callback at once, the call comes back to the flow, which records the message
or confirms the callback in the caller's language.
"""

from __future__ import annotations

from ticketline.acd.config import OverflowKind, SkillNeed
from ticketline.acd.errors import UnknownQueue
from ticketline.acd.ports import CallerInfo, EnqueueStatus, QueueEntry
from ticketline.core.errors import InvalidInput
from ticketline.ivr.session import CallSession, QueueRequest, QueueResult

MAX_PRIORITY = 9


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
            outcome = await self.entry.enqueue(session, request.queue, skills, priority, caller)
        except UnknownQueue:
            return QueueResult("unavailable")
        except InvalidInput:
            return QueueResult("unavailable")
        if outcome.status is not EnqueueStatus.OVERFLOWED:
            return QueueResult("connected")
        if outcome.overflow is OverflowKind.VOICEMAIL:
            return QueueResult("voicemail")
        if outcome.overflow is OverflowKind.CALLBACK:
            return QueueResult("callback")
        return QueueResult("connected")  # moved to another queue: the ACD still has it
