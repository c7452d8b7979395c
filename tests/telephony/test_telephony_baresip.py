"""baresip softphones as agents' phones: register, call each other, blind-transfer by REFER."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from tests.telephony.conftest import SIP_PASSWORD
from tests.telephony.sip_peers import Baresip, needs_baresip
from tests.telephony.test_telephony_b2bua import calls_of
from ticketline.app import Application

pytestmark = [needs_baresip]


@contextlib.asynccontextmanager
async def phones(app: Application, workdir: Path, *users: str) -> AsyncIterator[list[Baresip]]:
    started = [Baresip(user, SIP_PASSWORD, app.sip.port, workdir) for user in users]
    try:
        for phone in started:
            await phone.start()
        for phone in started:
            for _ in range(100):  # REGISTER_OK may come before ctrl_tcp is connected
                if app.sip.registrar.contacts(phone.user):
                    break
                await asyncio.sleep(0.1)
            assert app.sip.registrar.contacts(phone.user), f"{phone.user} did not register"
        yield started
    finally:
        for phone in started:
            await phone.stop()


async def test_two_baresip_phones_call_each_other(sip_app: Application, tmp_path: Path) -> None:
    async with phones(sip_app, tmp_path, "1001", "1002") as (alice, bob):
        await alice.command("dial", "sip:1002@127.0.0.1")
        await bob.wait_event("CALL_ESTABLISHED")
        await alice.wait_event("CALL_ESTABLISHED")
        await alice.command("hangup")
        await bob.wait_event("CALL_CLOSED")
    [call] = await calls_of(sip_app)
    assert (call.direction, call.extension, call.callee) == ("internal", "1001", "1002")
    assert call.answered_at is not None
    assert (call.end_cause, call.hangup_by) == ("normal_clearing", "caller")


async def test_baresip_blind_transfer_by_refer(sip_app: Application, tmp_path: Path) -> None:
    async with phones(sip_app, tmp_path, "1001", "1002", "1003") as (alice, bob, carol):
        await alice.command("dial", "sip:1002@127.0.0.1")
        await bob.wait_event("CALL_ESTABLISHED")
        await alice.wait_event("CALL_ESTABLISHED")
        await bob.command("transfer", "sip:1003@127.0.0.1")
        await carol.wait_event("CALL_ESTABLISHED")
        await bob.wait_event("CALL_CLOSED")
        await asyncio.sleep(0.5)
        await alice.command("hangup")
        await carol.wait_event("CALL_CLOSED")
    [call] = await calls_of(sip_app)
    assert call.status == "ended"
