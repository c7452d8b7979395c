"""Files attached to a work order: photos of lost property, receipts, letters.

The bytes are streamed to a temporary file while they are counted and hashed, so an
oversized upload is stopped at the limit with nothing kept; the first bytes must look
like the file type the name claims (a `.pdf` that is not a PDF is refused). Only then
is the file moved under `YYYY/MM/DD/` and its row and log entry written together.
The stored content type comes from our table of kinds, never from the client.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from sqlalchemy import func, select

from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput, NotFound, TicketlineError
from ticketline.db.session import Database
from ticketline.workorders.errors import WorkOrderNotFound
from ticketline.workorders.models import WorkOrder, WorkOrderAttachment, WorkOrderLog

MAX_PER_ORDER = 50
SNIFF_BYTES = 16


class AttachmentTooLarge(TicketlineError):
    code = "attachment_too_large"
    status = 413


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"


def _is_text(head: bytes) -> bool:
    return b"\x00" not in head


def _riff(kind: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _office_zip(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def _office_old(head: bytes) -> bool:
    return head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Kind:
    content_type: str
    looks_right: Callable[[bytes], bool]


KINDS: dict[str, Kind] = {
    ".jpg": Kind("image/jpeg", lambda head: head[:3] == b"\xff\xd8\xff"),
    ".jpeg": Kind("image/jpeg", lambda head: head[:3] == b"\xff\xd8\xff"),
    ".png": Kind("image/png", lambda head: head[:8] == b"\x89PNG\r\n\x1a\n"),
    ".gif": Kind("image/gif", lambda head: head[:4] == b"GIF8"),
    ".webp": Kind("image/webp", _riff(b"WEBP")),
    ".pdf": Kind("application/pdf", lambda head: head[:5] == b"%PDF-"),
    ".txt": Kind("text/plain; charset=utf-8", _is_text),
    ".csv": Kind("text/csv", _is_text),
    ".wav": Kind("audio/wav", _riff(b"WAVE")),
    ".mp3": Kind("audio/mpeg", lambda head: head[:3] == b"ID3" or head[:1] == b"\xff"),
    ".docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _office_zip
    ),
    ".xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _office_zip),
    ".doc": Kind("application/msword", _office_old),
    ".xls": Kind("application/vnd.ms-excel", _office_old),
}


def clean_filename(raw: str) -> tuple[str, Kind]:
    """The name without any folder part, and its kind; refuses names we cannot keep."""
    name = PureWindowsPath(PurePosixPath(raw.strip()).name).name.strip()
    if not name or name in (".", ".."):
        raise InvalidInput("file", "the file has no name")
    if len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput("file", "the file name is too long or holds control characters")
    kind = KINDS.get(PurePosixPath(name).suffix.lower())
    if kind is None:
        allowed = ", ".join(sorted(KINDS))
        raise InvalidInput("file", f"{name}: this kind of file is not accepted ({allowed})")
    return name, kind


class AttachmentService:
    def __init__(self, db: Database, clock: Clock, folder: Path, max_bytes: int) -> None:
        self.db = db
        self.clock = clock
        self.folder = folder
        self.max_bytes = max_bytes

    async def store(
        self,
        actor: Actor,
        work_order_id: str,
        filename: str,
        chunks: AsyncIterator[bytes],
        *,
        internal: bool = True,
    ) -> WorkOrderAttachment:
        name, kind = clean_filename(filename)
        await self._check_room(work_order_id)
        incoming = self.folder / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        temp = incoming / uuid.uuid4().hex
        try:
            size, digest = await self._receive(chunks, temp, kind, name)
            return await self._keep(actor, work_order_id, name, kind, temp, size, digest, internal)
        finally:
            temp.unlink(missing_ok=True)

    async def _check_room(self, work_order_id: str) -> None:
        async with self.db.sessions() as session:
            if await session.get(WorkOrder, work_order_id) is None:
                raise WorkOrderNotFound(f"no work order {work_order_id}")
            count = await session.scalar(
                select(func.count())
                .select_from(WorkOrderAttachment)
                .where(
                    WorkOrderAttachment.work_order_id == work_order_id,
                    WorkOrderAttachment.removed_at.is_(None),
                )
            )
        if (count or 0) >= MAX_PER_ORDER:
            raise InvalidInput("file", f"a work order holds at most {MAX_PER_ORDER} attachments")

    async def _receive(
        self, chunks: AsyncIterator[bytes], temp: Path, kind: Kind, name: str
    ) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        head = b""
        with temp.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_bytes:
                    raise AttachmentTooLarge(
                        f"{name}: larger than the limit of {self.max_bytes} bytes",
                        details={"field": "file", "max_bytes": self.max_bytes},
                    )
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput("file", f"{name}: the file is empty")
        if not kind.looks_right(head):
            raise InvalidInput("file", f"{name}: the content is not what the name says")
        return size, digest.hexdigest()

    async def _keep(
        self,
        actor: Actor,
        work_order_id: str,
        name: str,
        kind: Kind,
        temp: Path,
        size: int,
        digest: str,
        internal: bool,
    ) -> WorkOrderAttachment:
        now = self.clock.now()
        attachment_id = _ordered_id()
        relative = f"{now:%Y/%m/%d}/{attachment_id}{PurePosixPath(name).suffix.lower()}"
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        try:
            async with self.db.transaction() as session:
                order = await session.get(WorkOrder, work_order_id, with_for_update=True)
                if order is None:
                    raise WorkOrderNotFound(f"no work order {work_order_id}")
                order.updated_at = now
                row = WorkOrderAttachment(
                    id=attachment_id, work_order_id=order.id, filename=name,
                    content_type=kind.content_type, size_bytes=size, sha256=digest,
                    path=relative, internal=internal, uploaded_by=actor.name, uploaded_at=now,
                )  # fmt: skip
                session.add(row)
                session.add(_entry(order, actor, "attachment", name, attachment_id, size))
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return row

    async def kept(self, work_order_id: str) -> list[WorkOrderAttachment]:
        """The attachments still kept, oldest first."""
        stmt = (
            select(WorkOrderAttachment)
            .where(
                WorkOrderAttachment.work_order_id == work_order_id,
                WorkOrderAttachment.removed_at.is_(None),
            )
            .order_by(WorkOrderAttachment.uploaded_at, WorkOrderAttachment.id)
        )
        async with self.db.sessions() as session:
            return list(await session.scalars(stmt))

    async def open(
        self, work_order_id: str, attachment_id: str
    ) -> tuple[WorkOrderAttachment, Path]:
        """The attachment and where its bytes are."""
        async with self.db.sessions() as session:
            row = await session.get(WorkOrderAttachment, attachment_id)
        if row is None or row.work_order_id != work_order_id or row.removed_at is not None:
            raise AttachmentNotFound(f"no attachment {attachment_id} on this work order")
        path = self.folder / row.path
        if not path.is_file():
            raise AttachmentNotFound(f"the file of attachment {attachment_id} is missing")
        return row, path

    async def remove(self, actor: Actor, work_order_id: str, attachment_id: str) -> None:
        """Deletes the file; the row stays (the log names it) marked as removed."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = await session.get(WorkOrderAttachment, attachment_id, with_for_update=True)
            if row is None or row.work_order_id != work_order_id or row.removed_at is not None:
                raise AttachmentNotFound(f"no attachment {attachment_id} on this work order")
            order = await session.get(WorkOrder, work_order_id, with_for_update=True)
            assert order is not None  # the foreign key holds it
            row.removed_by, row.removed_at = actor.name, now
            order.updated_at = now
            session.add(_entry(order, actor, "attachment_removed", row.filename, row.id, None))
        (self.folder / row.path).unlink(missing_ok=True)


def _ordered_id() -> str:
    """Random but in upload order: uploads in the same clock tick still list in order."""
    return f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"


def _entry(
    order: WorkOrder, actor: Actor, kind: str, name: str, attachment_id: str, size: int | None
) -> WorkOrderLog:
    detail: dict[str, object] = {"attachment_id": attachment_id, "filename": name}
    if size is not None:
        detail["size_bytes"] = size
    return WorkOrderLog(
        work_order_id=order.id, at=order.updated_at, actor_name=actor.name, kind=kind,
        from_state=None, to_state=None, comment=name, public=False, detail=detail,
    )  # fmt: skip
