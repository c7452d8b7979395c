"""Tables of the telephony area: trunks, and call detail records for calls and legs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class Trunk(Base):
    """A carrier connection: matched inbound by source address (and DID), used outbound.

    `register` trunks send REGISTER to the provider with `username`/`password`, which
    therefore has to be kept readable (digest needs it); IP trunks carry no secret.
    """

    __tablename__ = "trunk"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    transport: Mapped[str] = mapped_column(String(8))
    inbound_sources: Mapped[list[str]] = mapped_column(JSON)
    dids: Mapped[list[str]] = mapped_column(JSON)
    caller_id: Mapped[str | None] = mapped_column(String(32))
    registers: Mapped[bool] = mapped_column(Boolean)
    username: Mapped[str | None] = mapped_column(String(64))
    password: Mapped[str | None] = mapped_column(String(128))
    max_channels: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CallRecord(Base):
    """One call as the customer lived it, from the first INVITE to the last BYE."""

    __tablename__ = "call_record"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    sip_call_id: Mapped[str] = mapped_column(String(255), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # inbound, outbound, internal
    caller: Mapped[str] = mapped_column(String(64), index=True)
    callee: Mapped[str] = mapped_column(String(64), index=True)
    trunk: Mapped[str | None] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    talk_ms: Mapped[int | None] = mapped_column(Integer)
    end_cause: Mapped[str | None] = mapped_column(String(32))
    hangup_by: Mapped[str | None] = mapped_column(String(16))  # caller, callee, system
    status: Mapped[str] = mapped_column(String(16), index=True)  # active, ended


class CallLeg(Base):
    """One SIP dialog of a call: the caller's leg, an agent's leg, a transfer target."""

    __tablename__ = "call_leg"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(
        ForeignKey("call_record.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # caller, callee, agent, transfer, snoop
    direction: Mapped[str] = mapped_column(String(16))  # inbound, outbound
    peer: Mapped[str] = mapped_column(String(255))
    sip_call_id: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_cause: Mapped[str | None] = mapped_column(String(32))
    hangup_by: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
