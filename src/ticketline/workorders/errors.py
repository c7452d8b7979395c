"""Errors of the work orders area."""

from __future__ import annotations

from ticketline.core.errors import Conflict, NotFound


class WorkOrderNotFound(NotFound):
    code = "work_order_not_found"


class NoPolicy(NotFound):
    """No SLA policy (or calendar) for what was asked."""

    code = "sla_policy_not_found"


class NobodyToAssign(Conflict):
    code = "nobody_to_assign"


class AlreadyRated(Conflict):
    code = "already_rated"
