"""Datagram parser: ``parse(bytes) -> Request | Response``.

Invariants: only :class:`SipParseError` ever leaves :func:`parse`; header bytes
are decoded as UTF-8 with ``surrogateescape`` so every octet survives a round
trip; the body is framed by Content-Length and octets past it are ignored.
"""

from __future__ import annotations

import re

from ticketline.sip.errors import SipParseError
from ticketline.sip.grammar import ADDRESS_LIST_RE, ADDRESS_RE, VIA_LIST_RE
from ticketline.sip.headers import CANONICAL_NAMES, Headers
from ticketline.sip.message import SIP_VERSION, Message, Request, Response
from ticketline.sip.syntax import is_token, parse_bounded_int
from ticketline.sip.uri import SipUri, parse_uri

MAX_MESSAGE_SIZE = 65535
"""Largest message accepted (RFC 3261 §18.1.1 datagram bound); bigger → 513."""

_HEADER_LINE_RE = re.compile(r"([^:\r\n]*):[ \t]*([^\r\n]*)(?:\r\n|\Z)")
# The spellings seen on the wire almost always: skip lower-casing for them.
_KNOWN_SPELLINGS = {
    spelling: (canonical, canonical.lower())
    for key, canonical in CANONICAL_NAMES.items()
    for spelling in (canonical, key)
}
_BLANKS = (" ", "\t")
_FOLD_RE = re.compile(r"[ \t]*\r\n[ \t]+")
_VERSION_RE = re.compile(r"SIP/\d{1,3}\.\d{1,3}")
_DATE_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d{2}:\d{2}:\d{2} GMT"
)
_RETRY_AFTER_RE = re.compile(r"(\d{1,10})\s*(\(.*\))?\s*(;.*)?", re.DOTALL)
_WARNING_RE = re.compile(r"\d{3} \S+ \".*\"", re.DOTALL)

# Header syntax checked at parse time; typed objects are built on first access.
_LINE_CHECKS = (
    ("Via", VIA_LIST_RE),
    ("From", ADDRESS_RE),
    ("To", ADDRESS_RE),
    ("Contact", ADDRESS_LIST_RE),
)
_SCALAR_ACCESSORS = (
    ("Call-ID", "call_id"),
    ("CSeq", "cseq"),
    ("Max-Forwards", "max_forwards"),
    ("Expires", "expires"),
)
_RESPONSE_MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")


def parse(data: bytes) -> Message:
    """Parse one SIP message from a datagram (or a chunk framed by :class:`StreamFramer`).

    Raises :class:`SipParseError` (with the status to answer) for anything malformed.
    """
    try:
        return _parse(data)
    except SipParseError:
        raise
    except Exception as exc:  # a parser bug must still look like bad input to the transport
        raise SipParseError(f"unparseable message: {exc}") from exc


def _parse(data: bytes) -> Message:
    if len(data) > MAX_MESSAGE_SIZE:
        raise SipParseError(f"message of {len(data)} bytes is too large", 513)
    head, rest = _split_head(data.lstrip(b"\r\n"))
    text = head.decode("utf-8", "surrogateescape")
    if "\r\n " in text or "\r\n\t" in text:
        text = _FOLD_RE.sub(" ", text)
    start_line, _, header_text = text.partition("\r\n")
    headers = _parse_header_lines(header_text)
    body = _frame_body(headers, rest)
    if start_line.startswith("SIP/"):
        message: Message = _parse_response(start_line, headers, body)
    else:
        message = _parse_request(start_line, headers, body)
    _validate(message)
    return message


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    end = data.find(b"\r\n\r\n")
    if end >= 0:
        return data[:end], data[end + 4 :]
    if data.endswith(b"\r\n"):
        # The header section ends with the datagram (no empty line): accept, no body.
        return data[:-2], b""
    raise SipParseError("incomplete header section")


def _parse_header_lines(header_text: str) -> Headers:
    if not header_text:
        return Headers()
    pairs = _HEADER_LINE_RE.findall(header_text)
    if len(pairs) != header_text.count("\r\n") + 1:
        raise SipParseError(f"header line without colon in {header_text[:200]!r}")
    fields: list[tuple[str, str]] = []
    index: dict[str, list[str]] = {}
    for name, value in pairs:
        if name[-1:] in _BLANKS:
            name = name.rstrip(" \t")
        if value[-1:] in _BLANKS:
            value = value.rstrip(" \t")
        known = _KNOWN_SPELLINGS.get(name)
        if known is not None:
            canonical, key = known
        else:
            canonical, key = _name_and_key(name)
        fields.append((canonical, value))
        index.setdefault(key, []).append(value)
    return Headers.from_parsed(tuple(fields), index)


def _name_and_key(name: str) -> tuple[str, str]:
    canonical = CANONICAL_NAMES.get(name.lower())
    if canonical is not None:
        return canonical, canonical.lower()
    if not is_token(name):
        raise SipParseError(f"bad header name {name!r}")
    return name, name.lower()


def _frame_body(headers: Headers, rest: bytes) -> bytes:
    lengths = headers.get_lines("Content-Length")
    if not lengths:
        return rest  # datagram without Content-Length: the body runs to its end
    if len(lengths) > 1:
        raise SipParseError("several Content-Length headers")
    length = parse_bounded_int(lengths[0], "Content-Length", MAX_MESSAGE_SIZE)
    if len(rest) < length:
        raise SipParseError(f"body has {len(rest)} bytes, Content-Length says {length}")
    return rest[:length]


def _parse_request(start_line: str, headers: Headers, body: bytes) -> Request:
    parts = start_line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError(f"bad Request-Line {start_line[:120]!r}")
    method, uri_text, version = parts
    if not is_token(method):
        raise SipParseError(f"bad method {method!r}")
    if not _VERSION_RE.fullmatch(version):
        raise SipParseError(f"bad SIP-Version {version!r}")
    uri = parse_uri(uri_text)
    if isinstance(uri, SipUri) and uri.headers:
        raise SipParseError("a Request-URI must not carry headers (RFC 3261 §19.1.5)")
    return Request(method, uri, headers, body, version)


def _parse_response(start_line: str, headers: Headers, body: bytes) -> Response:
    parts = start_line.split(" ", 2)
    if len(parts) < 2:
        raise SipParseError(f"bad Status-Line {start_line[:120]!r}")
    version, code = parts[0], parts[1]
    if version != SIP_VERSION:
        raise SipParseError(f"unsupported SIP-Version {version!r}", 505)
    if len(code) != 3 or not code.isdigit() or not code.isascii() or not 100 <= int(code) <= 699:
        raise SipParseError(f"bad status code {code[:20]!r}")
    for name in _RESPONSE_MANDATORY:
        if name not in headers:
            raise SipParseError(f"response without {name}")
    return Response(int(code), parts[2] if len(parts) == 3 else "", headers, body, version)


def _validate(message: Message) -> None:
    headers = message.headers
    for name, pattern in _LINE_CHECKS:
        for line in headers.get_lines(name):
            if pattern.fullmatch(line) is None and not (name == "Contact" and line == "*"):
                raise SipParseError(f"bad {name} {line[:120]!r}")
    for name, accessor in _SCALAR_ACCESSORS:
        if name in headers:
            getattr(message, accessor)
    date = headers.get("Date")
    if date is not None and not _DATE_RE.fullmatch(date):
        raise SipParseError(f"bad Date {date!r} (RFC 1123 date in GMT required)")
    retry_after = headers.get("Retry-After")
    if retry_after is not None and not _RETRY_AFTER_RE.fullmatch(retry_after):
        raise SipParseError(f"bad Retry-After {retry_after[:40]!r}")
    for warning in headers.get_all("Warning"):
        if not _WARNING_RE.fullmatch(warning):
            raise SipParseError(f"bad Warning {warning[:60]!r}")
