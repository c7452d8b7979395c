"""The RFC 4475 torture messages sent to the running server over UDP.

Each must get the answer an endpoint owes it (or be dropped where the RFC allows),
and afterwards the server still serves and no INVITE transaction is left unanswered.
"""

from __future__ import annotations

import asyncio

from tests.sip.test_sip_rfc4475 import CASES, Case
from tests.telephony.sip_peers import UdpPeer
from ticketline.app import Application
from ticketline.sip import Response, SipParseError, parse

# Statuses the RFC also accepts where MANIFEST.tsv names a preferred one.
ALSO_ACCEPTED = {"mismatch02.dat": {400}, "sdp01.dat": {400}, "insuf.dat": {None}}


async def answer_to(case: Case, port: int) -> tuple[Case, int | None, bytes | None]:
    peer = UdpPeer()
    try:
        await peer.send(case.data(), port)
        while True:
            data = await peer.receive(1.5)
            if data is None:
                return case, None, None
            status = _status(data)
            if status is None or status >= 200:
                return case, status, data
    finally:
        peer.close()


def _status(data: bytes) -> int | None:
    try:
        message = parse(data)
    except SipParseError:
        head = data.split(b" ", 2)
        return int(head[1]) if len(head) > 1 and head[1].isdigit() else None
    return message.status if isinstance(message, Response) else None


def _acceptable(case: Case, status: int | None) -> bool:
    if status is not None and status >= 500 and status not in (501, 505, 513):
        return False  # a server error means the message broke something
    if case.status is not None and case.expect != "reject":
        return status == case.status or status in ALSO_ACCEPTED.get(case.file, set())
    if case.expect == "reject":
        return status is None or 400 <= status < 500
    return True


async def test_every_torture_message_gets_a_sane_answer(sip_app: Application) -> None:
    port = sip_app.sip.port
    results = await asyncio.gather(*(answer_to(case, port) for case in CASES))
    wrong = {case.file: status for case, status, _ in results if not _acceptable(case, status)}
    assert wrong == {}
    answered = {case.file for case, status, _ in results if status is not None}
    # Responses (bcast, unreason, ...) are never answered; well-formed requests always are.
    for case in CASES:
        if case.data().startswith(b"SIP/"):
            assert case.file not in answered
        elif case.expect == "parse":
            assert case.file in answered, case.file
    peer = UdpPeer()
    try:
        await peer.send(
            b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKafter\r\n"
            b"From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:t@127.0.0.1>\r\nCall-ID: after\r\n"
            b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            port,
        )
        final = await peer.final_response()
        assert final is not None
        assert final.status == 200
    finally:
        peer.close()
    hanging = [
        tx.request.method
        for tx in sip_app.sip.layer.servers.values()
        if tx.request.method == "INVITE" and not tx.answered
    ]
    assert hanging == []
