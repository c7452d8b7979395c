"""Tables of the notify area: editable message templates and the SMS outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class MessageTemplate(Base):
    """The text of one kind of message in one language, with `{placeholders}`."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("key", "locale", name="uq_message_template_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """One SMS to send: queued, claimed by the worker, then sent or failed for good.

    Rows are never deleted; `attempts` and `last_error` tell what happened.
    """

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    to: Mapped[str] = mapped_column(String(20), index=True)
    body: Mapped[str] = mapped_column(Text)
    template_key: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    gateway: Mapped[str | None] = mapped_column(String(16))
    gateway_message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    template_id: Mapped[str | None] = mapped_column(
        ForeignKey("message_template.id", ondelete="SET NULL")
    )
