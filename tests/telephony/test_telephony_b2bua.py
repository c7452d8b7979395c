"""Calls through the B2BUA with SIPp as the carrier (127.0.0.2) and as agents' phones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telephony.conftest import SIP_PASSWORD, TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp, sipp_background
from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.db.session import Database
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


async def call_through(
    target: str, tmp_path: Path, callee: str, phone_scenario: str, caller_scenario: str,
    *, keys: dict[str, str] | None = None, fill: dict[str, str] | None = None,
    extra_phones: tuple[tuple[str, str], ...] = (),
) -> None:  # fmt: skip
    """Register ``callee`` (and extra phones), run the phone(s) and a carrier caller; both pass."""
    phones = []
    for number, scenario in ((callee, phone_scenario), *extra_phones):
        port = free_port()
        assert await register(target, number, port, tmp_path)
        phones.append(Sipp(target, scenario, port=port, keys=keys, workdir=tmp_path))
    for phone in phones:
        await phone.start()
    try:
        caller = await Sipp(target, caller_scenario, ip=TRUNK_IP, keys=keys, fill=fill,
                            extra=("-s", callee), workdir=tmp_path).run()  # fmt: skip
        assert caller.ok, caller.errors
        for phone in phones:
            result = await phone.wait(15)
            assert result.ok, result.errors
    finally:
        for phone in phones:
            phone.kill()


async def test_busy_phone_gives_caller_486(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    await call_through(target, tmp_path, "1002", "uas_busy.xml", "uac_expect.xml",
                       fill={"status": "486", "codecs": "0"})  # fmt: skip
    [call] = await calls_of(sip_app)
    assert (call.end_cause, call.hangup_by) == ("busy", "callee")


async def test_phone_hangs_up_and_caller_gets_bye(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    phone_port = free_port()
    assert await register(target, "1002", phone_port, tmp_path)
    async with sipp_background(Sipp(target, "uas_hangs_up.xml", port=phone_port,
                                    workdir=tmp_path)) as phone:  # fmt: skip
        caller = await Sipp(target, "uac_gets_bye.xml", ip=TRUNK_IP, extra=("-s", "1002"),
                            workdir=tmp_path).run()  # fmt: skip
        assert caller.ok, caller.errors
        assert (await phone.wait(10)).ok
    [call] = await calls_of(sip_app)
    assert (call.end_cause, call.hangup_by) == ("normal_clearing", "callee")


async def test_hold_and_resume_are_relayed(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    await call_through(target, tmp_path, "1002", "uas_hold.xml", "uac_hold.xml")


async def test_early_media_passes_through(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    await call_through(target, tmp_path, "1002", "uas_early_media.xml", "uac_early_media.xml")


async def test_blind_transfer_by_refer(sip_app: Application, target: str, tmp_path: Path) -> None:
    await call_through(target, tmp_path, "1002", "uas_refer.xml", "uac_transferred.xml",
                       keys={"transfer_to": "1003"}, extra_phones=(("1003", "uas"),))  # fmt: skip
    [call] = await calls_of(sip_app)
    legs = await cdr.legs_of(sip_app.db, call.id)
    by_role = {leg.role: leg for leg in legs}
    assert set(by_role) == {"caller", "callee", "transfer"}
    assert by_role["callee"].end_cause == "transferred"
    assert by_role["transfer"].answered_at is not None


async def test_offer_without_a_common_codec_gets_488(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    caller = await Sipp(target, "uac_expect.xml", ip=TRUNK_IP, extra=("-s", "1002"),
                        fill={"status": "488", "codecs": "18"}, workdir=tmp_path).run()  # fmt: skip
    assert caller.ok, caller.errors


async def test_info_dtmf_is_relayed_to_the_other_leg(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    await call_through(target, tmp_path, "1002", "uas_info.xml", "uac_info.xml")


@pytest.fixture
async def sip_app_each_db(
    database: Database, db_url: str, tmp_path: Path
) -> AsyncIterator[Application]:
    """The SIP side on SQLite and on PostgreSQL (``database`` empties PostgreSQL first)."""
    app = await start_sip_app(db_url, tmp_path / "var")
    yield app
    await stop_sip_app(app)


async def test_call_records_on_each_database(sip_app_each_db: Application, tmp_path: Path) -> None:
    app = sip_app_each_db
    target = f"127.0.0.1:{app.sip.port}"
    await call_through(target, tmp_path, "1002", "uas", "uac")
    [call] = await calls_of(app)
    assert (call.status, call.end_cause, call.hangup_by) == ("ended", "normal_clearing", "caller")
    assert call.talk_ms is not None
    assert call.duration_ms is not None
    assert call.duration_ms >= call.talk_ms > 0
