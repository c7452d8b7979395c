"""Call detail records: the only writer of call_record and call_leg.

Signalling must never wait for the database, so the B2BUA hands records to a
`CdrRecorder` that queues them and writes them in small batches, each batch one
transaction. Every call open at a restart is closed on the next start with the
end cause `process_restart`, never left open.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.core.paging import Page, PageRequest
from ticketline.db.session import Database
from ticketline.telephony.models import CallLeg, CallRecord

log = logging.getLogger(__name__)

RESTART_CAUSE = "process_restart"
BATCH_LIMIT = 2000
LINGER = 0.1
"""Seconds the writer waits after the first update of a batch for more to arrive."""


@dataclass(frozen=True)
class CallOpened:
    call_id: str
    sip_call_id: str
    direction: str
    caller: str
    callee: str
    at: datetime
    trunk: str | None = None
    extension: str | None = None


@dataclass(frozen=True)
class LegOpened:
    leg_id: str
    call_id: str
    role: str
    direction: str
    peer: str
    sip_call_id: str
    at: datetime


@dataclass(frozen=True)
class Answered:
    """The call (`leg_id` None) or one of its legs was answered."""

    call_id: str
    at: datetime
    leg_id: str | None = None


@dataclass(frozen=True)
class Closed:
    """The call (`leg_id` None) or one of its legs ended."""

    call_id: str
    at: datetime
    cause: str
    hangup_by: str
    leg_id: str | None = None


CdrUpdate = CallOpened | LegOpened | Answered | Closed


@dataclass
class _OpenCall:
    started_at: datetime
    answered_at: datetime | None = None


@dataclass
class CdrRecorder:
    """Queues CDR updates and writes them in batches on a background task."""

    db: Database
    _queue: asyncio.Queue[CdrUpdate | None] = field(default_factory=asyncio.Queue)
    _open: dict[str, _OpenCall] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def record(self, update_: CdrUpdate) -> None:
        """Queue one update; never blocks the caller."""
        self._queue.put_nowait(update_)

    async def start(self, now: datetime) -> int:
        """Close calls a previous run left open, then start writing. Returns how many."""
        closed = await close_unfinished(self.db, now)
        self._task = asyncio.create_task(self._run(), name="cdr-recorder")
        return closed

    async def stop(self) -> None:
        """Write everything queued so far, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def drain(self) -> None:
        """Wait until every update queued so far is written (for tests and shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is not None:
                await asyncio.sleep(LINGER)  # gather a bigger batch: fewer, larger statements
            batch = [first]
            while not self._queue.empty() and len(batch) < BATCH_LIMIT:
                batch.append(self._queue.get_nowait())
            updates = [u for u in batch if u is not None]
            try:
                await self._write(updates)
            except Exception:
                log.exception("could not write %d CDR updates", len(updates))
            finally:
                for _ in batch:
                    self._queue.task_done()
            if None in batch:
                return

    async def _write(self, updates: list[CdrUpdate]) -> None:
        if not updates:
            return
        plan = _BatchPlan(self._open)
        for item in updates:
            plan.add(item)
        async with self.db.transaction() as session:
            await plan.execute(session)


Row = dict[str, Any]


class _BatchPlan:
    """Folds one batch of updates into a few bulk statements.

    A row opened in this batch is inserted with its answer and end already in
    it; the other rows get one UPDATE per row, sent as executemany groups. At
    call rates this is what keeps the writer off the signalling CPU.
    """

    def __init__(self, open_calls: dict[str, _OpenCall]) -> None:
        self.open_calls = open_calls
        self.calls: dict[str, Row] = {}
        self.legs: dict[str, Row] = {}
        self.call_updates: dict[str, Row] = {}
        self.leg_updates: dict[str, Row] = {}

    def _call_row(self, call_id: str) -> Row:
        return self.calls.get(call_id) or self.call_updates.setdefault(call_id, {"id": call_id})

    def _leg_row(self, leg_id: str) -> Row:
        return self.legs.get(leg_id) or self.leg_updates.setdefault(leg_id, {"id": leg_id})

    def add(self, item: CdrUpdate) -> None:
        match item:
            case CallOpened():
                self.open_calls[item.call_id] = _OpenCall(item.at)
                self.calls[item.call_id] = {
                    "id": item.call_id, "sip_call_id": item.sip_call_id,
                    "direction": item.direction, "caller": item.caller, "callee": item.callee,
                    "trunk": item.trunk, "extension": item.extension, "started_at": item.at,
                    "answered_at": None, "ended_at": None, "duration_ms": None, "talk_ms": None,
                    "end_cause": None, "hangup_by": None, "status": "active",
                }  # fmt: skip
            case LegOpened():
                self.legs[item.leg_id] = {
                    "id": item.leg_id, "call_id": item.call_id, "role": item.role,
                    "direction": item.direction, "peer": item.peer,
                    "sip_call_id": item.sip_call_id, "started_at": item.at,
                    "answered_at": None, "ended_at": None, "end_cause": None, "hangup_by": None,
                    "status": "active",
                }  # fmt: skip
            case Answered():
                self._answered(item)
            case Closed():
                self._closed(item)

    def _answered(self, item: Answered) -> None:
        if item.leg_id is not None:
            self._leg_row(item.leg_id)["answered_at"] = item.at
            return
        if (open_call := self.open_calls.get(item.call_id)) is not None:
            open_call.answered_at = item.at
        self._call_row(item.call_id)["answered_at"] = item.at

    def _closed(self, item: Closed) -> None:
        ending: Row = {
            "ended_at": item.at,
            "end_cause": item.cause,
            "hangup_by": item.hangup_by,
            "status": "ended",
        }
        if item.leg_id is not None:
            self._leg_row(item.leg_id).update(ending)
            return
        open_call = self.open_calls.pop(item.call_id, None)
        if open_call is not None:
            ending |= durations(open_call.started_at, open_call.answered_at, item.at)
        self._call_row(item.call_id).update(ending)

    async def execute(self, session: AsyncSession) -> None:
        if self.calls:
            await session.execute(insert(CallRecord), list(self.calls.values()))
        if self.legs:
            await session.execute(insert(CallLeg), list(self.legs.values()))
        for model, rows in ((CallRecord, self.call_updates), (CallLeg, self.leg_updates)):
            for group in _by_columns(rows.values()):
                await session.execute(update(model), group)


def _by_columns(rows: Iterable[Row]) -> list[list[Row]]:
    """Rows grouped by the set of columns they set (one executemany per group)."""
    groups: dict[frozenset[str], list[Row]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())


def durations(started: datetime, answered: datetime | None, ended: datetime) -> dict[str, int]:
    """Whole-call and talk time in milliseconds."""
    total = int((ended - started).total_seconds() * 1000)
    talk = int((ended - answered).total_seconds() * 1000) if answered else 0
    return {"duration_ms": max(total, 0), "talk_ms": max(talk, 0)}


async def close_unfinished(db: Database, now: datetime) -> int:
    """End every call and leg still marked active, as a crash or restart left them."""
    async with db.transaction() as session:
        calls = list(await session.scalars(select(CallRecord).where(CallRecord.status == "active")))
        for call in calls:
            call.ended_at = now
            call.end_cause = RESTART_CAUSE
            call.hangup_by = "system"
            call.status = "ended"
            for key, value in durations(call.started_at, call.answered_at, now).items():
                setattr(call, key, value)
        await session.execute(
            update(CallLeg)
            .where(CallLeg.status == "active")
            .values(ended_at=now, end_cause=RESTART_CAUSE, hangup_by="system", status="ended")
        )
    return len(calls)


@dataclass(frozen=True)
class CdrQuery:
    caller: str | None = None
    callee: str | None = None
    extension: str | None = None
    direction: str | None = None
    end_cause: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_duration_ms: int | None = None


async def search_calls(db: Database, query: CdrQuery, page: PageRequest) -> Page[CallRecord]:
    """Newest first, filtered by any combination of the query's fields."""
    async with db.sessions() as session:
        total = await session.scalar(_filtered(select(func.count(CallRecord.id)), query))
        rows = await session.scalars(
            _filtered(select(CallRecord), query)
            .order_by(CallRecord.started_at.desc(), CallRecord.id)
            .offset(page.offset)
            .limit(page.size)
        )
        return Page(items=list(rows), total=total or 0, page=page.page, size=page.size)


async def legs_of(db: Database, call_id: str) -> list[CallLeg]:
    async with db.sessions() as session:
        return list(
            await session.scalars(
                select(CallLeg).where(CallLeg.call_id == call_id).order_by(CallLeg.started_at)
            )
        )


def _filtered(stmt: Select[Any], query: CdrQuery) -> Select[Any]:
    exact = {
        CallRecord.caller: query.caller,
        CallRecord.callee: query.callee,
        CallRecord.extension: query.extension,
        CallRecord.direction: query.direction,
        CallRecord.end_cause: query.end_cause,
    }
    for column, value in exact.items():
        if value:
            stmt = stmt.where(column == value)
    if query.since:
        stmt = stmt.where(CallRecord.started_at >= query.since)
    if query.until:
        stmt = stmt.where(CallRecord.started_at < query.until)
    if query.min_duration_ms is not None:
        stmt = stmt.where(CallRecord.duration_ms >= query.min_duration_ms)
    return stmt
