"""Trunks on the wire: a phone dials out through the carrier, and a trunk registers upstream."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.telephony.conftest import SIP_PASSWORD, TRUNK_IP
from tests.telephony.sip_peers import Sipp, free_port, needs_sipp, sipp_background
from tests.telephony.test_telephony_b2bua import calls_of
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.telephony.schemas import TrunkIn

pytestmark = [needs_sipp]


async def point_trunk(app: Application, port: int, **changes: object) -> None:
    data = {"name": "carrier", "host": TRUNK_IP, "port": port,
            "inbound_sources": [f"{TRUNK_IP}/32"], "caller_id": "95105", **changes}  # fmt: skip
    await app.trunks.replace(SYSTEM, "carrier", TrunkIn.model_validate(data))


async def test_phone_dials_out_through_trunk_with_its_caller_id(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    provider_port = free_port()
    await point_trunk(sip_app, provider_port)
    provider = Sipp(target, "provider_uas.xml", ip=TRUNK_IP, port=provider_port,
                    fill={"caller_id": "95105"}, workdir=tmp_path)  # fmt: skip
    async with sipp_background(provider):
        phone = await Sipp(target, "phone_dials.xml", keys={"user": "1001"},
                           extra=("-s", "13800138000", "-au", "1001", "-ap", SIP_PASSWORD),
                           workdir=tmp_path).run()  # fmt: skip
        assert phone.ok, phone.errors
        result = await provider.wait(10)
        assert result.ok, result.errors
    [call] = await calls_of(sip_app)
    assert (call.direction, call.extension, call.callee) == ("internal", "1001", "13800138000")
    assert call.answered_at is not None


async def test_phone_with_wrong_password_cannot_dial_out(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    phone = await Sipp(target, "phone_dials.xml", keys={"user": "1001"},
                       extra=("-s", "13800138000", "-au", "1001", "-ap", "wrong-password-1"),
                       workdir=tmp_path).run(timeout=20)  # fmt: skip
    assert not phone.ok
    assert "407" in phone.errors
    assert await calls_of(sip_app) == []


async def test_trunk_registers_to_its_provider(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    provider_port = free_port()
    provider = Sipp(target, "provider_register.xml", ip=TRUNK_IP, port=provider_port,
                    keys={"username": "acct42", "password": "prov-pass-9"},
                    workdir=tmp_path)  # fmt: skip
    async with sipp_background(provider):
        await point_trunk(sip_app, provider_port, registers=True, username="acct42",
                          password="prov-pass-9")  # fmt: skip
        registration = sip_app.sip.registrations["carrier"]
        await asyncio.wait_for(registration.registered.wait(), 10)
        assert registration.status.state == "registered"
        assert registration.status.expires == 120
        assert (await provider.wait(10)).ok


async def test_trunk_with_wrong_provider_password_fails(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    provider_port = free_port()
    provider = Sipp(target, "provider_register.xml", ip=TRUNK_IP, port=provider_port,
                    keys={"username": "acct42", "password": "prov-pass-9"},
                    workdir=tmp_path)  # fmt: skip
    async with sipp_background(provider):
        await point_trunk(sip_app, provider_port, registers=True, username="acct42",
                          password="not-the-one-1")  # fmt: skip
        registration = sip_app.sip.registrations["carrier"]
        for _ in range(50):
            if registration.status.last_status is not None:
                break
            await asyncio.sleep(0.1)
        assert registration.status.state == "failed"
        assert registration.status.last_status == 403


async def test_inbound_trunk_chosen_by_dialled_number(
    sip_app: Application, target: str, tmp_path: Path
) -> None:
    await sip_app.trunks.create(
        SYSTEM,
        TrunkIn(name="hotline", host=TRUNK_IP, inbound_sources=[f"{TRUNK_IP}/32"], dids=["95105"]),
    )
    for number in ("95105", "1002"):
        caller = await Sipp(target, "uac_expect.xml", ip=TRUNK_IP, extra=("-s", number),
                            fill={"status": "404" if number == "95105" else "480",
                                  "codecs": "0"}, workdir=tmp_path).run()  # fmt: skip
        assert caller.ok, caller.errors
    calls = {call.callee: call for call in await calls_of(sip_app)}
    assert calls["95105"].trunk == "hotline"
    assert calls["1002"].trunk == "carrier"
