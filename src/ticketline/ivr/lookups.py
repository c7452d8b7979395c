"""The business actions flows may name: declared here, bound to the areas' services.

Each action is declared with the arguments it needs and the outcomes it may
return, so flows can be checked against them even before a business area is
wired; an unbound action makes a `lookup` take its `error` branch.
"""

from __future__ import annotations

from ticketline.ivr.actions import ActionRegistry

# name: (arguments, outcomes, what it does)
CATALOG: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "identify_caller": ((), ("ok", "not_found"), "Find the customer by the calling number."),
    "identify_by_card": (
        ("card",),
        ("ok", "not_found"),
        "Find the customer by a membership card number typed in.",
    ),
    "identify_by_booking": (
        ("code",),
        ("ok", "not_found"),
        "Find the customer who made a booking, by its booking code.",
    ),
    "timetable": (
        ("origin", "destination", "date"),
        ("ok", "not_found", "invalid"),
        "Trips between two stations on a date, with departure times and seats left.",
    ),
    "fares": (
        ("origin", "destination", "date"),
        ("ok", "not_found", "invalid"),
        "Fares by class between two stations on a date.",
    ),
    "seats_left": (
        ("code",),
        ("ok", "not_found"),
        "Prices and seats left by section for a performance, by its number (MMDD + place).",
    ),
    "shows_on": (("date",), ("ok", "not_found"), "Performances on a date."),
    "order_status": (("code",), ("ok", "not_found"), "State of an order by its booking code."),
    "resend_pickup_code": (
        ("code",),
        ("ok", "not_found", "not_allowed"),
        "Send the pickup code again by SMS to the order's contact phone.",
    ),
    "cancel_unpaid_booking": (
        ("code",),
        ("ok", "not_found", "not_allowed"),
        "Cancel a booking that is not paid yet (the flow reads it back and asks first).",
    ),
    "refund_rules": (
        ("code",),
        ("ok", "not_found"),
        "The change and refund fees that apply to an order now.",
    ),
    "points_balance": ((), ("ok", "not_found"), "The identified member's points balance."),
    "workorder_status": (("code",), ("ok", "not_found"), "Progress of a work order by its code."),
}


def declare_actions(registry: ActionRegistry) -> ActionRegistry:
    """Declare every catalog action (unbound) in `registry`."""
    for name, (args, outcomes, doc) in CATALOG.items():
        registry.register(name, None, args=args, outcomes=outcomes, doc=doc)
    return registry
