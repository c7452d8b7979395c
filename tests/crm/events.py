"""Events shaped like the ones other areas publish (ticketing's order events, a call's
end), for feeding the timeline in tests without importing those areas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OrderEvent:
    order_id: str
    code: str
    phone: str
    locale: str
    total_fen: int
    actor: str


@dataclass(frozen=True)
class OrderBooked(OrderEvent):
    pickup_code: str = ""
    trip: str = ""
    pickup_deadline: str = ""


@dataclass(frozen=True)
class OrderPaid(OrderEvent):
    amount_fen: int = 0
    method: str = ""


@dataclass(frozen=True)
class OrderRefunded(OrderEvent):
    refund_fen: int = 0
    fee_fen: int = 0


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    caller: str
    direction: str
    talk_ms: int
    ended_at: datetime
