"""Events the admin area announces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffChanged:
    """A staff member was created or changed. Payload: staff id and username."""

    staff_id: str
    username: str


@dataclass(frozen=True)
class ExtensionChanged:
    """An extension was created or its credentials, binding or state changed.

    The registrar drops cached credentials for `number` when it hears this.
    """

    number: str
    enabled: bool
