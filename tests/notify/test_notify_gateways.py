"""The real chain: our gateways hand SMS to Kannel and to an SMPP 3.4 SMSC."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.notify.peers import running_drive_smpp, running_kannel
from ticketline.notify.errors import GatewayError
from ticketline.notify.gateways import KannelGateway, KannelSettings
from ticketline.notify.smpp import Pdu, SmppGateway, SmppSettings, submit_sm_body

pytestmark = pytest.mark.peers

TEXT = "【长途客运】订单K7M2QX的取票密码是48213907。"


async def test_kannel_delivers_chinese_text_to_the_smsc(tmp_path: Path) -> None:
    with running_kannel(tmp_path) as kannel:
        gateway = KannelGateway(
            KannelSettings(kannel.sendsms_url, kannel.username, kannel.password, "95105")
        )
        try:
            await gateway.send("+8613800138000", TEXT)
            received = await _eventually(kannel.received)
        finally:
            await gateway.close()
    assert received == [("95105", "+8613800138000", TEXT)]


async def test_kannel_refusing_our_password_is_a_permanent_error(tmp_path: Path) -> None:
    with running_kannel(tmp_path) as kannel:
        gateway = KannelGateway(
            KannelSettings(kannel.sendsms_url, kannel.username, "wrong", "95105")
        )
        try:
            with pytest.raises(GatewayError) as refused:
                await gateway.send("+8613800138000", "hello")
        finally:
            await gateway.close()
    assert refused.value.permanent


async def test_smpp_binds_and_submits_to_an_smsc(tmp_path: Path) -> None:
    with running_drive_smpp(tmp_path) as (port, log):
        gateway = SmppGateway(SmppSettings("127.0.0.1", port, "foo", "bar", "95105", timeout_s=5))
        await gateway.send("+8613800138000", TEXT)
        await gateway.close()
        text = log.read_text(errors="replace")
    assert "Handling SMPP PDU of type bind_transmitter" in text
    assert "Handling SMPP PDU of type submit_sm" in text
    assert "Handling SMPP PDU of type unbind" in text


def test_submit_sm_carries_ucs2_and_long_texts_as_payload() -> None:
    short = submit_sm_body("95105", "+8613800138000", "取票")
    assert short.endswith(bytes([4]) + "取票".encode("utf-16-be"))
    long_text = "票" * 100
    body = submit_sm_body("95105", "+8613800138000", long_text)
    assert long_text.encode("utf-16-be") in body
    assert b"\x04\x24\x00\xc8" in body  # message_payload tag, 200 octets
    pdu = Pdu(4, 0, 7, body)
    assert Pdu.parse(pdu.serialize()) == pdu
    with pytest.raises(ValueError, match="command_length"):
        Pdu.parse(pdu.serialize()[:-1])


async def _eventually(read, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    import asyncio

    for _ in range(int(timeout * 10)):
        found = read()
        if found:
            return found
        await asyncio.sleep(0.1)
    return read()
