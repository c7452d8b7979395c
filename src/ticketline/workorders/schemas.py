"""Pydantic models for the work orders area's input and output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

WorkOrderType = Literal[
    "complaint",
    "refund_dispute",
    "lost_property",
    "special_assistance",
    "information",
    "technical_fault",
]
Priority = Literal["low", "normal", "high", "urgent"]
Source = Literal["phone", "web", "sms", "voicemail", "counter"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
TYPES: tuple[str, ...] = WorkOrderType.__args__  # type: ignore[attr-defined]
PRIORITIES: tuple[str, ...] = Priority.__args__  # type: ignore[attr-defined]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkOrderCreate(StrictModel):
    type: WorkOrderType
    priority: Priority = "normal"
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=8000)] = ""
    source: Source = "phone"
    customer_id: Annotated[str, StringConstraints(max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    order_ref: Annotated[str, StringConstraints(max_length=64)] | None = None
    department: Code
    assignee: Annotated[str, StringConstraints(max_length=64)] | None = None
    assignment: Literal["manual", "round_robin", "least_open"] = "manual"


class TransitionIn(StrictModel):
    action: Literal["start", "wait", "resume", "resolve", "close", "reopen"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class AssignIn(StrictModel):
    assignee: Annotated[str, StringConstraints(max_length=64)] | None = None
    strategy: Literal["manual", "round_robin", "least_open"] = "manual"
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""


class TransferIn(StrictModel):
    department: Code
    reason: Text


class EscalateIn(StrictModel):
    reason: Text


class NoteIn(StrictModel):
    text: Text
    public: bool = False


class RatingIn(StrictModel):
    code: Annotated[str, StringConstraints(max_length=16)]
    phone: Annotated[str, StringConstraints(max_length=40)]
    score: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


class CalendarIn(StrictModel):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    timezone: str = "Asia/Shanghai"
    week: dict[str, list[list[str]]]


class HolidayIn(StrictModel):
    day: date
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    working: bool = False


class PolicyIn(StrictModel):
    type: WorkOrderType
    priority: Priority
    first_response_minutes: int = Field(ge=1, le=60 * 24 * 60)
    resolution_minutes: int = Field(ge=1, le=60 * 24 * 365)
    warn_percent: int = Field(default=80, ge=1, le=99)
    calendar: Code


class LogOut(BaseModel):
    at: datetime
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    comment: str
    public: bool
    detail: dict[str, Any]


class WorkOrderOut(BaseModel):
    id: str
    code: str
    type: str
    priority: str
    title: str
    description: str
    source: str
    customer_id: str | None
    phone: str | None
    order_ref: str | None
    department: str
    assignee_id: str | None
    state: str
    escalation_level: int
    reopen_count: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    response_breached: bool
    resolution_breached: bool
    satisfaction: int | None


class WorkOrderDetail(WorkOrderOut):
    log: list[LogOut]


class WorkOrderPage(BaseModel):
    items: list[WorkOrderOut]
    total: int
    page: int
    size: int


class PublicStatus(BaseModel):
    """What a customer sees with the code and their phone number."""

    code: str
    type: str
    state: str
    updated_at: datetime
    last_reply: str | None
    last_reply_at: datetime | None


class ReportOut(BaseModel):
    since: datetime
    until: datetime
    created: int
    resolved: int
    created_by_type: dict[str, int]
    created_by_department: dict[str, int]
    average_handling_hours: float | None
    sla_compliance_percent: float | None
    reopen_rate_percent: float | None
    satisfaction_average: float | None
    satisfaction_count: int


class PolicyOut(BaseModel):
    type: str
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    warn_percent: int
    calendar_id: str


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    internal: bool
    uploaded_by: str
    uploaded_at: datetime
