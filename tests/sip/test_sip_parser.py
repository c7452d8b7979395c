"""Parser, serializer, headers and stream framing on hand-written messages."""

from __future__ import annotations

import pytest

from ticketline.sip import (
    MAX_MESSAGE_SIZE,
    Headers,
    Request,
    Response,
    SipParseError,
    SipUri,
    StreamFramer,
    make_response,
    parse,
)

INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds;rport\r\n"
    b"Via: SIP/2.0/TCP proxy.example.com:5061;branch=z9hG4bKnashds8;received=192.0.2.3\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b'From: "Alice A." <sip:alice@example.com>;tag=1928301774\r\n'
    b"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.example.com>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)


def request(data: bytes = INVITE) -> Request:
    message = parse(data)
    assert isinstance(message, Request)
    return message


def test_typical_invite_fields() -> None:
    invite = request()
    assert invite.method == "INVITE"
    assert invite.uri == SipUri("example.com", user="bob")
    assert invite.call_id == "a84b4c76e66710@pc33.example.com"
    assert invite.cseq == (314159, "INVITE")
    assert invite.from_.tag == "1928301774"
    assert invite.from_.display_name == "Alice A."
    assert invite.to.tag is None
    assert invite.max_forwards == 70
    assert invite.body == b"v=0\n"
    assert [via.sent_by for via in invite.vias] == ["pc33.example.com", "proxy.example.com:5061"]
    assert invite.top_via.wants_rport
    assert invite.vias[1].received == "192.0.2.3"


def test_serialize_round_trips_bytes_of_a_canonical_message() -> None:
    assert request().serialize() == INVITE


def test_compact_forms_expand_and_lookup_is_case_insensitive() -> None:
    data = INVITE.replace(b"Call-ID:", b"i:").replace(b"Contact:", b"m:")
    invite = request(data)
    assert invite.headers.get("call-id") == invite.headers.get("I")
    assert ("Call-ID", "a84b4c76e66710@pc33.example.com") in invite.headers.fields
    assert len(invite.contacts) == 1


def test_comma_joined_via_values_are_separate_elements() -> None:
    data = INVITE.replace(
        b"Via: SIP/2.0/TCP", b'Via: SIP/2.0/UDP a.example.com;x="p,q", SIP/2.0/TCP'
    )
    invite = request(data)
    assert [via.host for via in invite.vias] == [
        "pc33.example.com",
        "a.example.com",
        "proxy.example.com",
    ]
    assert invite.vias[1].params == (("x", '"p,q"'),)


def test_leading_crlf_and_folding_are_accepted() -> None:
    data = b"\r\n\r\n" + INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards:\r\n\t70")
    assert request(data).max_forwards == 70


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (INVITE.replace(b"SIP/2.0\r\n", b"SIP/2.0 \r\n", 1), 400),
        (INVITE.replace(b"Content-Length: 4", b"Content-Length: 5"), 400),
        (INVITE.replace(b"Content-Length: 4", b"Content-Length: x"), 400),
        (INVITE.replace(b"CSeq: 314159", b"CSeq: 2147483648"), 400),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: 256"), 400),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards 70"), 400),
        (INVITE.replace(b"To: Bob <", b"To: Bob <<"), 400),
        (INVITE.replace(b"Via: SIP/2.0/UDP pc33", b"Via: pc33"), 400),
        (INVITE.split(b"\r\n\r\n")[0], 400),
        (b"SIP/3.0 200 OK\r\n\r\n", 505),
        (b"SIP/2.0 99 Too Small\r\n\r\n", 400),
        (INVITE + b"x" * MAX_MESSAGE_SIZE, 513),
        (b"", 400),
        (b"\xff\xfe\r\n\r\n", 400),
    ],
)
def test_malformed_messages_raise_typed_errors(data: bytes, status: int) -> None:
    with pytest.raises(SipParseError) as error:
        parse(data)
    assert error.value.status == status


def test_response_without_call_id_is_refused() -> None:
    with pytest.raises(SipParseError, match="Call-ID"):
        parse(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 BYE\r\n"
            b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n\r\n"
        )


def test_make_response_copies_dialog_headers_and_adds_to_tag() -> None:
    invite = request()
    ringing = make_response(invite, 180, to_tag="as83kd9b")
    assert ringing.reason == "Ringing"
    assert ringing.headers.get_lines("Via") == invite.headers.get_lines("Via")
    assert ringing.to.tag == "as83kd9b"
    assert ringing.from_ == invite.from_
    assert ringing.cseq == invite.cseq
    assert "Contact" not in ringing.headers
    again = parse(ringing.serialize())
    assert isinstance(again, Response)
    assert again.headers.get("Content-Length") == "0"


def test_make_response_100_never_tags_to() -> None:
    assert make_response(request(), 100, to_tag="x").to.tag is None


def test_headers_edits_return_new_values() -> None:
    headers = Headers.of([("v", "SIP/2.0/UDP a"), ("Via", "SIP/2.0/UDP b"), ("X-A", "1")])
    assert headers.get_all("Via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b"]
    added = headers.with_added("Via", "SIP/2.0/UDP c", first=True)
    assert added.get("via") == "SIP/2.0/UDP c"
    assert headers.get("via") == "SIP/2.0/UDP a"
    assert headers.with_replaced("VIA", "SIP/2.0/UDP z").get_all("Via") == ["SIP/2.0/UDP z"]
    assert "X-A" not in headers.without("x-a")
    with pytest.raises(ValueError, match="safely"):
        headers.with_added("X-Evil", "a\r\nVia: injected")


def test_get_all_splits_only_list_headers() -> None:
    headers = Headers.of([("Subject", "a, b"), ("Contact", '"Doe, J" <sip:j@h>, <sip:k@h>')])
    assert headers.get_all("Subject") == ["a, b"]
    assert headers.get_all("Contact") == ['"Doe, J" <sip:j@h>', "<sip:k@h>"]


def test_stream_framer_splits_by_content_length() -> None:
    framer = StreamFramer()
    stream = b"\r\n\r\n" + INVITE + INVITE
    events = framer.feed(stream[:100]) + framer.feed(stream[100:-2])
    assert len(events) == 1
    events += framer.feed(stream[-2:])
    assert [type(event) for event in events] == [Request, Request]
    assert events[1] == events[0]


def test_stream_framer_reports_bad_content_length_and_stops() -> None:
    framer = StreamFramer()
    (event,) = framer.feed(INVITE.replace(b"Content-Length: 4", b"Content-Length: -4"))
    assert isinstance(event, SipParseError)
    assert framer.broken
    assert framer.feed(INVITE) == []


def test_stream_framer_keeps_going_after_a_malformed_message() -> None:
    framer = StreamFramer()
    bad = INVITE.replace(b"CSeq: 314159", b"CSeq: nope")
    events = framer.feed(bad + INVITE)
    assert isinstance(events[0], SipParseError)
    assert isinstance(events[1], Request)
