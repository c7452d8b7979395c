"""Login, lockout and tokens: browser sessions and API bearer tokens share one table."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ticketline.admin import audit
from ticketline.admin.models import ApiToken, Staff
from ticketline.admin.permissions import permissions_for
from ticketline.admin.security import Actor, Principal, dummy_verify, verify_password
from ticketline.core.clock import Clock
from ticketline.core.errors import AccountLocked, AuthenticationFailed, TicketlineError
from ticketline.core.ids import hash_secret
from ticketline.db.session import Database


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=12)
    token_lifetime: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    csrf_token: str
    expires_at: datetime


class AuthService:
    """Checks passwords, counts failures, issues and resolves tokens."""

    def __init__(self, db: Database, clock: Clock, policy: LoginPolicy) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy

    async def login(
        self, username: str, password: str, *, kind: str, ip: str | None
    ) -> IssuedToken:
        """Check the password and issue a token of `kind` ("session" or "api").

        Unknown users and wrong passwords get the same answer; after
        `max_failures` wrong passwords in a row the account is locked for a while.
        """
        now = self.clock.now()
        async with self.db.transaction() as session:
            staff = await session.scalar(
                select(Staff).where(Staff.username == username).with_for_update()
            )
            outcome = self._check(staff, password, now)
            if isinstance(outcome, AuthenticationFailed) and staff is not None:
                self._count_failure(staff, now)
            if isinstance(outcome, TicketlineError):
                failure = outcome
            else:
                assert staff is not None
                row, issued = self._new_token(staff.id, kind, now)
                session.add(row)
                await audit.record(
                    session,
                    actor=Actor(staff.id, staff.username, ip),
                    action="auth.login",
                    entity_type="staff",
                    entity_id=staff.id,
                    at=now,
                    after={"kind": kind},
                )
                return issued
        raise failure

    def _check(self, staff: Staff | None, password: str, now: datetime) -> TicketlineError | None:
        if staff is None or not staff.is_active:
            dummy_verify()
            return AuthenticationFailed("wrong username or password")
        if staff.locked_until is not None and staff.locked_until > now:
            return AccountLocked(
                "account locked after repeated failed logins; try later",
                details={"locked_until": staff.locked_until.isoformat()},
            )
        if not verify_password(staff.password_hash, password):
            return AuthenticationFailed("wrong username or password")
        staff.failed_logins = 0
        staff.locked_until = None
        return None

    def _count_failure(self, staff: Staff, now: datetime) -> None:
        staff.failed_logins += 1
        if staff.failed_logins >= self.policy.max_failures:
            staff.locked_until = now + self.policy.lockout
            staff.failed_logins = 0

    def _new_token(self, staff_id: str, kind: str, now: datetime) -> tuple[ApiToken, IssuedToken]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        lifetime = self.policy.session_lifetime if kind == "session" else self.policy.token_lifetime
        row = ApiToken(
            token_hash=hash_secret(token),
            staff_id=staff_id,
            kind=kind,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
            revoked=False,
        )
        return row, IssuedToken(token=token, csrf_token=csrf, expires_at=row.expires_at)

    async def resolve(self, token: str, ip: str | None = None) -> Principal | None:
        """The principal behind a token, or None when it is unknown, expired or revoked."""
        if not token or len(token) > 200:
            return None
        async with self.db.sessions() as session:
            row = await session.execute(
                select(ApiToken, Staff)
                .join(Staff, Staff.id == ApiToken.staff_id)
                .where(ApiToken.token_hash == hash_secret(token))
            )
            found = row.first()
        if found is None:
            return None
        api_token, staff = found
        if api_token.revoked or api_token.expires_at <= self.clock.now() or not staff.is_active:
            return None
        return Principal(
            staff_id=staff.id,
            username=staff.username,
            display_name=staff.display_name,
            roles=tuple(staff.role_names),
            permissions=permissions_for(staff.role_names),
            locale=staff.locale,
            auth_kind=api_token.kind,
            csrf_token=api_token.csrf_token,
            ip=ip,
        )

    async def logout(self, token: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(ApiToken)
                .where(ApiToken.token_hash == hash_secret(token))
                .values(revoked=True)
            )
