"""Calls through the B2BUA with SIPp as the carrier (127.0.0.2) and as agents' phones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.telephony.conftest import SIP_PASSWORD, TRUNK_IP
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp, sipp_background
from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.telephony import cdr

pytestmark = [needs_sipp]


async def register(target: str, user: str, contact_port: int, workdir: Path,
                   password: str = SIP_PASSWORD, expect: str = "200") -> bool:  # fmt: skip
    run = await Sipp(
        target,
        "register.xml",
        keys={"user": user, "contact_port": str(contact_port), "expires": "600"},
        fill={"expect": expect},
        extra=("-au", user, "-ap", password),
        workdir=workdir,
    ).run()
    return run.ok


async def calls_of(app: Application) -> list[object]:
    await app.cdr.drain()
    page = await cdr.search_calls(app.db, cdr.CdrQuery(), PageRequest(page=1, size=50))
    return list(page.items)


async def test_carrier_call_reaches_registered_phone_and_is_recorded(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    phone_port = free_port()
    assert await register(target, "1002", phone_port, tmp_path)
    async with sipp_background(Sipp(target, "uas", port=phone_port, workdir=tmp_path)) as phone:
        caller = await Sipp(target, "uac", ip=TRUNK_IP, keys={}, extra=("-s", "1002", "-d", "500"),
                            workdir=tmp_path).run()  # fmt: skip
        assert caller.ok, caller.errors
        phone_run = await phone.wait(10)
        assert phone_run.ok, phone_run.errors
    [call] = await calls_of(sip_app)
    assert (call.direction, call.callee, call.trunk) == ("inbound", "1002", "carrier")
    assert call.answered_at is not None
    assert call.status == "ended"
    assert (call.end_cause, call.hangup_by) == ("normal_clearing", "caller")
    legs = await cdr.legs_of(sip_app.db, call.id)
    assert sorted(leg.role for leg in legs) == ["callee", "caller"]
    assert all(leg.status == "ended" for leg in legs)


async def test_caller_cancels_while_phone_rings(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    phone_port = free_port()
    assert await register(target, "1003", phone_port, tmp_path)
    phone = Sipp(target, "uas_ring_cancelled.xml", port=phone_port, workdir=tmp_path)
    async with sipp_background(phone):
        caller = await Sipp(target, "uac_cancel.xml", ip=TRUNK_IP, extra=("-s", "1003"),
                            workdir=tmp_path).run()  # fmt: skip
        assert caller.ok, caller.errors
        phone_run = await phone.wait(10)
        assert phone_run.ok, phone_run.errors
    [call] = await calls_of(sip_app)
    assert call.answered_at is None
    assert (call.end_cause, call.hangup_by) == ("cancelled", "caller")


async def test_unregistered_extension_gets_480_and_unknown_number_404(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    caller = await Sipp(target, "uac", ip=TRUNK_IP, extra=("-s", "1001"), workdir=tmp_path).run()
    assert not caller.ok
    await asyncio.sleep(0)
    [call] = await calls_of(sip_app)
    assert call.end_cause == "no_answer"
