"""Errors of the ticketing area; each `code` is stable for API clients and the IVR."""

from __future__ import annotations

from ticketline.core.errors import Conflict, NotFound, TicketlineError


class CatalogNotFound(NotFound):
    """A station, route, layout, trip or passenger type named in the input is unknown."""

    code = "catalog_not_found"


class CodeTaken(Conflict):
    code = "catalog_code_taken"


class SeatsUnavailable(Conflict):
    """Not enough seats free on every leg of the journey in the asked class."""

    code = "seats_unavailable"


class TripNotBookable(Conflict):
    """The trip is cancelled, has left, or does not serve the asked stations in order."""

    code = "trip_not_bookable"


class OrderNotFound(NotFound):
    code = "order_not_found"


class HoldExpired(Conflict):
    code = "hold_expired"


class PaymentRejected(TicketlineError):
    """A payment or refund that would make the ledger wrong (overpay, negative, reuse)."""

    code = "payment_rejected"
    status = 409


class PickupCodeWrong(TicketlineError):
    code = "pickup_code_wrong"
    status = 403


class PickupLocked(TicketlineError):
    code = "pickup_locked"
    status = 423


class TicketNotUsable(Conflict):
    """The tickets cannot be checked in at the gate: already used, refunded, not issued
    yet, or the trip is cancelled; `details.reason` says which."""

    code = "ticket_not_usable"


class NotAllowedByRules(Conflict):
    """The fee rules forbid this refund or change now (e.g. after departure)."""

    code = "not_allowed_by_rules"


class QuoteChanged(Conflict):
    """The amounts the customer agreed to are no longer what the rules give."""

    code = "quote_changed"


class DepositInsufficient(Conflict):
    """The carrier deposit does not cover the tickets to issue; top it up first."""

    code = "deposit_insufficient"


class StockExhausted(Conflict):
    """Not enough blank tickets or insurance forms in stock to issue; receive more first."""

    code = "stock_exhausted"
