"""Wrap-up: the configurable list of dispositions, and what agents record per call.

An administrator keeps the list (audited, like reason codes); an agent closes a
call with one enabled disposition, notes, and the order or work order the call
produced. One wrap-up per agent and call: a second submit (a double click, a
second desktop) is refused rather than stored twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.acd.errors import AlreadyWrappedUp
from ticketline.acd.models import AcdDisposition, AcdWrapUp
from ticketline.acd.schemas import DispositionIn, DispositionOut, WrapUpIn, WrapUpOut
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.ids import HUMAN_ALPHABET, normalize_human_code
from ticketline.db.session import Database

Audit = Callable[
    [AsyncSession, Actor, str, str, dict[str, Any] | None, dict[str, Any] | None], Awaitable[None]
]
MAX_LISTED = 500
DEFAULT_DISPOSITIONS = (
    ("booked", "已订票", "Booked"),
    ("changed", "已改签", "Changed"),
    ("refunded", "已退票", "Refunded"),
    ("information", "咨询", "Information"),
    ("complaint", "投诉", "Complaint"),
    ("work_order", "已建工单", "Work order created"),
    ("no_action", "无需处理", "No action"),
)


@dataclass(frozen=True)
class CallFacts:
    """What the desk knows of the call being wrapped up."""

    number: str = ""
    queue: str | None = None
    customer_id: str | None = None


class WrapUps:
    def __init__(self, db: Database, clock: Clock, audit: Audit) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit

    # -- the list ------------------------------------------------------------------------

    async def install_defaults(self) -> None:
        """A first start gets the usual list; an administrator's list is never touched."""
        async with self.db.transaction() as session:
            if await session.scalar(select(AcdDisposition.code).limit(1)) is not None:
                return
            for position, (code, zh, en) in enumerate(DEFAULT_DISPOSITIONS):
                session.add(AcdDisposition(code=code, name_zh=zh, name_en=en,
                                           position=position, enabled=True))  # fmt: skip

    async def dispositions(self, enabled_only: bool = False) -> list[DispositionOut]:
        """The list in the administrator's order (position, then code)."""
        query = select(AcdDisposition).order_by(AcdDisposition.position, AcdDisposition.code)
        if enabled_only:
            query = query.where(AcdDisposition.enabled.is_(True))
        async with self.db.sessions() as session:
            rows = await session.scalars(query)
            return [DispositionOut.model_validate(r, from_attributes=True) for r in rows]

    async def put_disposition(self, actor: Actor, data: DispositionIn) -> DispositionOut:
        """Create or change a disposition; disabling one keeps the calls that used it."""
        after = data.model_dump()
        async with self.db.transaction() as session:
            row = await session.get(AcdDisposition, data.code)
            before = None if row is None else _disposition(row)
            if row is None:
                row = AcdDisposition(code=data.code)
                session.add(row)
            row.name_zh, row.name_en = data.name_zh, data.name_en
            row.position, row.enabled = data.position, data.enabled
            if before != after:
                await self.audit(session, actor, "acd.disposition.put", data.code, before, after)
        return DispositionOut(**after)

    # -- wrap-ups ------------------------------------------------------------------------

    async def record(self, agent: str, data: WrapUpIn, facts: CallFacts) -> WrapUpOut:
        """Store the agent's wrap-up of `data.call_id`.

        Raises InvalidInput (field disposition or order) and AlreadyWrappedUp.
        """
        order = _order_code(data.order)
        async with self.db.transaction() as session:
            disposition = await session.get(AcdDisposition, data.disposition)
            if disposition is None or not disposition.enabled:
                raise InvalidInput("disposition", f"no enabled disposition {data.disposition!r}")
            done = await session.scalar(
                select(AcdWrapUp.id).where(
                    AcdWrapUp.call_id == data.call_id, AcdWrapUp.agent == agent
                )
            )
            if done is not None:
                raise AlreadyWrappedUp(f"call {data.call_id} is already wrapped up")
            row = AcdWrapUp(
                at=self.clock.now(),
                call_id=data.call_id,
                agent=agent,
                queue=facts.queue or None,
                number=facts.number[:32],
                customer_id=facts.customer_id,
                disposition=data.disposition,
                notes=data.notes.strip(),
                order_code=order,
                work_order_code=data.work_order or None,
            )
            session.add(row)
            await session.flush()
            return WrapUpOut.model_validate(row, from_attributes=True)

    async def list(
        self,
        *,
        call_id: str | None = None,
        agent: str | None = None,
        customer_id: str | None = None,
        limit: int = 100,
    ) -> list[WrapUpOut]:
        """Wrap-ups, newest first, filtered by call, agent or customer."""
        query = select(AcdWrapUp).order_by(AcdWrapUp.at.desc(), AcdWrapUp.id)
        if call_id is not None:
            query = query.where(AcdWrapUp.call_id == call_id)
        if agent is not None:
            query = query.where(AcdWrapUp.agent == agent)
        if customer_id is not None:
            query = query.where(AcdWrapUp.customer_id == customer_id)
        async with self.db.sessions() as session:
            rows = await session.scalars(query.limit(max(1, min(limit, MAX_LISTED))))
            return [WrapUpOut.model_validate(r, from_attributes=True) for r in rows]


def _order_code(text: str) -> str | None:
    """An order code as a person typed it, normalised; InvalidInput if it cannot be one."""
    if not text.strip():
        return None
    code = normalize_human_code(text)
    if not 4 <= len(code) <= 16 or any(ch not in HUMAN_ALPHABET for ch in code):
        raise InvalidInput("order", f"{text!r} is not an order code")
    return code


def _disposition(row: AcdDisposition) -> dict[str, Any]:
    return DispositionOut.model_validate(row, from_attributes=True).model_dump()
