"""The queue log: one line per thing that happened, the source of every ACD report.

Modelled on Asterisk's queue_log. The router produces entries as it decides;
the service writes them in batches (QueueLogWriter) off the routing path.
Fields used by each event:

    enter              position, data.priority, data.caller
    offer              agent, data.agents (ring set)
    no_answer          agent, wait
    connect            agent, wait, position (original), data.pickup
    abandon            position, wait
    timeout            wait (max wait reached, before overflow)
    overflow           wait, data.reason, data.kind, data.target
    transfer           agent, wait, talk, data.target
    complete           agent, wait, talk, data.hung_up_by
    callback_requested position, wait
    callback_done      agent, data.reached
    exit_with_key      position, wait, data.key (the caller left to leave a message)
    agent_login, agent_logout, agent_pause, agent_unpause, agent_state
                       agent, data.before, data.after, data.reason
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select

from ticketline.acd.agents import AgentState, AgentStateChanged
from ticketline.acd.models import AcdQueueLogRow
from ticketline.db.session import Database

log = logging.getLogger(__name__)
BATCH_LIMIT = 500


class QueueEvent(StrEnum):
    ENTER = "enter"
    OFFER = "offer"
    NO_ANSWER = "no_answer"
    CONNECT = "connect"
    ABANDON = "abandon"
    TIMEOUT = "timeout"
    OVERFLOW = "overflow"
    TRANSFER = "transfer"
    COMPLETE = "complete"
    CALLBACK_REQUESTED = "callback_requested"
    CALLBACK_DONE = "callback_done"
    EXIT_WITH_KEY = "exit_with_key"
    AGENT_LOGIN = "agent_login"
    AGENT_LOGOUT = "agent_logout"
    AGENT_PAUSE = "agent_pause"
    AGENT_UNPAUSE = "agent_unpause"
    AGENT_STATE = "agent_state"


@dataclass(frozen=True)
class QueueLogEntry:
    """One line of the queue log. Payload per event: see the module docstring."""

    at: datetime
    event: QueueEvent
    queue_id: str | None = None
    call_id: str | None = None
    agent_id: str | None = None
    position: int | None = None
    wait: float | None = None
    talk: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def agent_entry(change: AgentStateChanged) -> QueueLogEntry:
    """The queue log line for an agent's state change."""
    before, after = change.before, change.after
    if before is AgentState.LOGGED_OUT:
        event = QueueEvent.AGENT_LOGIN
    elif after is AgentState.LOGGED_OUT:
        event = QueueEvent.AGENT_LOGOUT
    elif after is AgentState.NOT_READY:
        event = QueueEvent.AGENT_PAUSE
    elif before is AgentState.NOT_READY and after is AgentState.READY:
        event = QueueEvent.AGENT_UNPAUSE
    else:
        event = QueueEvent.AGENT_STATE
    return QueueLogEntry(
        at=change.at,
        event=event,
        agent_id=change.agent_id,
        data={
            "before": before.value,
            "after": after.value,
            "reason": change.reason,
            "trigger": change.trigger.value,
        },
    )


class QueueLogWriter:
    """Queues log lines and writes them in batches, each batch one transaction.

    Routing never waits for the database: `record` only appends to a queue.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: asyncio.Queue[QueueLogEntry | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def record(self, entry: QueueLogEntry) -> None:
        self._queue.put_nowait(entry)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="acd-queue-log")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def drain(self) -> None:
        """Wait until every line recorded so far is written (tests, shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < BATCH_LIMIT:
                batch.append(self._queue.get_nowait())
            entries = [e for e in batch if e is not None]
            try:
                if entries:
                    await self._write(entries)
            except Exception:
                log.exception("could not write %d queue log lines", len(entries))
            finally:
                for _ in batch:
                    self._queue.task_done()
            if len(entries) < len(batch):
                return

    async def _write(self, entries: list[QueueLogEntry]) -> None:
        async with self.db.transaction() as session:
            await session.execute(insert(AcdQueueLogRow), [row_of(e) for e in entries])


def row_of(entry: QueueLogEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "event": entry.event.value,
        "queue": entry.queue_id,
        "call_id": entry.call_id,
        "agent": entry.agent_id,
        "position": entry.position,
        "wait_ms": None if entry.wait is None else round(entry.wait * 1000),
        "talk_ms": None if entry.talk is None else round(entry.talk * 1000),
        "data": entry.data,
    }


def entry_of(row: AcdQueueLogRow) -> QueueLogEntry:
    return QueueLogEntry(
        at=row.at,
        event=QueueEvent(row.event),
        queue_id=row.queue,
        call_id=row.call_id,
        agent_id=row.agent,
        position=row.position,
        wait=None if row.wait_ms is None else row.wait_ms / 1000,
        talk=None if row.talk_ms is None else row.talk_ms / 1000,
        data=dict(row.data or {}),
    )


async def read_log(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    call_id: str | None = None,
    agent: str | None = None,
    limit: int = 1000,
) -> list[QueueLogEntry]:
    """Queue log lines in time order, filtered."""
    query = select(AcdQueueLogRow).order_by(AcdQueueLogRow.at, AcdQueueLogRow.id).limit(limit)
    if since is not None:
        query = query.where(AcdQueueLogRow.at >= since)
    if until is not None:
        query = query.where(AcdQueueLogRow.at < until)
    if queue is not None:
        query = query.where(AcdQueueLogRow.queue == queue)
    if call_id is not None:
        query = query.where(AcdQueueLogRow.call_id == call_id)
    if agent is not None:
        query = query.where(AcdQueueLogRow.agent == agent)
    async with db.sessions() as session:
        return [entry_of(row) for row in await session.scalars(query)]
