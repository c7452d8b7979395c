"""Pydantic models for the CRM area's input and output."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Gender = Literal["M", "F", "U"]
IdType = Literal["id_card", "passport", "hk_macau_permit", "taiwan_permit", "other"]
PhoneLabel = Literal["mobile", "home", "work", "other"]
LocaleName = Literal["zh_CN", "en"]


class StrictModel(BaseModel):
    """Input models refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class PhoneIn(StrictModel):
    number: PhoneText
    label: PhoneLabel = "mobile"
    primary: bool = False


PassengerType = Literal["adult", "child", "student", "senior", "military", "disabled"]


class TravellerIn(StrictModel):
    """A person the customer books for; the document is checked by whoever books."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    id_type: IdType = "id_card"
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
    passenger_type: PassengerType = "adult"


class TravellerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    id_type: str
    id_number: str
    passenger_type: str


class Preferences(StrictModel):
    seat: Literal["window", "aisle", "front", "back", "any"] | None = None
    travel_class: Literal["standard", "business", "sleeper", "any"] | None = None
    language: LocaleName | None = None


class CustomerCreate(StrictModel):
    name: Name
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    gender: Gender = "U"
    birthday: date | None = None
    id_type: IdType | None = None
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    locale: LocaleName = "zh_CN"
    preferences: Preferences = Field(default_factory=Preferences)
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    notes: Annotated[str, StringConstraints(max_length=4000)] = ""
    vip_tier: Code | None = None
    member_card: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,20}$")] | None = None
    do_not_call: bool = False


class CustomerUpdate(StrictModel):
    name: Name | None = None
    gender: Gender | None = None
    birthday: date | None = None
    id_type: IdType | None = None
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None
    locale: LocaleName | None = None
    preferences: Preferences | None = None
    tags: list[Tag] | None = Field(default=None, max_length=30)
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None
    vip_tier: Code | None = None
    named_agent: Annotated[str, StringConstraints(max_length=64)] | None = None
    member_card: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,20}$")] | None = None
    do_not_call: bool | None = None


class ConsentIn(StrictModel):
    kind: Literal["marketing_sms", "care_sms", "call_recording", "data_processing"]
    granted: bool
    source: Literal["phone", "web", "sms", "counter", "import"] = "phone"


class NoteIn(StrictModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class MergeIn(StrictModel):
    merge_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class TierIn(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name
    rank: int = Field(ge=0, le=100)
    queue_priority: int = Field(ge=0, le=100)
    named_agent: bool = False
    points_percent: int = Field(default=100, ge=0, le=1000)


class TierOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    rank: int
    queue_priority: int
    named_agent: bool
    points_percent: int


class PhoneOut(BaseModel):
    number: str
    label: str
    primary: bool


class ConsentOut(BaseModel):
    kind: str
    granted: bool
    source: str
    at: datetime
    actor: str


class CustomerOut(BaseModel):
    id: str
    name: str
    gender: str
    birthday: date | None
    id_type: str | None
    id_number: str | None
    email: str | None
    locale: str
    preferences: dict[str, Any]
    tags: list[str]
    notes: str
    vip_tier: str | None
    named_agent_id: str | None
    member_card: str | None
    do_not_call: bool
    status: str
    merged_into_id: str | None
    points_balance: int
    phones: list[PhoneOut]
    created_at: datetime
    last_contact_at: datetime | None


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    total: int
    page: int
    size: int


class TimelineOut(BaseModel):
    id: int
    at: datetime
    kind: str
    title: str
    detail: dict[str, Any]
    ref_type: str | None
    ref_id: str | None
    actor: str | None


class OpenItemOut(BaseModel):
    kind: str
    ref_id: str
    code: str
    state: str
    title: str
    amount_fen: int | None
    updated_at: datetime


class CallerOut(BaseModel):
    """The screen pop: a known customer with context, or a new caller."""

    known: bool
    number: str | None
    customer_id: str | None
    name: str | None
    vip_tier: TierOut | None
    named_agent_id: str | None
    do_not_call: bool
    locale: str | None
    points_balance: int
    last_contacts: list[TimelineOut]
    open_orders: list[OpenItemOut]
    open_work_orders: list[OpenItemOut]


class RuleIn(StrictModel):
    code: Code
    name: Name
    points_per_yuan: int = Field(ge=0, le=1000)
    min_amount_fen: int = Field(default=0, ge=0)
    routes: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    expiry_days: int = Field(default=730, ge=1, le=3650)
    active: bool = True


class RuleOut(BaseModel):
    code: str
    name: str
    points_per_yuan: int
    min_amount_fen: int
    routes: list[str]
    expiry_days: int
    active: bool


class RedeemIn(StrictModel):
    points: int = Field(ge=1, le=10_000_000)
    cause_type: Literal["order", "gift", "upgrade", "other"]
    cause_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    note: Annotated[str, StringConstraints(max_length=200)] = ""


class AdjustIn(StrictModel):
    points: int = Field(ge=-10_000_000, le=10_000_000)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LedgerOut(BaseModel):
    id: str
    at: datetime
    kind: str
    points: int
    balance_after: int
    expires_at: datetime | None
    cause_type: str
    cause_id: str
    note: str
    actor: str


class BalanceOut(BaseModel):
    customer_id: str
    balance: int
    entries: list[LedgerOut]


class RejectedRowOut(BaseModel):
    row: int  # as the spreadsheet shows it: the header is row 1
    column: str
    message: str


class ImportOut(BaseModel):
    imported: int
    rejected: list[RejectedRowOut]
    total: int
    dry_run: bool
    ignored_columns: list[str]


RouteCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class SegmentFilter(StrictModel):
    """Which customers a segment holds; every given criterion must hold (AND).

    Spend and trips count paid orders that were not refunded. `routes`: a trip on any
    of them; `tags`: all of them; dates are days in the site's zone, `last_trip_after`
    inclusive and `last_trip_before` exclusive."""

    routes: list[RouteCode] = Field(default_factory=list, max_length=50)
    min_spend_fen: int | None = Field(default=None, ge=0)
    max_spend_fen: int | None = Field(default=None, ge=0)
    spend_days: int | None = Field(default=None, ge=1, le=3650)  # spend within the last N days
    last_trip_after: date | None = None
    last_trip_before: date | None = None
    no_trip_since_days: int | None = Field(default=None, ge=1, le=3650)
    tiers: list[Code] = Field(default_factory=list, max_length=20)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    language: LocaleName | None = None
    exclude_do_not_call: bool = True


class SegmentIn(StrictModel):
    name: Name
    filter: SegmentFilter = Field(default_factory=SegmentFilter)


class SegmentOut(BaseModel):
    code: str
    name: str
    filter: SegmentFilter
    created_at: datetime
    count: int | None = None  # customers it holds now (on reading one segment)


class SegmentMemberOut(BaseModel):
    customer_id: str
    name: str
    phone: str | None
    tier: str | None
    tags: list[str]
    spend_fen: int
    trips: int
    last_trip_at: datetime | None


class SegmentPage(BaseModel):
    items: list[SegmentMemberOut]
    total: int
    page: int
    size: int
