"""Low-level RFC 3261 grammar helpers shared by the header-value parsers.

Everything here works on already unfolded header values (``str`` decoded with
``surrogateescape``, so every byte of the wire survives).
"""

from __future__ import annotations

import re

from ticketline.sip.errors import SipParseError

TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~")
TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")

Params = tuple[tuple[str, str | None], ...]
"""Ordered ``;name=value`` parameters; ``None`` for a parameter without a value."""


def is_token(text: str) -> bool:
    """True if ``text`` is a non-empty RFC 3261 token."""
    return TOKEN_RE.fullmatch(text) is not None


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split ``text`` on ``separator`` except inside quoted strings and ``<...>``."""
    if '"' not in text and "<" not in text:
        return text.split(separator)
    parts: list[str] = []
    start = 0
    in_quotes = False
    in_angle = False
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if in_quotes:
            if char == "\\":
                index += 1
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == "<":
            in_angle = True
        elif char == ">":
            in_angle = False
        elif char == separator and not in_angle:
            parts.append(text[start:index])
            start = index + 1
        index += 1
    if in_quotes:
        raise SipParseError(f"unterminated quoted string in {text!r}")
    parts.append(text[start:])
    return parts


def split_list(value: str) -> list[str]:
    """Split a comma-separated header value into its stripped elements."""
    items = [item.strip() for item in split_outside_quotes(value, ",")]
    if any(not item for item in items):
        raise SipParseError(f"empty element in list {value!r}")
    return items


def parse_params(text: str) -> Params:
    """Parse ``;a=1;b;c="x"`` (the leading ``;`` already removed or not)."""
    text = text.strip()
    if not text:
        return ()
    if text.startswith(";"):
        text = text[1:]
    params: list[tuple[str, str | None]] = []
    for raw in split_outside_quotes(text, ";"):
        name, sep, value = raw.partition("=")
        name = name.strip()
        if not is_token(name):
            raise SipParseError(f"bad parameter {raw.strip()!r}")
        if not sep:
            params.append((name, None))
            continue
        value = value.strip()
        if not value or not (is_token(value) or _is_quoted(value) or _is_host_like(value)):
            raise SipParseError(f"bad value for parameter {name!r}: {value!r}")
        params.append((name, value))
    return tuple(params)


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == '"' and value[-1] == '"'


def _is_host_like(value: str) -> bool:
    # IPv6 references (received=[::1]) and the like are not tokens.
    return value.startswith("[") and value.endswith("]")


def format_params(params: Params) -> str:
    """Serialize parameters, each with its leading ``;``."""
    return "".join(f";{name}" if value is None else f";{name}={value}" for name, value in params)


def find_param(params: Params, name: str) -> str | None:
    """Value of parameter ``name`` (case-insensitive); ``""`` if present without value."""
    lowered = name.lower()
    for key, value in params:
        if key.lower() == lowered:
            return "" if value is None else value
    return None


def has_param(params: Params, name: str) -> bool:
    """True if parameter ``name`` is present (case-insensitive)."""
    lowered = name.lower()
    return any(key.lower() == lowered for key, _ in params)


def replace_param(params: Params, name: str, value: str | None) -> Params:
    """Set ``name`` to ``value``, keeping its position or appending it."""
    lowered = name.lower()
    if not has_param(params, name):
        return (*params, (name, value))
    return tuple((key, value) if key.lower() == lowered else (key, old) for key, old in params)


def read_quoted_string(text: str, start: int) -> tuple[str, int]:
    """Read the quoted string opening at ``text[start]``.

    Returns the unescaped content and the index just past the closing quote.
    """
    chars: list[str] = []
    index = start + 1
    length = len(text)
    while index < length:
        char = text[index]
        if char == "\\":
            if index + 1 >= length:
                break
            chars.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(chars), index + 1
        chars.append(char)
        index += 1
    raise SipParseError(f"unterminated quoted string in {text!r}")


def quote_string(text: str) -> str:
    """Quote ``text`` as a quoted-string, escaping ``"`` and ``\\``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_value(value: str) -> str:
    """Strip one level of quotes from a parameter value if it is quoted."""
    if _is_quoted(value):
        return read_quoted_string(value, 0)[0]
    return value


def parse_bounded_int(text: str, what: str, maximum: int) -> int:
    """Parse ``1*DIGIT`` no bigger than ``maximum``."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        raise SipParseError(f"{what} is not a number: {text!r}")
    if len(text) > 12 or int(text) > maximum:
        raise SipParseError(f"{what} too large: {text!r}")
    return int(text)
