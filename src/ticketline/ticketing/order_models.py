"""Tables of orders, tickets, the payment ledger, the change/refund fee rules, and the
money around them: carrier deposits, commission policies, the finance journal, stock.

Ledger invariant: `LedgerEntry` rows are only ever inserted, never updated or
deleted; an order's balance is the sum of its entries, so money can be neither
created nor lost by an edit.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ticketline.core.ids import new_id
from ticketline.db.base import Base, UtcDateTime


class Order(Base):
    """A booking: one contact, one or more tickets, a state and a ledger."""

    __tablename__ = "tk_order"
    __table_args__ = (Index("ix_tk_order_expiry", "state", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    contact_name: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str] = mapped_column(String(20), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    total_fen: Mapped[int] = mapped_column(Integer)
    pickup_hash: Mapped[str] = mapped_column(String(64))
    pickup_failures: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    credit_due: Mapped[date | None] = mapped_column(Date)
    credit_reminded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """One passenger on one seat (or general-admission place) of one trip, between two
    stops."""

    __tablename__ = "tk_ticket"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(ForeignKey("tk_order.id"), index=True)
    passenger_name: Mapped[str] = mapped_column(String(64))
    id_type: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32), index=True)
    passenger_type: Mapped[str] = mapped_column(String(16))
    trip_id: Mapped[str] = mapped_column(ForeignKey("tk_trip.id"), index=True)
    trip_seat_id: Mapped[int] = mapped_column(ForeignKey("tk_trip_seat.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("tk_seat_claim.id"))
    from_seq: Mapped[int] = mapped_column(Integer)
    to_seq: Mapped[int] = mapped_column(Integer)
    class_code: Mapped[str] = mapped_column(String(16))
    seat_no: Mapped[str | None] = mapped_column(String(16))  # None: general admission
    fare_fen: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(Integer)
    insurance_fen: Mapped[int] = mapped_column(Integer)
    commission_fen: Mapped[int] = mapped_column(Integer, default=0)  # earned on issue
    status: Mapped[str] = mapped_column(String(16))  # active, refunded, changed


class OrderLog(Base):
    """One state transition (or money movement) of an order, in order of happening."""

    __tablename__ = "tk_order_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("tk_order.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)


class LedgerEntry(Base):
    """Money in (payment, positive) or out (refund, negative) for an order.

    `key` makes a payment idempotent: the same key twice records it once.
    """

    __tablename__ = "tk_ledger"
    __table_args__ = (UniqueConstraint("key", name="uq_tk_ledger_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("tk_order.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # payment, refund
    method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)


class FeeRule(Base):
    """Fee for a refund or change of a product, by hours left before departure.

    Applies when `min_hours <= hours_left < max_hours` (no max = open ended);
    `allowed` false forbids the action in that window.
    """

    __tablename__ = "tk_fee_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # refund, change
    min_hours: Mapped[int] = mapped_column(Integer)
    max_hours: Mapped[int | None] = mapped_column(Integer)
    percent: Mapped[int] = mapped_column(Integer)  # in tenths of a percent: 50 = 5%
    min_fee_fen: Mapped[int] = mapped_column(Integer)
    round_fen: Mapped[int] = mapped_column(Integer)
    allowed: Mapped[bool] = mapped_column(Boolean)


class CarrierDeposit(Base):
    """Money the agency keeps with a carrier; issuing its tickets draws on it.

    A carrier without a row is not on deposit (it invoices). `balance_fen` never goes
    below zero: the debit is one conditional UPDATE, so concurrent issues cannot
    overdraw it. Every change is also a `DepositEntry`.
    """

    __tablename__ = "tk_carrier_deposit"
    __table_args__ = (CheckConstraint("balance_fen >= 0", name="deposit_not_negative"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    operator_id: Mapped[str] = mapped_column(ForeignKey("tk_operator.id"), unique=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    alert_below_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DepositEntry(Base):
    """One movement of a carrier deposit: a top-up or refund (+), an issue (-); never
    changed."""

    __tablename__ = "tk_deposit_entry"
    __table_args__ = (Index("ix_tk_deposit_entry_deposit_at", "deposit_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deposit_id: Mapped[str] = mapped_column(ForeignKey("tk_carrier_deposit.id"))
    kind: Mapped[str] = mapped_column(String(16))  # top_up, issue, refund, change
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))


class CommissionPolicy(Base):
    """What the agency earns on a ticket it issues: `percent` (tenths of a percent) of
    the price plus `fixed_fen`, never more than the price.

    A row without an operator is the default for its product; `insurance` is the
    product of the insurance sold with tickets.
    """

    __tablename__ = "tk_commission_policy"
    __table_args__ = (
        UniqueConstraint("operator_id", "product", name="uq_tk_commission_policy_scope"),
        # The constraint above lets PostgreSQL hold two defaults (NULLs are distinct).
        Index(
            "uq_tk_commission_policy_default",
            "product",
            unique=True,
            sqlite_where=text("operator_id IS NULL"),
            postgresql_where=text("operator_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("tk_operator.id"))
    product: Mapped[str] = mapped_column(String(16))
    percent: Mapped[int] = mapped_column(Integer)
    fixed_fen: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class FinanceCategory(Base):
    """An income or cost category of the finance journal; `system` ones are booked by
    the product itself and cannot be used for manual entries."""

    __tablename__ = "tk_finance_category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # income, cost
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    system: Mapped[bool] = mapped_column(Boolean)


class FinanceEntry(Base):
    """One amount booked to a category on a local day; never changed (a reversal is a
    negative entry)."""

    __tablename__ = "tk_finance_entry"
    __table_args__ = (Index("ix_tk_finance_entry_day", "day", "category"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(ForeignKey("tk_finance_category.code"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(32))
    ticket_id: Mapped[str | None] = mapped_column(String(32), index=True)
    operator_id: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))


class StockItem(Base):
    """Blank ticket stock of a carrier, or insurance policy forms (no carrier).

    `on_hand` never goes below zero: consuming is one conditional UPDATE.
    """

    __tablename__ = "tk_stock_item"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="stock_not_negative"),
        UniqueConstraint("kind", "operator_id", name="uq_tk_stock_item_scope"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # blank_ticket, insurance
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("tk_operator.id"))
    name: Mapped[str] = mapped_column(String(100))
    on_hand: Mapped[int] = mapped_column(Integer)
    alert_below: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StockMovement(Base):
    """Stock received (+), consumed by an issue (-) or counted (+/-); never changed."""

    __tablename__ = "tk_stock_movement"
    __table_args__ = (Index("ix_tk_stock_movement_item_at", "item_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("tk_stock_item.id"))
    kind: Mapped[str] = mapped_column(String(16))  # received, consumed, counted
    quantity: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    serial_from: Mapped[str | None] = mapped_column(String(32))
    serial_to: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
