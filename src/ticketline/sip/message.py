"""SIP requests and responses as frozen values, and RFC 3261 §8.2.6 response building.

The typed accessors (``cseq``, ``vias``, ``from_`` ...) parse their header on first
use and cache the result; the parser touches them once, so a malformed value is
refused at parse time and a parsed message answers them for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ticketline.sip.address import MAX_EXPIRES, NameAddress, parse_address
from ticketline.sip.errors import SipParseError
from ticketline.sip.headers import Headers
from ticketline.sip.lazy import lazy
from ticketline.sip.syntax import is_token, parse_bounded_int, split_list
from ticketline.sip.uri import Uri
from ticketline.sip.via import Via, parse_via

SIP_VERSION = "SIP/2.0"
MAX_CSEQ = 2**31 - 1
MAX_FORWARDS = 255

REASON_PHRASES = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
    183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
    301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required",
    408: "Request Timeout", 410: "Gone", 413: "Request Entity Too Large",
    415: "Unsupported Media Type", 416: "Unsupported URI Scheme", 420: "Bad Extension",
    421: "Extension Required", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
    484: "Address Incomplete", 486: "Busy Here", 487: "Request Terminated",
    488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
    600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}  # fmt: skip


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class _MessageBase:
    """Typed header accessors shared by requests and responses."""

    headers: Headers
    body: bytes

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"missing {name} header")
        return value

    @lazy
    def call_id(self) -> str:
        """The Call-ID."""
        value = self._required("Call-ID").strip()
        if not value or " " in value:
            raise SipParseError(f"bad Call-ID {value!r}")
        return value

    @lazy
    def cseq(self) -> tuple[int, str]:
        """CSeq as ``(number, method)``."""
        number, _, method = self._required("CSeq").strip().partition(" ")
        method = method.strip()
        if not is_token(method):
            raise SipParseError(f"bad CSeq method {method!r}")
        return parse_bounded_int(number, "CSeq", MAX_CSEQ), method

    @lazy
    def from_(self) -> NameAddress:
        """The From address."""
        return parse_address(self._required("From"))

    @lazy
    def to(self) -> NameAddress:
        """The To address."""
        return parse_address(self._required("To"))

    @lazy
    def vias(self) -> tuple[Via, ...]:
        """Every Via value, topmost first."""
        return tuple(parse_via(value) for value in self.headers.get_all("Via"))

    @property
    def top_via(self) -> Via:
        """The topmost Via."""
        if not self.vias:
            raise SipParseError("missing Via header")
        return self.vias[0]

    @lazy
    def contacts(self) -> tuple[NameAddress, ...]:
        """Contact addresses (empty for ``Contact: *``, see :attr:`contact_is_star`)."""
        values = self.headers.get_all("Contact")
        if values == ["*"]:
            return ()
        addresses = tuple(parse_address(value) for value in values)
        for address in addresses:
            _ = address.expires  # refuse overlarge expires early
        return addresses

    @property
    def contact_is_star(self) -> bool:
        """True for ``Contact: *`` (REGISTER remove-all)."""
        return self.headers.get_all("Contact") == ["*"]

    @lazy
    def record_routes(self) -> tuple[NameAddress, ...]:
        """Record-Route addresses, in header order."""
        return tuple(parse_address(v) for v in self.headers.get_all("Record-Route"))

    @lazy
    def routes(self) -> tuple[NameAddress, ...]:
        """Route addresses, in header order."""
        return tuple(parse_address(v) for v in self.headers.get_all("Route"))

    @lazy
    def max_forwards(self) -> int | None:
        """Max-Forwards, or ``None`` when absent."""
        value = self.headers.get("Max-Forwards")
        return None if value is None else parse_bounded_int(value, "Max-Forwards", MAX_FORWARDS)

    @lazy
    def expires(self) -> int | None:
        """The Expires header, or ``None`` when absent."""
        value = self.headers.get("Expires")
        return None if value is None else parse_bounded_int(value, "Expires", MAX_EXPIRES)

    @property
    def content_type(self) -> str | None:
        """The media type (lower case, without parameters), or ``None``."""
        value = self.headers.get("Content-Type")
        return None if value is None else value.partition(";")[0].strip().lower()

    @property
    def supported(self) -> tuple[str, ...]:
        """Option tags of Supported."""
        return tuple(self.headers.get_all("Supported"))

    @property
    def require(self) -> tuple[str, ...]:
        """Option tags of Require."""
        return tuple(self.headers.get_all("Require"))

    def _serialize(self, start_line: str) -> bytes:
        headers = self.headers
        if "Content-Length" not in headers:
            headers = headers.with_added("Content-Length", str(len(self.body)))
        return _encode(start_line + "\r\n" + headers.serialize() + "\r\n") + self.body


@dataclass(frozen=True)
class Request(_MessageBase):
    """A SIP request. ``uri`` is the parsed Request-URI."""

    method: str
    uri: Uri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def serialize(self) -> bytes:
        """Wire bytes; a missing Content-Length is added."""
        return self._serialize(f"{self.method} {self.uri} {self.version}")


@dataclass(frozen=True)
class Response(_MessageBase):
    """A SIP response."""

    status: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    @property
    def is_provisional(self) -> bool:
        """1xx."""
        return self.status < 200

    @property
    def is_success(self) -> bool:
        """2xx."""
        return 200 <= self.status < 300

    def serialize(self) -> bytes:
        """Wire bytes; a missing Content-Length is added."""
        return self._serialize(f"{self.version} {self.status} {self.reason}")


Message = Request | Response

_COPIED_HEADERS = ("Via", "From", "To", "Call-ID", "CSeq")


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    extra_headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Response:
    """Build a response to ``request`` as RFC 3261 §8.2.6 says.

    Copies Via (all of them, in order), From, To, Call-ID and CSeq; adds
    ``to_tag`` to To unless the request's To already has a tag or ``status``
    is 100 (§8.2.6.1).
    """
    fields: list[tuple[str, str]] = []
    for name, value in request.headers:
        if name not in _COPIED_HEADERS:
            continue
        if name == "To" and to_tag is not None and status != 100:
            value = _tag_to(value, to_tag)
        fields.append((name, value))
    fields.extend(extra_headers)
    return Response(
        status,
        REASON_PHRASES.get(status, "") if reason is None else reason,
        Headers.of(fields),
        body,
    )


def _tag_to(value: str, to_tag: str) -> str:
    address = parse_address(value)
    return value if address.tag is not None else str(address.with_tag(to_tag))


def header_tokens(message: Message, name: str) -> list[str]:
    """Elements of a list header, lower-cased (Supported, Require, Allow ...)."""
    return [item.lower() for line in message.headers.get_lines(name) for item in split_list(line)]
