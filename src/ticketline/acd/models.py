"""Tables of the ACD: queues, memberships, not-ready reason codes, the queue log,
the wrap-up dispositions and each call's wrap-up.

Queues and memberships are configuration (written by AcdAdmin, audited); the
queue log is append-only and written in batches by QueueLogWriter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class AcdQueue(Base):
    """A queue's settings; `code` is the name flows and the router use."""

    __tablename__ = "acd_queue"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    strategy: Mapped[str] = mapped_column(String(32))
    skills: Mapped[list[Any]] = mapped_column(JSON)  # [[skill code, min level], ...]
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # timings, steps, overflow ...
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AcdMembership(Base):
    """An agent (staff member) in a queue, with penalty, order, weight and hours."""

    __tablename__ = "acd_membership"

    queue_id: Mapped[str] = mapped_column(
        ForeignKey("acd_queue.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    penalty: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[str | None] = mapped_column(String(5))  # "08:00"
    window_end: Mapped[str | None] = mapped_column(String(5))
    new_customers: Mapped[bool] = mapped_column(Boolean)


class AcdReasonCode(Base):
    """A not-ready reason an administrator defines (lunch, training, after-call work...)."""

    __tablename__ = "acd_reason_code"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean)


class AcdQueueLogRow(Base):
    """One line of the queue log (see acd/queuelog.py for the events and fields)."""

    __tablename__ = "acd_queue_log"
    __table_args__ = (Index("ix_acd_queue_log_queue_at", "queue", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    event: Mapped[str] = mapped_column(String(24), index=True)
    queue: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    wait_ms: Mapped[int | None] = mapped_column(Integer)
    talk_ms: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class AcdDisposition(Base):
    """How an agent sums a call up at wrap-up (booked, refunded, complaint...)."""

    __tablename__ = "acd_disposition"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)


class AcdWrapUp(Base):
    """What the agent recorded when a call ended: disposition, notes, linked records."""

    __tablename__ = "acd_wrap_up"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    disposition: Mapped[str] = mapped_column(String(32), index=True)
    notes: Mapped[str] = mapped_column(String(2000))
    order_code: Mapped[str | None] = mapped_column(String(16))
    work_order_code: Mapped[str | None] = mapped_column(String(20))
