"""Errors of the admin area."""

from __future__ import annotations

from ticketline.core.errors import Conflict, NotFound


class UsernameTaken(Conflict):
    code = "username_taken"


class CodeTaken(Conflict):
    code = "code_taken"


class ExtensionTaken(Conflict):
    code = "extension_taken"


class StaffNotFound(NotFound):
    code = "staff_not_found"


class UnknownReference(NotFound):
    """An input named a department, skill or staff member that does not exist."""

    code = "unknown_reference"
