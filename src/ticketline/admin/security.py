"""Passwords, the authenticated principal, and the permission check for endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from ticketline.admin.permissions import Perm
from ticketline.core.errors import AuthenticationFailed, InvalidInput, PermissionDenied

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "passw0rd",
        "qwerty123",
        "1234567890",
        "12345678910",
        "abc1234567",
        "iloveyou12",
        "admin12345",
        "welcome123",
        "ticketline",
        "11111111111",
    }
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash("dummy password for timing")


def dummy_verify() -> None:
    """Spend the time of a real check, so unknown usernames are not told apart by timing."""
    verify_password(_dummy_hash(), "not the password")


def check_password_strength(password: str, username: str = "") -> None:
    """Refuse weak passwords with a reason naming the rule that failed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 128:
        raise InvalidInput("password", "must have at most 128 characters")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise InvalidInput("password", "must contain both letters and digits")
    if password.lower() in COMMON_PASSWORDS:
        raise InvalidInput("password", "is too common")
    if username and username.lower() in password.lower():
        raise InvalidInput("password", "must not contain the username")


@dataclass(frozen=True)
class Actor:
    """Who did something, for the audit log: a person, or the system itself."""

    id: str | None
    name: str
    ip: str | None = None


SYSTEM = Actor(id=None, name="system")


@dataclass(frozen=True)
class Principal:
    """The authenticated user of one request."""

    staff_id: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    permissions: frozenset[Perm]
    locale: str
    auth_kind: str  # "session" (browser cookie) or "api" (bearer token)
    csrf_token: str = field(repr=False)
    ip: str | None = None

    def can(self, permission: Perm) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(id=self.staff_id, name=self.username, ip=self.ip)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the principal the web layer authenticated, or 401."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthenticationFailed("login required")
    assert isinstance(principal, Principal)
    return principal


def require(permission: Perm) -> Callable[[Request], Principal]:
    """FastAPI dependency factory: the principal, if it holds `permission`; else 403."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if not principal.can(permission):
            raise PermissionDenied(
                f"permission {permission.value} required",
                details={"permission": permission.value},
            )
        return principal

    return dependency
