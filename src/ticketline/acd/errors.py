"""Errors of the ACD area."""

from __future__ import annotations

from ticketline.core.errors import Conflict, NotFound


class UnknownQueue(NotFound):
    code = "acd_unknown_queue"


class UnknownAgent(NotFound):
    code = "acd_unknown_agent"


class CallNotFound(NotFound):
    code = "acd_call_not_found"


class NotRinging(Conflict):
    """An answer arrived for an offer that was already withdrawn."""

    code = "acd_not_ringing"


class QueueInUse(Conflict):
    code = "acd_queue_in_use"


class AlreadyWrappedUp(Conflict):
    code = "already_wrapped_up"
