"""Logging in: right and wrong passwords, lockout, token lifetimes, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ticketline.admin.permissions import Perm, Role
from ticketline.admin.schemas import StaffCreate, StaffUpdate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import AccountLocked, AuthenticationFailed

PASSWORD = "Right-Password-7"


@pytest.fixture
async def agent_id(application: Application) -> str:
    staff = await application.admin.create_staff(
        SYSTEM,
        StaffCreate(username="liming", display_name="Li", password=PASSWORD, roles=[Role.AGENT]),
    )
    return staff.id


async def test_right_password_gives_a_token_for_the_agent(
    application: Application, agent_id: str
) -> None:
    issued = await application.auth.login("liming", PASSWORD, kind="api", ip="127.0.0.1")
    principal = await application.auth.resolve(issued.token)
    assert principal is not None
    assert principal.staff_id == agent_id
    assert principal.can(Perm.CALLS_HANDLE)
    assert not principal.can(Perm.STAFF_WRITE)


async def test_unknown_user_and_wrong_password_look_the_same(
    application: Application, agent_id: str
) -> None:
    with pytest.raises(AuthenticationFailed) as unknown:
        await application.auth.login("nobody", PASSWORD, kind="api", ip=None)
    with pytest.raises(AuthenticationFailed) as wrong:
        await application.auth.login("liming", "Wrong-Password-7", kind="api", ip=None)
    assert unknown.value.message == wrong.value.message


async def test_account_locks_after_repeated_failures_and_unlocks_later(
    application: Application, agent_id: str, clock: FixedClock
) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            await application.auth.login("liming", "Wrong-Password-7", kind="api", ip=None)
    with pytest.raises(AccountLocked):
        await application.auth.login("liming", PASSWORD, kind="api", ip=None)
    clock.advance(timedelta(minutes=16))
    issued = await application.auth.login("liming", PASSWORD, kind="api", ip=None)
    assert await application.auth.resolve(issued.token) is not None


async def test_a_good_login_resets_the_failure_count(
    application: Application, agent_id: str
) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await application.auth.login("liming", "Wrong-Password-7", kind="api", ip=None)
    await application.auth.login("liming", PASSWORD, kind="api", ip=None)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            await application.auth.login("liming", "Wrong-Password-7", kind="api", ip=None)
    await application.auth.login("liming", PASSWORD, kind="api", ip=None)


async def test_tokens_expire_and_can_be_revoked(
    application: Application, agent_id: str, clock: FixedClock
) -> None:
    session = await application.auth.login("liming", PASSWORD, kind="session", ip=None)
    api = await application.auth.login("liming", PASSWORD, kind="api", ip=None)
    clock.advance(timedelta(hours=13))
    assert await application.auth.resolve(session.token) is None
    assert await application.auth.resolve(api.token) is not None
    await application.auth.logout(api.token)
    assert await application.auth.resolve(api.token) is None


async def test_deactivated_staff_lose_access(application: Application, agent_id: str) -> None:
    issued = await application.auth.login("liming", PASSWORD, kind="api", ip=None)
    await application.admin.update_staff(SYSTEM, agent_id, StaffUpdate(is_active=False))
    assert await application.auth.resolve(issued.token) is None
    with pytest.raises(AuthenticationFailed):
        await application.auth.login("liming", PASSWORD, kind="api", ip=None)


@pytest.mark.parametrize("token", ["", "x" * 500, "not-a-token"])
async def test_garbage_tokens_resolve_to_nobody(application: Application, token: str) -> None:
    assert await application.auth.resolve(token) is None
