"""URIs, addresses and Via values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketline.sip import AbsoluteUri, SipParseError, SipUri, TelUri, parse_address, parse_uri
from ticketline.sip.via import parse_via


def test_sip_uri_components() -> None:
    uri = parse_uri("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi%20there")
    assert uri == SipUri(
        "[2001:db8::1]",
        user="alice",
        password="secret",
        port=5061,
        scheme="sips",
        params=(("transport", "tcp"), ("lr", None)),
        headers=(("Subject", "hi there"),),
    )
    assert parse_uri(str(uri)) == uri


def test_tel_and_unknown_schemes() -> None:
    assert parse_uri("tel:+86-10-1234;phone-context=+86") == TelUri(
        "+86-10-1234", (("phone-context", "+86"),)
    )
    assert parse_uri("urn:service:sos") == AbsoluteUri("urn", "service:sos")


@pytest.mark.parametrize(
    "text", ["sip:", "<sip:a@b>", "sip:a@b:99999", "sip:a@b;;x", "sip:a@b c", "1sip:x"]
)
def test_bad_uris(text: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(text)


def test_user_with_reserved_characters_is_escaped_on_output() -> None:
    uri = SipUri("example.com", user="a@b c")
    assert str(uri) == "sip:a%40b%20c@example.com"
    assert parse_uri(str(uri)) == uri


def test_address_forms() -> None:
    quoted = parse_address('"A \\"B\\"" <sip:a@h;lr>;tag=x;q=0.5;expires=60')
    assert quoted.display_name == 'A "B"'
    assert (quoted.tag, quoted.q, quoted.expires) == ("x", 0.5, 60)
    assert parse_address(str(quoted)) == quoted
    spec = parse_address("sip:a@h;tag=y")
    assert spec.tag == "y"
    assert spec.uri == SipUri("h", user="a")


def test_overlarge_contact_expires_is_refused() -> None:
    with pytest.raises(SipParseError):
        _ = parse_address("<sip:a@h>;expires=280297596632815").expires


def test_via_received_and_rport() -> None:
    via = parse_via("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport")
    stamped = via.with_received("203.0.113.9", 40001)
    assert stamped.received == "203.0.113.9"
    assert stamped.rport == 40001
    assert str(stamped) == (
        "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=40001;received=203.0.113.9"
    )
    assert via.is_rfc3261


_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_names = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
_hosts = st.from_regex(r"[a-z][a-z0-9\-]{0,10}(\.[a-z][a-z0-9]{0,5}){0,3}", fullmatch=True)


@settings(deadline=None)  # the machine is shared; speed is bench/'s business
@given(
    host=_hosts,
    user=st.none() | _texts,
    password=st.none() | _texts,
    port=st.none() | st.integers(0, 65535),
    scheme=st.sampled_from(["sip", "sips"]),
    params=st.lists(st.tuples(_names, st.none() | _texts), max_size=3),
    headers=st.lists(st.tuples(_names, _texts), max_size=2),
)
def test_sip_uri_round_trip(
    host: str,
    user: str | None,
    password: str | None,
    port: int | None,
    scheme: str,
    params: list[tuple[str, str | None]],
    headers: list[tuple[str, str]],
) -> None:
    uri = SipUri(
        host,
        user,
        password if user is not None else None,
        port,
        scheme,
        tuple(params),
        tuple(headers),
    )
    assert parse_uri(str(uri)) == uri
