"""Events the CRM area announces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CustomerCreated:
    """A customer was added. Payload: id, name, primary phone (E.164) or None."""

    customer_id: str
    name: str
    phone: str | None


@dataclass(frozen=True)
class CustomerChanged:
    """A customer's profile, phones, tier or flags changed."""

    customer_id: str


@dataclass(frozen=True)
class CustomersMerged:
    """`merged_id` was folded into `kept_id`; areas holding customer ids re-point them."""

    kept_id: str
    merged_id: str


@dataclass(frozen=True)
class PointsChanged:
    """A loyalty ledger entry was written. `points` is signed; `balance` is after it."""

    customer_id: str
    entry_id: str
    kind: str
    points: int
    balance: int
    at: datetime
