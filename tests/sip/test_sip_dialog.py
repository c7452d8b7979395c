"""Dialogs: creation on both sides, in-dialog requests, routing and CSeq checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ticketline.sip import (
    NameAddress,
    Request,
    Response,
    SipUri,
    make_response,
    parse,
    parse_uri,
    parse_via,
)
from ticketline.sip.dialog import Dialog, DialogError, DialogState

INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n"
    b"Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n"
    b"Record-Route: <sip:p1.example.com;lr>\r\nRecord-Route: <sip:p2.example.com;lr>\r\n"
    b"Contact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Length: 0\r\n\r\n"
)
ALICE_CONTACT = parse_uri("sip:alice@pc33.atlanta.example.com")
BOB_CONTACT = parse_uri("sip:bob@192.0.2.4")
ALICE_VIA = parse_via("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnew1")
BOB_VIA = parse_via("SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKbob1")


def invite() -> Request:
    message = parse(INVITE)
    assert isinstance(message, Request)
    return message


def answer(status: int) -> Response:
    response = make_response(
        invite(),
        status,
        to_tag="a6c85cf",
        extra_headers=(
            ("Record-Route", "<sip:p1.example.com;lr>"),
            ("Record-Route", "<sip:p2.example.com;lr>"),
            ("Contact", f"<{BOB_CONTACT}>"),
        ),
    )
    parsed = parse(response.serialize())
    assert isinstance(parsed, Response)
    return parsed


def uac_dialog() -> Dialog:
    early = Dialog.from_uac_response(invite(), answer(180), ALICE_CONTACT)
    return early.on_response(answer(200))


def test_uac_dialog_goes_early_then_confirmed() -> None:
    early = Dialog.from_uac_response(invite(), answer(180), ALICE_CONTACT)
    assert early.state is DialogState.EARLY
    assert (early.id.local_tag, early.id.remote_tag) == ("1928301774", "a6c85cf")
    confirmed = early.on_response(answer(200))
    assert confirmed.state is DialogState.CONFIRMED
    assert confirmed.remote_target == BOB_CONTACT
    assert [str(r.uri) for r in confirmed.route_set] == [
        "sip:p2.example.com;lr",
        "sip:p1.example.com;lr",
    ]


def test_bye_follows_loose_route_set_and_bumps_cseq() -> None:
    dialog, bye = uac_dialog().create_request("BYE", ALICE_VIA)
    assert dialog.local_cseq == 314160
    assert bye.cseq == (314160, "BYE")
    assert bye.uri == BOB_CONTACT
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    assert (bye.to.tag, bye.from_.tag, bye.call_id) == ("a6c85cf", "1928301774", "a84b4c76e66710")
    assert "Contact" not in bye.headers
    assert parse(bye.serialize()) == bye


def test_ack_for_2xx_reuses_the_invite_cseq_number() -> None:
    ack = uac_dialog().create_ack(314159, ALICE_VIA)
    assert ack.cseq == (314159, "ACK")
    assert ack.uri == BOB_CONTACT


def test_reinvite_carries_contact_and_body() -> None:
    _, reinvite = uac_dialog().create_request("INVITE", ALICE_VIA, b"v=0\r\n", "application/sdp")
    assert reinvite.contacts[0].uri == ALICE_CONTACT
    assert reinvite.content_type == "application/sdp"
    assert reinvite.headers.get("Content-Length") == "5"


def test_strict_router_becomes_request_uri() -> None:
    dialog = uac_dialog()
    strict = NameAddress(SipUri("strict.example.com"))
    dialog = replace(dialog, route_set=(strict, *dialog.route_set[1:]))
    _, bye = dialog.create_request("BYE", ALICE_VIA)
    assert bye.uri == SipUri("strict.example.com")
    assert bye.headers.get_all("Route")[-1] == f"<{BOB_CONTACT}>"


def test_failure_ends_an_early_dialog() -> None:
    early = Dialog.from_uac_response(invite(), answer(180), ALICE_CONTACT)
    assert early.on_response(answer(486)).state is DialogState.TERMINATED
    with pytest.raises(DialogError):
        early.on_response(answer(486)).create_request("BYE", ALICE_VIA)
    with pytest.raises(DialogError):
        uac_dialog().on_response(answer(486))


def test_uas_dialog_accepts_the_uac_bye_and_refuses_old_cseq() -> None:
    uas = Dialog.from_uas_request(invite(), "a6c85cf", BOB_CONTACT).on_sent_final(200)
    assert uas.route_set[0].uri == parse_uri("sip:p1.example.com;lr")
    assert uas.remote_target == ALICE_CONTACT
    _, bye = uac_dialog().create_request("BYE", ALICE_VIA)
    after_bye, refusal = uas.receive_request(bye)
    assert refusal is None
    assert after_bye.remote_cseq == 314160
    stale = parse(bye.serialize().replace(b"CSeq: 314160 BYE", b"CSeq: 314158 BYE"))
    assert isinstance(stale, Request)
    _, refusal = after_bye.receive_request(stale)
    assert refusal is not None
    assert refusal.status == 500
    assert after_bye.on_bye().state is DialogState.TERMINATED


def test_request_of_another_dialog_gets_481() -> None:
    uas = Dialog.from_uas_request(invite(), "other-tag", BOB_CONTACT)
    _, bye = uac_dialog().create_request("BYE", ALICE_VIA)
    _, refusal = uas.receive_request(bye)
    assert refusal is not None
    assert refusal.status == 481


def test_uas_reinvite_refreshes_remote_target() -> None:
    uas = Dialog.from_uas_request(invite(), "a6c85cf", BOB_CONTACT, confirmed=True)
    moved = replace(uac_dialog(), local_target=parse_uri("sip:alice@198.51.100.7"))
    _, reinvite = moved.create_request("INVITE", ALICE_VIA)
    refreshed, _ = uas.receive_request(reinvite)
    assert refreshed.remote_target == parse_uri("sip:alice@198.51.100.7")
    _, bob_bye = refreshed.create_request("BYE", BOB_VIA)
    assert bob_bye.uri == parse_uri("sip:alice@198.51.100.7")
    assert bob_bye.cseq == (1, "BYE")
