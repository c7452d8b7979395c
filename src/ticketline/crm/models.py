"""Tables of the CRM area: customers, phones, tiers, consents, timeline, projections.

`customer_open_item` and `customer_purchase` are projections of other areas' events
(orders, work orders), so a caller lookup and a segment query read only CRM tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
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


class VipTier(Base):
    """A membership level and its service privileges (queue priority, named agent)."""

    __tablename__ = "vip_tier"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    rank: Mapped[int] = mapped_column(Integer)
    queue_priority: Mapped[int] = mapped_column(Integer)
    named_agent: Mapped[bool] = mapped_column(Boolean)
    points_percent: Mapped[int] = mapped_column(Integer)  # 150 = earn 1.5x
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Customer(Base):
    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("id_type", "id_number", name="uq_customer_id_type"),
        CheckConstraint("points_balance >= 0", name="points_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))  # M, F, U
    birthday: Mapped[date | None] = mapped_column(Date)
    birthday_mmdd: Mapped[str | None] = mapped_column(String(5), index=True)
    id_type: Mapped[str | None] = mapped_column(String(16))
    id_number: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text)
    vip_tier_id: Mapped[str | None] = mapped_column(
        ForeignKey("vip_tier.id", ondelete="SET NULL"), index=True
    )
    named_agent_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    member_card: Mapped[str | None] = mapped_column(String(20), unique=True)
    do_not_call: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active, merged
    merged_into_id: Mapped[str | None] = mapped_column(String(32))
    points_balance: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CustomerPhone(Base):
    """One number of a customer; a number belongs to one customer (else: merge)."""

    __tablename__ = "customer_phone"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(16))  # mobile, home, work, other
    is_primary: Mapped[bool] = mapped_column(Boolean)


class Traveller(Base):
    """Someone the customer books for (themselves, family), offered as a passenger."""

    __tablename__ = "customer_traveller"
    __table_args__ = (
        UniqueConstraint(
            "customer_id", "id_type", "id_number", name="uq_customer_traveller_document"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32))
    passenger_type: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Consent(Base):
    """A consent given or withdrawn (marketing SMS, call recording...), never edited."""

    __tablename__ = "customer_consent"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor_name: Mapped[str] = mapped_column(String(64))


class TimelineEntry(Base):
    """One contact or transaction on a customer's timeline.

    `dedupe_key` makes recording an event twice harmless (a replayed bus delivery).
    """

    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_entry_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class OpenItem(Base):
    """An order or work order of a customer that is not finished yet (a projection)."""

    __tablename__ = "customer_open_item"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_customer_open_item_kind"),
        Index("ix_customer_open_item_customer_at", "customer_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # order, work_order
    ref_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Purchase(Base):
    """A paid order of a customer, for segments (routes, spend, last trip)."""

    __tablename__ = "customer_purchase"
    __table_args__ = (Index("ix_customer_purchase_customer_paid", "customer_id", "paid_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    route: Mapped[str | None] = mapped_column(String(64), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    travel_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refunded: Mapped[bool] = mapped_column(Boolean)


class LoyaltyRule(Base):
    """How many points a paid trip earns: per yuan, on some routes or all, and for how long."""

    __tablename__ = "loyalty_rule"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    points_per_yuan: Mapped[int] = mapped_column(Integer)
    min_amount_fen: Mapped[int] = mapped_column(Integer)
    routes: Mapped[list[str]] = mapped_column(JSON)  # empty: every route
    expiry_days: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoyaltyEntry(Base):
    """One line of the points ledger. Entries are never changed except `remaining`.

    Earned lots keep `remaining` (points not yet spent or expired); redemptions and
    expiries consume the oldest lots first. (kind, cause_type, cause_id) is unique,
    so the same cause never earns or redeems twice.
    """

    __tablename__ = "loyalty_entry"
    __table_args__ = (
        UniqueConstraint("kind", "cause_type", "cause_id", name="uq_loyalty_entry_kind"),
        Index("ix_loyalty_entry_customer_at", "customer_id", "at"),
        Index("ix_loyalty_entry_expiry", "remaining", "expires_at"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # earn, redeem, adjust, expire, reverse
    points: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cause_type: Mapped[str] = mapped_column(String(32))
    cause_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(200))
    actor_name: Mapped[str] = mapped_column(String(64))


class GreetingOccasion(Base):
    """A holiday greeting on a date (lunar holidays get a row per year)."""

    __tablename__ = "greeting_occasion"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    on_date: Mapped[date] = mapped_column(Date, index=True)
    template_key: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean)


class GreetingSent(Base):
    """A greeting queued for a customer; unique per occasion so none goes twice."""

    __tablename__ = "greeting_sent"
    __table_args__ = (
        UniqueConstraint("customer_id", "occasion", name="uq_greeting_sent_customer"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    occasion: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_id: Mapped[str | None] = mapped_column(String(32))


class Segment(Base):
    """A saved customer filter (purchase history, tier, tags) that can be exported."""

    __tablename__ = "customer_segment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
