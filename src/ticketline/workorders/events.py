"""Events the work orders area announces (the CRM timeline and the desktop listen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WorkOrderOpened:
    """A work order was created. Payload: ids, code, who it is for, what and where."""

    work_order_id: str
    code: str
    customer_id: str | None
    phone: str | None
    type: str
    priority: str
    title: str
    state: str
    department: str
    at: datetime


@dataclass(frozen=True)
class WorkOrderStateChanged:
    """The state moved `from_state` -> `to_state` by `actor`, with a comment."""

    work_order_id: str
    code: str
    customer_id: str | None
    from_state: str
    to_state: str
    actor: str
    comment: str
    at: datetime


@dataclass(frozen=True)
class WorkOrderAssigned:
    """Assigned (or transferred) to a department and possibly a person."""

    work_order_id: str
    code: str
    department: str
    assignee_id: str | None
    actor: str
    reason: str


@dataclass(frozen=True)
class WorkOrderEscalated:
    """Raised to a supervisor; `level` counts escalations of this order."""

    work_order_id: str
    code: str
    level: int
    supervisor_id: str | None
    actor: str
    reason: str


@dataclass(frozen=True)
class WorkOrderReplied:
    """A public reply was sent to the customer (not an internal note)."""

    work_order_id: str
    code: str
    customer_id: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class WorkOrderNearBreach:
    """`target` (first_response or resolution) is close to its due time."""

    work_order_id: str
    code: str
    target: str
    due_at: datetime
    department: str
    assignee_id: str | None


@dataclass(frozen=True)
class WorkOrderBreached:
    """`target` (first_response or resolution) passed its due time unmet."""

    work_order_id: str
    code: str
    target: str
    due_at: datetime
    department: str
    assignee_id: str | None
