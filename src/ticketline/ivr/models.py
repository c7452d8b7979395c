"""Tables of the IVR: operator announcements and the log of calls through flows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class Announcement(Base):
    """A notice played before the menu between `starts_at` and `ends_at`.

    `flow` None means every flow. Text in both languages; the caller hears theirs.
    """

    __tablename__ = "ivr_announcement"
    __table_args__ = (Index("ix_ivr_announcement_window", "starts_at", "ends_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    flow: Mapped[str | None] = mapped_column(String(64))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class IvrCall(Base):
    """One call's path through a flow, kept for per-node statistics and containment."""

    __tablename__ = "ivr_call"
    __table_args__ = (Index("ix_ivr_call_flow_started", "flow", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    flow: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    caller: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(20))
    contained: Mapped[bool] = mapped_column(Boolean)
    steps: Mapped[list[list[str]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
