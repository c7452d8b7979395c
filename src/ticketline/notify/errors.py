"""Errors of the notify area."""

from __future__ import annotations

from ticketline.core.errors import InvalidInput, NotFound


class TemplateNotFound(NotFound):
    code = "template_not_found"


class TemplateInvalid(InvalidInput):
    """A template names a placeholder the message does not provide, or is malformed."""

    code = "template_invalid"


class GatewayError(Exception):
    """A gateway refused or could not take a message; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
