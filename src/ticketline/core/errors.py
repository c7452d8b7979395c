"""Typed errors with stable codes; the web layer turns them into responses in one place."""

from __future__ import annotations

from typing import Any


class TicketlineError(Exception):
    """Base of every error a user may see. `code` is stable; `message` is for people."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(TicketlineError):
    """The input names a field with a bad value."""

    code = "invalid_input"
    status = 422

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", details={"field": field, "reason": reason})


class NotFound(TicketlineError):
    code = "not_found"
    status = 404


class Conflict(TicketlineError):
    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    """A state machine was asked for a move its table does not allow."""

    code = "illegal_transition"


class AuthenticationFailed(TicketlineError):
    code = "authentication_failed"
    status = 401


class AccountLocked(TicketlineError):
    code = "account_locked"
    status = 423


class PermissionDenied(TicketlineError):
    code = "permission_denied"
    status = 403


class RateLimited(TicketlineError):
    code = "rate_limited"
    status = 429
