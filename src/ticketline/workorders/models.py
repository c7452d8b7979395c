"""Tables of the work orders area: work orders, their log, SLA policies, calendars."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class BusinessCalendarRow(Base):
    """Working hours per weekday in a zone; holidays are separate rows."""

    __tablename__ = "wo_calendar"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    week: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Holiday(Base):
    """A closed day, or (working=True) a make-up working day on a weekend."""

    __tablename__ = "wo_holiday"
    __table_args__ = (UniqueConstraint("calendar_id", "day", name="uq_wo_holiday_calendar_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    calendar_id: Mapped[str] = mapped_column(ForeignKey("wo_calendar.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100))
    working: Mapped[bool] = mapped_column(Boolean)


class SlaPolicy(Base):
    """First response and resolution targets (business minutes) for a type and priority."""

    __tablename__ = "wo_sla_policy"
    __table_args__ = (UniqueConstraint("type", "priority", name="uq_wo_sla_policy_type"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warn_percent: Mapped[int] = mapped_column(Integer)
    calendar_id: Mapped[str] = mapped_column(ForeignKey("wo_calendar.id", ondelete="RESTRICT"))


class CodeCounter(Base):
    """The last number handed out per month, for codes like WO-2611-0042."""

    __tablename__ = "wo_code_counter"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class WorkOrder(Base):
    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_queue", "department_id", "state", "created_at"),
        Index("ix_work_order_assignee_state", "assignee_id", "state"),
        Index("ix_work_order_due", "state", "resolution_due"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    # A reference without a foreign key: the CRM branch migrates independently, and
    # merges re-point it through the CustomersMerged event.
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    order_ref: Mapped[str | None] = mapped_column(String(64))
    department_id: Mapped[str] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(24))
    escalation_level: Mapped[int] = mapped_column(Integer)
    reopen_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    warned: Mapped[bool] = mapped_column(Boolean)
    response_breached: Mapped[bool] = mapped_column(Boolean)
    resolution_breached: Mapped[bool] = mapped_column(Boolean)
    resolved_in_time: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    satisfaction_comment: Mapped[str | None] = mapped_column(String(500))


class WorkOrderLog(Base):
    """Every transition, assignment, note and reply, with who and why.

    `public` entries (replies) are what the customer sees; notes stay internal.
    """

    __tablename__ = "work_order_log"
    __table_args__ = (Index("ix_work_order_log_order_at", "work_order_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    work_order_id: Mapped[str] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # transition, note, reply, customer, ...
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorkOrderAttachment(Base):
    """A file attached to a work order; the bytes live under the attachments folder.

    `path` is relative to that folder. A removed attachment keeps its row (the log
    refers to it) but loses its file.
    """

    __tablename__ = "work_order_attachment"
    __table_args__ = (Index("ix_work_order_attachment_order", "work_order_id", "uploaded_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    work_order_id: Mapped[str] = mapped_column(ForeignKey("work_order.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(300))
    internal: Mapped[bool] = mapped_column(Boolean)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
