"""The SIP server's answers to single requests, over real UDP and TCP sockets."""

from __future__ import annotations

import asyncio
import itertools
import re
from pathlib import Path

import pytest

from tests.telephony.conftest import SIP_PASSWORD, TRUNK_IP
from tests.telephony.sip_peers import Sipp, UdpPeer, free_port, sipp_background
from tests.telephony.test_telephony_b2bua import register as register_with_sipp
from ticketline.app import Application
from ticketline.sip import Response, parse
from ticketline.sip.digest import answer_challenge

_seq = itertools.count(1)


def request(
    method: str,
    peer_port: int,
    *,
    uri: str = "sip:1002@127.0.0.1",
    to: str = "<sip:1002@127.0.0.1>",
    from_user: str = "1001",
    call_id: str | None = None,
    cseq: int = 1,
    branch: str | None = None,
    headers: tuple[str, ...] = (),
    body: str = "",
) -> bytes:
    n = next(_seq)
    lines = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{peer_port};branch={branch or f'z9hG4bKt{n}'};rport",
        "Max-Forwards: 70",
        f"From: <sip:{from_user}@127.0.0.1>;tag=f{n}",
        f"To: {to}",
        f"Call-ID: {call_id or f'call-{n}'}@test",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:{from_user}@127.0.0.1:{peer_port}>",
        *headers,
        f"Content-Length: {len(body.encode())}",
        "",
        body,
    ]
    return "\r\n".join(lines).encode()


@pytest.fixture
async def phone() -> UdpPeer:
    peer = UdpPeer()
    yield peer  # type: ignore[misc]
    peer.close()


async def ask(phone: UdpPeer, port: int, data: bytes, timeout: float = 2.0) -> Response:
    await phone.send(data, port)
    response = await phone.final_response(timeout)
    assert response is not None, "no answer"
    return response


async def test_options_is_answered_with_capabilities(sip_app: Application, phone: UdpPeer) -> None:
    response = await ask(phone, sip_app.sip.port, request("OPTIONS", phone.port))
    assert response.status == 200
    assert "INVITE" in (response.headers.get("Allow") or "")
    via = response.top_via
    assert (via.received, via.rport) == ("127.0.0.1", phone.port)


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("FROBNICATE", (), 501),
        ("MESSAGE", (), 405),
        ("OPTIONS", ("Require: teleportation",), 420),
        ("BYE", (), 481),
        ("CANCEL", (), 481),
        ("INVITE", ("Max-Forwards: 0",), 483),
        ("INVITE", ("Session-Expires: 30",), 422),
    ],
)
async def test_requests_that_cannot_be_served_get_the_rfc_answer(
    sip_app: Application, phone: UdpPeer, method: str, headers: tuple[str, ...], status: int
) -> None:
    data = request(method, phone.port, headers=headers)
    if "Max-Forwards: 0" in headers:
        data = data.replace(b"Max-Forwards: 70\r\n", b"")
    response = await ask(phone, sip_app.sip.port, data)
    assert response.status == status
    if status in (405, 501):
        assert "REGISTER" in (response.headers.get("Allow") or "")
    if status == 420:
        assert response.headers.get("Unsupported") == "teleportation"
    if status == 422:
        assert response.headers.get("Min-SE") == "90"


async def test_bye_for_a_dialog_that_does_not_exist_gets_481(
    sip_app: Application, phone: UdpPeer
) -> None:
    data = request("BYE", phone.port, to="<sip:1002@127.0.0.1>;tag=nosuchdialog")
    assert (await ask(phone, sip_app.sip.port, data)).status == 481


async def register(
    phone: UdpPeer,
    port: int,
    user: str = "1001",
    password: str = SIP_PASSWORD,
    *,
    algorithm: str = "MD5",
    contact_headers: tuple[str, ...] = (),
    expires: int = 600,
    call_id: str = "reg",
    cseq: int = 1,
) -> Response:
    """REGISTER, answer the challenge (choosing ``algorithm``), return the final answer."""
    extra = (f"Expires: {expires}", *contact_headers)
    first = request("REGISTER", phone.port, uri="sip:127.0.0.1", to=f"<sip:{user}@127.0.0.1>",
                    from_user=user, call_id=call_id, cseq=cseq, headers=extra)  # fmt: skip
    challenge = await ask(phone, port, first)
    assert challenge.status == 401
    offers = challenge.headers.get_all("WWW-Authenticate")
    chosen = next(o for o in offers if f"algorithm={algorithm}" in o)
    auth = answer_challenge(chosen, "REGISTER", "sip:127.0.0.1", user, password, cnonce="c0ffee")
    second = request("REGISTER", phone.port, uri="sip:127.0.0.1", to=f"<sip:{user}@127.0.0.1>",
                     from_user=user, call_id=call_id, cseq=cseq + 1,
                     headers=(*extra, f"Authorization: {auth}"))  # fmt: skip
    return await ask(phone, port, second)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
async def test_register_with_digest(sip_app: Application, phone: UdpPeer, algorithm: str) -> None:
    response = await register(phone, sip_app.sip.port, algorithm=algorithm)
    assert response.status == 200
    [binding] = sip_app.sip.registrar.contacts("1001")
    assert binding.peer.port == phone.port
    assert 590 <= int(response.contacts[0].expires or 0) <= 600


async def test_register_refresh_multiple_contacts_and_unregister(
    sip_app: Application, phone: UdpPeer
) -> None:
    port = sip_app.sip.port
    desk = ("Contact: <sip:1001@127.0.0.1:7001>, <sip:1001@127.0.0.1:7002>;expires=120",)
    assert (await register(phone, port, contact_headers=desk)).status == 200
    registrar = sip_app.sip.registrar
    assert {b.peer.port for b in registrar.contacts("1001")} == {phone.port, 7001, 7002}
    drop = ("Contact: <sip:1001@127.0.0.1:7002>;expires=0",)
    assert (await register(phone, port, contact_headers=drop, cseq=3)).status == 200
    assert {b.peer.port for b in registrar.contacts("1001")} == {phone.port, 7001}
    brief = await register(phone, port, expires=10, cseq=5)
    assert brief.status == 423
    assert brief.headers.get("Min-Expires") == "60"
    wipe = request("REGISTER", phone.port, uri="sip:127.0.0.1", to="<sip:1001@127.0.0.1>",
                   call_id="reg", cseq=7, headers=("Expires: 0",))  # fmt: skip
    wipe = wipe.replace(f"Contact: <sip:1001@127.0.0.1:{phone.port}>".encode(), b"Contact: *")
    challenge = await ask(phone, port, wipe)
    auth = answer_challenge(challenge.headers.get("WWW-Authenticate") or "", "REGISTER",
                            "sip:127.0.0.1", "1001", SIP_PASSWORD, cnonce="c1")  # fmt: skip
    wipe = wipe.replace(b"Expires: 0", f"Expires: 0\r\nAuthorization: {auth}".encode())
    wipe = wipe.replace(b"CSeq: 7", b"CSeq: 8").replace(b"branch=z9hG4bKt", b"branch=z9hG4bKw")
    assert (await ask(phone, port, wipe)).status == 200
    assert registrar.contacts("1001") == []


async def test_unknown_user_is_refused_exactly_like_a_wrong_password(
    sip_app: Application, phone: UdpPeer
) -> None:
    port = sip_app.sip.port
    wrong = await register(phone, port, "1001", "not-the-password-1", call_id="a")
    unknown = await register(phone, port, "4711", "not-the-password-1", call_id="b")
    assert wrong.status == unknown.status == 401
    assert [n for n, _ in wrong.headers] == [n for n, _ in unknown.headers]


async def test_repeated_bad_passwords_lock_the_source_out(
    sip_app: Application, phone: UdpPeer
) -> None:
    port = sip_app.sip.port
    limit = sip_app.sip.auth.policy.max_failures
    answers = [
        (await register(phone, port, password=f"guess-{n}-x", call_id=f"g{n}")).status
        for n in range(limit)
    ]
    assert answers[:-1] == [401] * (limit - 1)
    assert answers[-1] == 403
    locked = await ask(phone, port, request("REGISTER", phone.port, uri="sip:127.0.0.1",
                                            to="<sip:1001@127.0.0.1>", call_id="late"))  # fmt: skip
    assert locked.status == 403
    invite = await ask(phone, port, request("INVITE", phone.port))
    assert invite.status == 403
    assert sip_app.sip.registrar.contacts("1001") == []


async def test_phone_invite_without_credentials_is_challenged(
    sip_app: Application, phone: UdpPeer
) -> None:
    response = await ask(phone, sip_app.sip.port, request("INVITE", phone.port))
    assert response.status == 407
    assert "Digest" in (response.headers.get("Proxy-Authenticate") or "")


async def test_garbage_and_oversized_datagrams_never_stop_the_server(
    sip_app: Application, phone: UdpPeer
) -> None:
    port = sip_app.sip.port
    await phone.send(b"\x00\xff garbage that is not SIP\r\n\r\n", port)
    assert await phone.receive(0.3) is None
    broken = request("OPTIONS", phone.port).replace(b"CSeq: 1 OPTIONS", b"CSeq: x OPTIONS")
    await phone.send(broken, port)
    answer = await phone.receive()
    assert answer is not None
    assert answer.startswith(b"SIP/2.0 400 ")  # echoes the broken CSeq, so not parseable
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    huge = request("OPTIONS", phone.port).replace(b"Content-Length: 0", b"Content-Length: 900000")
    writer.write(huge)
    assert await asyncio.wait_for(reader.read(), 3) == b""  # oversized: the stream is closed
    writer.close()
    assert (await ask(phone, port, request("OPTIONS", phone.port))).status == 200


async def test_requests_over_tcp(sip_app: Application) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sip_app.sip.port)
    try:
        writer.write(request("OPTIONS", 5999).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP"))
        await writer.drain()
        data = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)
        response = parse(data)
        assert isinstance(response, Response)
        assert response.status == 200
    finally:
        writer.close()


SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def carrier_invite(peer: UdpPeer, branch: str, headers: tuple[str, ...] = ()) -> bytes:
    data = request("INVITE", peer.port, call_id="merged", branch=branch,
                   headers=("Content-Type: application/sdp", *headers), body=SDP)  # fmt: skip
    data = re.sub(rb"From: (<[^>]*>);tag=\w+", rb"From: \1;tag=carrier", data)
    return data.replace(b"127.0.0.1:", b"127.0.0.2:", 1)


async def test_merged_request_is_refused_as_a_loop(sip_app: Application) -> None:
    carrier = UdpPeer(TRUNK_IP)
    try:
        first = await ask(carrier, sip_app.sip.port, carrier_invite(carrier, "z9hG4bKfirst"))
        assert first.status == 480  # 1002 is not registered
        second = await ask(carrier, sip_app.sip.port, carrier_invite(carrier, "z9hG4bKsecond"))
        assert second.status == 482
    finally:
        carrier.close()


async def test_session_timer_is_accepted_on_answer(sip_app: Application, tmp_path: Path) -> None:
    phone_port = free_port()
    assert await register_with_sipp(f"127.0.0.1:{sip_app.sip.port}", "1002", phone_port, tmp_path)
    carrier = UdpPeer(TRUNK_IP)
    phone = Sipp(f"127.0.0.1:{sip_app.sip.port}", "uas", port=phone_port, workdir=tmp_path)
    try:
        async with sipp_background(phone):
            invite = carrier_invite(
                carrier, "z9hG4bKtimer", ("Session-Expires: 1800;refresher=uac", "Supported: timer")
            )
            ok = await ask(carrier, sip_app.sip.port, invite, timeout=5)
            assert ok.status == 200
            assert ok.headers.get("Session-Expires") == "1800;refresher=uac"
            assert ok.headers.get("Require") == "timer"
    finally:
        carrier.close()
