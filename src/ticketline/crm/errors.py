"""Errors of the CRM area."""

from __future__ import annotations

from ticketline.core.errors import Conflict, InvalidInput, NotFound, TicketlineError


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class TierNotFound(NotFound):
    code = "vip_tier_not_found"


class DuplicateCustomer(Conflict):
    """Another customer already holds this phone, card or ID document; merge them instead."""

    code = "duplicate_customer"

    def __init__(self, field: str, existing_id: str) -> None:
        super().__init__(
            f"{field}: already belongs to customer {existing_id}; merge the two instead",
            details={"field": field, "existing_customer_id": existing_id, "offer": "merge"},
        )


class CustomerMerged(Conflict):
    """The customer was merged into another one and is read-only now."""

    code = "customer_merged"


class SegmentNotFound(NotFound):
    code = "segment_not_found"


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class ImportRejected(InvalidInput):
    """A whole import file was refused (wrong format, missing columns)."""

    code = "import_rejected"


class ImportTooLarge(TicketlineError):
    """An import file over the upload limit; nothing of it was read."""

    code = "import_too_large"
    status = 413
