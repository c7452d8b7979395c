"""Call recordings: where the files go, and the table linking each file to its call.

Files live under `<recordings_dir>/YYYY/MM/DD/` (the site's local date); the
table stores the path relative to that folder, so the folder can move. The
call is referenced by id without a foreign key because call records are
written in batches off the signalling path and may land after the recording.
`RecordingStore` is the only writer of the table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.clock import Clock
from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime
from ticketline.db.session import Database
from ticketline.telephony.media_recorder import RecordingResult

WRITE_ATTEMPTS = 6


class Recording(Base):
    """One recorded WAV file of a call (stereo: caller left, agent right)."""

    __tablename__ = "recording"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(String(32), index=True)
    leg_id: Mapped[str | None] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(String(500))
    channels: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    pauses: Mapped[list[list[float]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True)
class RecordingInfo:
    """A stored recording, as the API and events show it."""

    id: str
    call_id: str
    leg_id: str | None
    path: str
    channels: int
    duration_ms: int
    size_bytes: int
    pauses: tuple[tuple[float, float], ...]
    started_at: datetime
    ended_at: datetime


class RecordingStore:
    """Names recording files and records them in the database."""

    def __init__(self, db: Database, clock: Clock, root: Path, zone: ZoneInfo) -> None:
        self._db = db
        self._clock = clock
        self.root = root
        self._zone = zone

    def new_path(self, call_id: str, leg_id: str | None = None) -> Path:
        """An absolute path for a new recording of the call, in today's folder."""
        local = self._clock.now().astimezone(self._zone)
        name = f"{local:%H%M%S}-{call_id}" + (f"-{leg_id}" if leg_id else "") + ".wav"
        return self.root / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}" / name

    async def add(
        self,
        result: RecordingResult,
        call_id: str,
        started_at: datetime,
        leg_id: str | None = None,
    ) -> RecordingInfo:
        """Store a finished recording; one transaction."""
        path = result.path
        relative = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        row = Recording(
            id=new_id(),
            call_id=call_id,
            leg_id=leg_id,
            path=relative.as_posix(),
            channels=result.channels,
            duration_ms=result.duration_ms,
            size_bytes=path.stat().st_size if path.exists() else 0,
            pauses=[[p.start, p.end] for p in result.pauses],
            started_at=started_at,
            ended_at=self._clock.now(),
        )
        for attempt in range(WRITE_ATTEMPTS):
            try:
                async with self._db.transaction() as session:
                    session.add(row)
                break
            except OperationalError:
                # SQLite under a burst of hang-ups: "database is locked" even in WAL when
                # another writer wins; the row is small, so wait a little and write again.
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        return _info(row)

    async def for_call(self, call_id: str) -> list[RecordingInfo]:
        """Every recording of a call, oldest first."""
        query = select(Recording).where(Recording.call_id == call_id)
        async with self._db.sessions() as session:
            rows = (await session.scalars(query.order_by(Recording.started_at))).all()
        return [_info(row) for row in rows]

    def file_of(self, info: RecordingInfo) -> Path:
        """The absolute path of a stored recording."""
        return self.root / info.path


def _info(row: Recording) -> RecordingInfo:
    return RecordingInfo(
        row.id,
        row.call_id,
        row.leg_id,
        row.path,
        row.channels,
        row.duration_ms,
        row.size_bytes,
        tuple((float(a), float(b)) for a, b in row.pauses),
        row.started_at,
        row.ended_at,
    )
