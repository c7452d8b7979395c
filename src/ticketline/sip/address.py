"""name-addr / addr-spec values of From, To, Contact, Route and friends (RFC 3261 §20.10)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ticketline.sip.errors import SipParseError
from ticketline.sip.syntax import (
    Params,
    find_param,
    format_params,
    is_token,
    parse_bounded_int,
    parse_params,
    quote_string,
    read_quoted_string,
    replace_param,
)
from ticketline.sip.uri import Uri, parse_uri

MAX_EXPIRES = 2**32 - 1


@dataclass(frozen=True)
class NameAddress:
    """An address: optional display name, a URI and header parameters (tag, q, expires)."""

    uri: Uri
    display_name: str | None = None
    params: Params = ()

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter, if any."""
        return find_param(self.params, "tag")

    @property
    def q(self) -> float | None:
        """The ``q`` preference of a Contact, if given."""
        value = find_param(self.params, "q")
        if value is None:
            return None
        if not re.fullmatch(r"0(\.\d{0,3})?|1(\.0{0,3})?", value):
            raise SipParseError(f"bad q value {value!r}")
        return float(value)

    @property
    def expires(self) -> int | None:
        """The ``expires`` parameter of a Contact, if given."""
        value = find_param(self.params, "expires")
        return None if value is None else parse_bounded_int(value, "expires", MAX_EXPIRES)

    def param(self, name: str) -> str | None:
        """Value of header parameter ``name`` (``""`` if present without value)."""
        return find_param(self.params, name)

    def with_param(self, name: str, value: str | None) -> NameAddress:
        """A copy with parameter ``name`` set."""
        return replace(self, params=replace_param(self.params, name, value))

    def with_tag(self, tag: str) -> NameAddress:
        """A copy carrying ``tag``."""
        return self.with_param("tag", tag)

    def __str__(self) -> str:
        """Always the name-addr form, which is safe for every URI."""
        name = "" if self.display_name is None else quote_string(self.display_name) + " "
        return f"{name}<{self.uri}>{format_params(self.params)}"


def parse_address(text: str) -> NameAddress:
    """Parse a name-addr or addr-spec with its header parameters."""
    text = text.strip()
    if not text:
        raise SipParseError("empty address")
    if text[0] == '"':
        display, end = read_quoted_string(text, 0)
        rest = text[end:].lstrip()
        if not rest.startswith("<"):
            raise SipParseError(f"display name not followed by <URI> in {text!r}")
        return _parse_angle_form(display, rest, text)
    angle = text.find("<")
    if angle >= 0:
        return _parse_angle_form(_display_tokens(text[:angle], text), text[angle:], text)
    return _parse_addr_spec(text)


def _display_tokens(raw: str, text: str) -> str | None:
    words = raw.split()
    if not all(is_token(word) for word in words):
        raise SipParseError(f"display name must be quoted in {text!r}")
    return " ".join(words) if words else None


def _parse_angle_form(display: str | None, rest: str, text: str) -> NameAddress:
    close = rest.find(">")
    if close < 0:
        raise SipParseError(f"missing > in {text!r}")
    uri_text = rest[1:close]
    if uri_text != uri_text.strip():
        raise SipParseError(f"whitespace inside <> in {text!r}")
    after = rest[close + 1 :].strip()
    if after and not after.startswith(";"):
        raise SipParseError(f"unexpected text after > in {text!r}")
    return NameAddress(parse_uri(uri_text), display, parse_params(after))


def _parse_addr_spec(text: str) -> NameAddress:
    # Without <>, every ;param belongs to the header, never to the URI (§20.10).
    uri_text, _, param_text = text.partition(";")
    uri_text = uri_text.strip()
    if any(char in uri_text for char in "?, "):
        raise SipParseError(f"URI with ?, comma or space must be enclosed in <>: {text!r}")
    return NameAddress(parse_uri(uri_text), None, parse_params(param_text))
