"""The order state machine: every legal move in one table.

    held --confirm--> booked --pay--> paid --issue--> issued --pickup--> picked_up --use--> used
    held --pay--> paid;  booked --issue--> issued (on credit only, checked by the caller)
    held, booked --expire--> expired;  held, booked --cancel--> cancelled
    paid, issued, changed --refund--> refunded;  paid, issued --void--> void
    paid, issued, changed --change--> changed;  changed behaves as issued afterwards

A move not in the table raises IllegalTransition; terminal states have no moves.
"""

from __future__ import annotations

from ticketline.core.errors import IllegalTransition

TRANSITIONS: dict[tuple[str, str], str] = {
    ("held", "confirm"): "booked",
    ("held", "pay"): "paid",
    ("booked", "pay"): "paid",
    ("booked", "issue"): "issued",
    ("paid", "issue"): "issued",
    ("issued", "pickup"): "picked_up",
    ("changed", "pickup"): "picked_up",
    ("issued", "use"): "used",
    ("changed", "use"): "used",
    ("picked_up", "use"): "used",
    ("held", "expire"): "expired",
    ("booked", "expire"): "expired",
    ("held", "cancel"): "cancelled",
    ("booked", "cancel"): "cancelled",
    ("paid", "refund"): "refunded",
    ("issued", "refund"): "refunded",
    ("changed", "refund"): "refunded",
    ("paid", "void"): "void",
    ("issued", "void"): "void",
    ("paid", "change"): "changed",
    ("issued", "change"): "changed",
    ("changed", "change"): "changed",
}

STATES = frozenset({s for s, _ in TRANSITIONS} | set(TRANSITIONS.values()))
OPEN_STATES = frozenset({"held", "booked"})
TERMINAL = STATES - {s for s, _ in TRANSITIONS}


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`, or IllegalTransition."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(
            f"cannot {action} an order that is {state}",
            details={"state": state, "action": action},
        ) from None


def can(state: str, action: str) -> bool:
    return (state, action) in TRANSITIONS
