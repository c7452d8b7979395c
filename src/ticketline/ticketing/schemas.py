"""Pydantic models for ticketing input and output (catalog, search)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
LongCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Product = Literal["rail", "coach", "event"]
Position = Literal["window", "aisle", "middle", "none"]

# Seat classes a fare and a seat may name: code -> (Chinese, English).
SEAT_CLASSES: dict[str, tuple[str, str]] = {
    "business": ("商务座", "Business"),
    "first": ("一等座", "First class"),
    "second": ("二等座", "Second class"),
    "soft_sleeper": ("软卧", "Soft sleeper"),
    "hard_sleeper": ("硬卧", "Hard sleeper"),
    "hard_seat": ("硬座", "Hard seat"),
    "standing": ("无座", "Standing"),
    "coach": ("座位", "Coach seat"),
    "coach_sleeper": ("卧铺", "Coach sleeper"),
    "vip": ("VIP席", "VIP"),
    "stalls": ("池座", "Stalls"),
    "balcony": ("楼座", "Balcony"),
    "ga": ("站票区", "General admission"),
}
SeatClass = Annotated[str, StringConstraints(pattern="^(" + "|".join(SEAT_CLASSES) + ")$")]


class StrictModel(BaseModel):
    """Input models refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class OperatorIn(StrictModel):
    code: LongCode
    name_zh: Name
    name_en: Name
    product: Product


class StationIn(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name
    city: Name
    pinyin: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]

    @field_validator("pinyin")
    @classmethod
    def _pinyin_words(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]+( [A-Za-z]+)*", value):
            raise ValueError("latin words with single spaces, e.g. 'bei jing nan'")
        return value.lower()


class StopIn(StrictModel):
    station: Code
    arrive_min: int = Field(ge=0, le=7 * 24 * 60)
    depart_min: int = Field(ge=0, le=7 * 24 * 60)
    km: int = Field(ge=0, le=10_000)


class RouteIn(StrictModel):
    code: LongCode
    operator: LongCode
    name: Name
    product: Product
    # 63 legs at most: a seat's legs are one 64-bit mask.
    stops: list[StopIn] = Field(min_length=2, max_length=63)


class SeatIn(StrictModel):
    seat_no: Code
    class_code: SeatClass
    section: Code = "1"
    row: int = Field(1, ge=0, le=10_000)
    position: Position = "none"
    numbered: bool = True
    """False: a general-admission place, sold without a seat number (a quota is simpler)."""


class QuotaIn(StrictModel):
    """A general-admission (standing) section: `places` are sold, no seat is numbered."""

    class_code: SeatClass
    section: Code
    places: int = Field(ge=1, le=5000)


class LayoutIn(StrictModel):
    """Numbered seats, general-admission quotas, or both (a class is one or the other)."""

    code: LongCode
    name: Name
    seats: list[SeatIn] = Field(default_factory=list, max_length=5000)
    quotas: list[QuotaIn] = Field(default_factory=list, max_length=8)


class TimetableIn(StrictModel):
    route: LongCode
    layout: LongCode
    service: Code
    departs_local: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5, 6, 7], min_length=1, max_length=7
    )
    valid_from: date
    valid_to: date


class DistanceFareIn(StrictModel):
    """Fares of one class on a route: `base_fen` + `fen_per_km` x distance, rounded."""

    route: LongCode
    class_code: SeatClass
    base_fen: int = Field(ge=0, le=10_000_00)
    fen_per_km: int = Field(ge=0, le=100_00)
    round_fen: int = Field(50, ge=1, le=100_00)


class FareIn(StrictModel):
    """One fare typed by the operator: the adult fare between two stops of a route."""

    route: LongCode
    class_code: SeatClass
    from_station: Code
    to_station: Code
    amount_fen: int = Field(ge=0, le=100_000_00)


class PromotionIn(StrictModel):
    code: LongCode
    name: Name
    route: LongCode | None = None
    class_code: SeatClass | None = None
    travel_from: date
    travel_to: date
    percent_off: int = Field(ge=1, le=90)


class StationOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    city: str
    pinyin: str
    initials: str


class ClassAvailability(BaseModel):
    class_code: str
    name_zh: str
    name_en: str
    fare_fen: int | None
    seats_left: int


class TripOption(BaseModel):
    """One trip of a timetable search, as the desktop and the IVR read it."""

    trip_id: str
    service: str
    operator: str
    product: str
    from_station: str
    to_station: str
    departs_at: datetime
    arrives_at: datetime
    duration_min: int
    classes: list[ClassAvailability]


IdType = Literal["id_card", "passport", "hk_macau_permit", "taiwan_permit"]
PassengerTypeCode = Literal["adult", "child", "student", "senior", "military", "disabled"]
PaymentMethod = Literal["cash", "card", "cheque", "transfer", "remittance", "online"]
LocaleName = Literal["zh_CN", "en"]


SeatNo = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$"
    ),
]


class SeatOut(BaseModel):
    """One seat of a class on the seat map; `free` for the whole journey asked about."""

    seat_no: str
    section: str
    row: int
    position: str
    free: bool


class PassengerIn(StrictModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    id_type: IdType = "id_card"
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
    passenger_type: PassengerTypeCode = "adult"


class BookingIn(StrictModel):
    """A booking as an agent (or the API) asks for it; prices are never part of it."""

    trip_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    from_station: Code
    to_station: Code
    class_code: SeatClass
    passengers: list[PassengerIn] = Field(min_length=1, max_length=9)
    contact_name: Name
    contact_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    locale: LocaleName = "zh_CN"
    preference: Literal["window", "aisle"] | None = None
    seats: list[SeatNo] = Field(default_factory=list, max_length=9)
    """Seats chosen on the seat map, one per passenger in order; empty: allocated."""
    insurance: bool = False
    hold_only: bool = False
    on_credit: bool = False
    credit_due: date | None = None


class PaymentIn(StrictModel):
    amount_fen: int = Field(gt=0, le=100_000_00)
    method: PaymentMethod
    key: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    reference: Annotated[str, StringConstraints(max_length=64)] | None = None


class PickupIn(StrictModel):
    pickup_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]


class TicketOut(BaseModel):
    """One ticket; `place` is what it says where to sit: the seat number, or for general
    admission (`seat_no` None) the name of the class, e.g. "站票区 General admission"."""

    id: str
    passenger_name: str
    id_type: str
    id_number: str  # masked
    passenger_type: str
    service: str
    service_date: date
    from_station: str
    to_station: str
    departs_at: datetime
    class_code: str
    section: str
    seat_no: str | None
    place: str
    price_fen: int
    insurance_fen: int
    status: str


class LedgerOut(BaseModel):
    id: int
    kind: str
    method: str
    amount_fen: int
    reference: str | None
    at: datetime
    actor: str


class OrderLogOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    details: dict[str, object] | None


class OrderOut(BaseModel):
    """An order as the desktop, the counter and the IVR read it."""

    code: str
    state: str
    contact_name: str
    contact_phone: str
    total_fen: int
    paid_fen: int
    balance_fen: int
    expires_at: datetime | None
    credit_due: date | None
    created_at: datetime
    tickets: list[TicketOut]
    payments: list[LedgerOut] = []
    log: list[OrderLogOut] = []


class BookingOut(BaseModel):
    """The new order and its pickup code, shown once to the agent who booked it."""

    order: OrderOut
    pickup_code: str


TicketIds = list[Annotated[str, StringConstraints(min_length=1, max_length=32)]]


class RefundLine(BaseModel):
    ticket_id: str
    passenger_name: str
    seat_no: str | None
    price_fen: int
    fee_fen: int
    refund_fen: int


class RefundQuote(BaseModel):
    """What a refund would give back now, shown to the customer before confirming."""

    code: str
    allowed: bool
    reason: str
    hours_left: float
    lines: list[RefundLine]
    fee_fen: int
    refund_fen: int


class RefundIn(StrictModel):
    ticket_ids: TicketIds | None = Field(default=None, max_length=9)
    expected_refund_fen: int = Field(ge=0)
    method: PaymentMethod
    key: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ChangeQuoteIn(StrictModel):
    ticket_ids: TicketIds | None = Field(default=None, max_length=9)
    trip_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    class_code: SeatClass | None = None


class ChangeIn(ChangeQuoteIn):
    expected_difference_fen: int
    method: PaymentMethod
    key: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ChangeQuote(BaseModel):
    """The fee and the fare difference of moving tickets to another trip.

    `difference_fen` = new prices + fee - old prices: positive is collected,
    negative is refunded."""

    code: str
    allowed: bool
    reason: str
    hours_left: float
    old_fen: int
    new_fen: int
    fee_fen: int
    difference_fen: int


class DepositIn(StrictModel):
    alert_below_fen: int = Field(ge=0, le=100_000_000_00)


class TopUpIn(StrictModel):
    amount_fen: int = Field(gt=0, le=100_000_000_00)
    reference: str | None = Field(default=None, max_length=64)


class DepositOut(BaseModel):
    operator: str
    name: str
    balance_fen: int
    alert_below_fen: int
    low: bool
    updated_at: datetime


class DepositEntryOut(BaseModel):
    kind: str
    amount_fen: int
    balance_after_fen: int
    order_id: str | None
    reference: str | None
    at: datetime
    actor: str


class OperatorOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    product: str


class RouteStopOut(BaseModel):
    """Stop `seq` of a route; minutes from the first departure, km from the first stop."""

    seq: int
    station: str
    name_zh: str
    name_en: str
    arrive_min: int
    depart_min: int
    km: int


class RouteOut(BaseModel):
    code: str
    operator: str
    name: str
    product: str
    stops: list[RouteStopOut]


class LayoutOut(BaseModel):
    """A seat layout and how many seats of each class it has."""

    code: str
    name: str
    seats: dict[str, int]


class TripOut(BaseModel):
    """One run of a timetable; `departs_at` carries the site's UTC offset."""

    id: str
    route: str
    service: str
    service_date: date
    departs_at: datetime
    status: str


class FareOut(BaseModel):
    """The adult fare of one class between two stops, in fen."""

    class_code: str
    from_station: str
    to_station: str
    amount_fen: int


class FareTableOut(BaseModel):
    """Every fare of a route, with its stops in order to lay them out."""

    route: str
    stops: list[RouteStopOut]
    fares: list[FareOut]


class PassengerTypeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    percent_off: int


class PromotionOut(BaseModel):
    """Percent off for travel dates; no `route` or `class_code` means every one."""

    code: str
    name: str
    route: str | None
    class_code: str | None
    travel_from: date
    travel_to: date
    percent_off: int
    active: bool
