"""Property tests: generated messages round-trip; mutated messages only raise SipParseError."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ticketline.sip import Headers, NameAddress, Request, Response, SipParseError, SipUri, parse
from ticketline.sip.validate import check_request

CORPUS = next(
    parent.parent / "shared/conformance/rfc4475"
    for parent in Path(__file__).resolve().parents
    if (parent.parent / "shared/conformance/rfc4475/MANIFEST.tsv").is_file()
)
SEEDS = [path.read_bytes() for path in sorted(CORPUS.glob("*.dat"))]
VALID_INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\nCSeq: 314159 INVITE\r\n"
    b"Contact: <sip:alice@pc33.example.com>\r\nContent-Length: 4\r\n\r\nv=0\n"
)
SEEDS.append(VALID_INVITE)

_token = st.from_regex(r"[A-Za-z0-9\-.!%*_+`'~]{1,12}", fullmatch=True)
_host = st.from_regex(r"[a-z][a-z0-9\-]{0,8}(\.[a-z]{2,5}){0,2}", fullmatch=True)
_value = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="\x85"),
    max_size=30,
).map(str.strip)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(_token)
    host = draw(_host)
    branch = "z9hG4bK" + draw(_token)
    body = draw(st.binary(max_size=200))
    fields = [
        ("Via", f"SIP/2.0/{draw(st.sampled_from(['UDP', 'TCP']))} {host};branch={branch}"),
        ("Max-Forwards", str(draw(st.integers(0, 255)))),
        ("To", f"<sip:{draw(_token)}@{host}>"),
        ("From", f'"{draw(_token)}" <sip:a@{host}>;tag={draw(_token)}'),
        ("Call-ID", draw(_token)),
        ("CSeq", f"{draw(st.integers(0, 2**31 - 1))} {method}"),
    ]
    for name, value in draw(st.lists(st.tuples(_token, _value), max_size=4)):
        fields.append((f"X-{name}", value))
    fields.append(("Content-Length", str(len(body))))
    user = draw(st.none() | _token)
    return Request(method, SipUri(host, user), Headers.of(fields), body)


@settings(deadline=None)  # the machine is shared; speed is bench/'s business
@given(requests())
def test_generated_requests_round_trip(request: Request) -> None:
    assert parse(request.serialize()) == request


def _mutate(data: bytes, operations: list[tuple[int, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, value in operations:
        if not buffer:
            break
        index = position % len(buffer)
        if kind == 0:
            buffer[index] = value
        elif kind == 1:
            del buffer[index:]
        elif kind == 2:
            buffer[index:index] = bytes([value]) * (1 + value % 5)
        else:
            del buffer[index : index + 1 + value % 8]
    return bytes(buffer)


_operations = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 255)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), operations=_operations)
def test_mutated_messages_only_raise_parse_errors(
    seed: bytes, operations: list[tuple[int, int, int]]
) -> None:
    data = _mutate(seed, operations)
    try:
        message = parse(data)
    except SipParseError as error:
        failure = str(error)
    else:
        _read_everything(message)
        return
    # parse() wraps unexpected exceptions in this message: that would be a bug.
    assert not failure.startswith("unparseable message"), failure


def _contacts_or_none(message: Request | Response) -> tuple[NameAddress, ...]:
    try:
        return message.contacts
    except SipParseError:
        return ()


def _read_everything(message: Request | Response) -> None:
    """Lazy accessors may refuse a value, but only with SipParseError."""
    for accessor in ("vias", "from_", "to", "contacts", "routes", "record_routes"):
        with contextlib.suppress(SipParseError):
            getattr(message, accessor)
    for contact in _contacts_or_none(message):
        with contextlib.suppress(SipParseError):
            _ = (contact.q, contact.expires, contact.tag)
    if isinstance(message, Request):
        refusal = check_request(message)
        assert refusal is None or 400 <= refusal.status < 600
    again = parse(message.serialize())
    assert again.headers.without("Content-Length") == message.headers.without("Content-Length")
