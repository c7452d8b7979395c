"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966); other schemes stay opaque.

Parsed components hold unescaped text (``%40`` becomes ``@``); serialization
escapes again only what the grammar requires, so ``parse(str(uri)) == uri``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, replace
from urllib.parse import quote, unquote

from ticketline.sip.errors import SipParseError

UriParams = tuple[tuple[str, str | None], ...]

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_HOST_RE = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+")
_UNRESERVED = string.ascii_letters + string.digits + "-_.!~*'()"
_USER_SAFE = _UNRESERVED + "&=+$,;?/"
_PASSWORD_SAFE = _UNRESERVED + "&=+$,"
_PARAM_SAFE = _UNRESERVED + "[]/:&+$"
_HEADER_SAFE = _UNRESERVED + "[]/?:+$"
_FORBIDDEN_RE = re.compile(r'[\s<>"]')


def _unescape(text: str) -> str:
    if "%" not in text:
        return text
    return unquote(text, errors="surrogateescape")


def _escape(text: str, safe: str) -> str:
    return quote(text, safe=safe, errors="surrogateescape")


@dataclass(frozen=True)
class SipUri:
    """A ``sip:`` or ``sips:`` URI."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: UriParams = ()
    headers: tuple[tuple[str, str], ...] = field(default=())

    def param(self, name: str) -> str | None:
        """Value of URI parameter ``name`` (``""`` if it has no value)."""
        lowered = name.lower()
        for key, value in self.params:
            if key.lower() == lowered:
                return "" if value is None else value
        return None

    def with_params(self, **params: str | None) -> SipUri:
        """A copy with the given URI parameters added or replaced."""
        kept = tuple(p for p in self.params if p[0] not in params)
        return replace(self, params=kept + tuple(params.items()))

    @property
    def host_port(self) -> str:
        """``host`` or ``host:port``."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        text = f"{self.scheme}:"
        if self.user is not None:
            text += _escape(self.user, _USER_SAFE)
            if self.password is not None:
                text += ":" + _escape(self.password, _PASSWORD_SAFE)
            text += "@"
        text += self.host_port
        for name, value in self.params:
            text += ";" + _escape(name, _PARAM_SAFE)
            if value is not None:
                text += "=" + _escape(value, _PARAM_SAFE)
        if self.headers:
            text += "?" + "&".join(
                f"{_escape(n, _HEADER_SAFE)}={_escape(v, _HEADER_SAFE)}" for n, v in self.headers
            )
        return text


@dataclass(frozen=True)
class TelUri:
    """A ``tel:`` URI: a number and its parameters."""

    number: str
    params: UriParams = ()

    def __str__(self) -> str:
        text = "tel:" + self.number
        for name, value in self.params:
            text += f";{name}" if value is None else f";{name}={value}"
        return text


@dataclass(frozen=True)
class AbsoluteUri:
    """A URI of a scheme we do not interpret, kept verbatim."""

    scheme: str
    opaque: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.opaque}"


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """Parse a URI; raise :class:`SipParseError` if it is malformed."""
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME_RE.fullmatch(scheme) or not rest:
        raise SipParseError(f"bad URI {text!r}")
    if _FORBIDDEN_RE.search(rest):
        raise SipParseError(f"bad character in URI {text!r}")
    lowered = scheme.lower()
    if lowered in ("sip", "sips"):
        return _parse_sip_uri(lowered, rest, text)
    if lowered == "tel":
        return _parse_tel_uri(rest)
    return AbsoluteUri(scheme, rest)


def _parse_sip_uri(scheme: str, rest: str, text: str) -> SipUri:
    user = password = None
    userinfo, at, hostpart = rest.partition("@")
    if at:
        user_text, _, password_text = userinfo.partition(":")
        user = _unescape(user_text)
        password = _unescape(password_text) if ":" in userinfo else None
    else:
        hostpart = rest
    hostpart, question, header_text = hostpart.partition("?")
    hostport, _, param_text = hostpart.partition(";")
    host, port = _parse_hostport(hostport, text)
    params = _parse_uri_params(param_text, text) if param_text or ";" in hostpart else ()
    headers = _parse_uri_headers(header_text, text) if question else ()
    return SipUri(host, user, password, port, scheme, params, headers)


def _parse_hostport(hostport: str, text: str) -> tuple[str, int | None]:
    match = _HOST_RE.match(hostport)
    if match is None:
        raise SipParseError(f"bad host in URI {text!r}")
    host = match.group()
    rest = hostport[match.end() :]
    if not rest:
        return host, None
    if rest[0] != ":" or not rest[1:].isdigit() or len(rest) > 6 or int(rest[1:]) > 65535:
        raise SipParseError(f"bad port in URI {text!r}")
    return host, int(rest[1:])


def _parse_uri_params(param_text: str, text: str) -> UriParams:
    params: list[tuple[str, str | None]] = []
    for raw in param_text.split(";"):
        name, eq, value = raw.partition("=")
        if not name:
            raise SipParseError(f"empty URI parameter in {text!r}")
        params.append((_unescape(name), _unescape(value) if eq else None))
    return tuple(params)


def _parse_uri_headers(header_text: str, text: str) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for raw in header_text.split("&"):
        name, eq, value = raw.partition("=")
        if not name or not eq:
            raise SipParseError(f"bad URI header in {text!r}")
        headers.append((_unescape(name), _unescape(value)))
    return tuple(headers)


def _parse_tel_uri(rest: str) -> TelUri:
    number, _, param_text = rest.partition(";")
    if not number:
        raise SipParseError(f"empty number in tel URI {rest!r}")
    params = _parse_uri_params(param_text, rest) if param_text else ()
    return TelUri(_unescape(number), params)
