"""Events the ticketing area announces on the bus; CRM, loyalty and notify subscribe.

Every order event carries the order id, its booking code, the contact phone and the
locale, so a subscriber needs no query to address the customer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderEvent:
    """Base of order events. Payload: order id, booking code, contact phone (E.164),
    locale, total in fen, and the actor's name."""

    order_id: str
    code: str
    phone: str
    locale: str
    total_fen: int
    actor: str


@dataclass(frozen=True)
class OrderHeld(OrderEvent):
    """Seats are held until the order's expiry while the caller decides."""


@dataclass(frozen=True)
class OrderBooked(OrderEvent):
    """The order is confirmed (unpaid or on credit). `pickup_code` is the clear secret,
    only on this event and OrderIssued, for the SMS; never stored in clear."""

    pickup_code: str = ""
    trip: str = ""
    pickup_deadline: str = ""


@dataclass(frozen=True)
class OrderPaid(OrderEvent):
    """The ledger now covers the order total. `amount_fen`: this payment; `route`: the
    route code of the first trip, `departs_at` its departure (ISO, UTC), for the CRM's
    purchase history."""

    amount_fen: int = 0
    method: str = ""
    route: str = ""
    departs_at: str = ""


@dataclass(frozen=True)
class OrderIssued(OrderEvent):
    """Tickets are issued; `pickup_code` is a fresh clear secret for the SMS."""

    pickup_code: str = ""
    trip: str = ""
    pickup_deadline: str = ""


@dataclass(frozen=True)
class OrderPickedUp(OrderEvent):
    """The customer collected the tickets at a counter."""


@dataclass(frozen=True)
class OrderUsed(OrderEvent):
    """The tickets were checked in at the gate or the boarding door (检票)."""


@dataclass(frozen=True)
class OrderCancelled(OrderEvent):
    """An unpaid order was cancelled or expired; `reason` says which."""

    reason: str = ""


@dataclass(frozen=True)
class OrderRefunded(OrderEvent):
    """Tickets were refunded. `refund_fen` paid back, `fee_fen` kept; `complete` when no
    ticket of the order is left (`total_fen` is then what the order keeps: the fees)."""

    refund_fen: int = 0
    fee_fen: int = 0
    complete: bool = True


@dataclass(frozen=True)
class OrderChanged(OrderEvent):
    """Tickets moved to another trip; `fee_fen` kept, `difference_fen` charged (+) or
    refunded (-)."""

    fee_fen: int = 0
    difference_fen: int = 0


@dataclass(frozen=True)
class PickupCodeResent(OrderEvent):
    """A new pickup code replaces the old one; `pickup_code` is clear, for the SMS."""

    pickup_code: str = ""


@dataclass(frozen=True)
class OrderTripCancelled(OrderEvent):
    """A trip this order has tickets on was cancelled; `trip` names it (service and
    date). The customer is texted that a refund or change costs no fee."""

    trip: str = ""


@dataclass(frozen=True)
class TripCancelled:
    """The operator cancelled a trip. Payload: trip id, service code, service date (ISO).
    Each order with tickets on it is told by its own OrderTripCancelled."""

    trip_id: str
    service: str
    service_date: str


@dataclass(frozen=True)
class DepositLow:
    """A carrier deposit fell below its alert threshold (top it up before it runs out)."""

    operator: str
    balance_fen: int
    alert_below_fen: int


@dataclass(frozen=True)
class StockLow:
    """Blank tickets or insurance forms fell below their alert level."""

    item: str
    on_hand: int
    alert_below: int


@dataclass(frozen=True)
class CreditDueSoon:
    """An order on credit is due soon and still owes money: the customer gets a reminder."""

    code: str
    phone: str
    locale: str
    due: str
    owed_fen: int
