"""Ordered, immutable SIP header fields.

Headers stay a list of ``(name, value)`` pairs in wire order so that repeated
fields (``Via``, ``Route``, ``Contact``) survive; lookups are case-insensitive
and compact forms are expanded to canonical names when the pairs are built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ticketline.sip.lazy import lazy
from ticketline.sip.syntax import split_list

COMPACT_FORMS = {
    "v": "Via",
    "f": "From",
    "t": "To",
    "i": "Call-ID",
    "m": "Contact",
    "l": "Content-Length",
    "c": "Content-Type",
    "k": "Supported",
    "s": "Subject",
    "e": "Content-Encoding",
    "o": "Event",
    "r": "Refer-To",
    "b": "Referred-By",
    "u": "Allow-Events",
    "x": "Session-Expires",
}

_CANONICAL_LIST = [
    *COMPACT_FORMS.values(),
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authorization",
    "CSeq", "Call-Info", "Content-Disposition", "Content-Language", "Date", "Error-Info",
    "Expires", "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Organization",
    "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
    "Reply-To", "Require", "Retry-After", "Route", "Server", "Timestamp", "Unsupported",
    "User-Agent", "Warning", "WWW-Authenticate", "Authentication-Info", "RSeq", "RAck",
    "Min-SE", "Privacy", "P-Asserted-Identity", "Replaces", "Reason", "Path",
    "Subscription-State", "Identity",
]  # fmt: skip

CANONICAL_NAMES = {name.lower(): name for name in _CANONICAL_LIST}
CANONICAL_NAMES.update(COMPACT_FORMS)

LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
        "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
        "Allow-Events", "Content-Encoding", "Content-Language", "In-Reply-To", "Path",
        "Warning", "Alert-Info", "Call-Info", "Error-Info", "P-Asserted-Identity",
    )
)  # fmt: skip
"""Headers whose comma-separated values are separate elements (RFC 3261 §7.3.1)."""


_LOOKUP_KEYS = {name: name.lower() for name in _CANONICAL_LIST}


def canonical_name(name: str) -> str:
    """Canonical spelling of a header name (expands compact forms)."""
    return CANONICAL_NAMES.get(name.lower(), name)


def _key(name: str) -> str:
    """Index key of a header name: lower-cased canonical name."""
    return _LOOKUP_KEYS.get(name) or canonical_name(name).lower()


def _check_safe(name: str, value: str) -> None:
    if not name or any(c in name for c in ":\r\n \t") or "\r" in value or "\n" in value:
        raise ValueError(f"header field {name!r}: {value!r} cannot be serialized safely")


@dataclass(frozen=True)
class Headers:
    """Ordered header fields; build with :meth:`of` to canonicalise names."""

    fields: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Build headers from pairs, canonicalising names and refusing CR/LF."""
        fields = []
        for name, value in pairs:
            _check_safe(name, value)
            fields.append((canonical_name(name), value))
        return cls(tuple(fields))

    @classmethod
    def from_parsed(
        cls, fields: tuple[tuple[str, str], ...], index: dict[str, list[str]]
    ) -> Headers:
        """Headers from the parser, which already built the lookup index."""
        headers = cls(fields)
        headers.__dict__["_index"] = index  # prefill the lazy attribute below
        return headers

    @lazy
    def _index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for name, value in self.fields:
            index.setdefault(name.lower(), []).append(value)
        return index

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Value of the first field called ``name``, or ``default``."""
        values = self._index.get(_key(name))
        return values[0] if values else default

    def get_lines(self, name: str) -> list[str]:
        """Raw values of every field called ``name``, one per header line."""
        return list(self._index.get(_key(name), ()))

    def get_all(self, name: str) -> list[str]:
        """Every element of ``name``: comma-joined values of list headers are split."""
        key = _key(name)
        lines = self._index.get(key, [])
        if key not in LIST_HEADERS:
            return list(lines)
        return [item for line in lines for item in split_list(line)]

    def count(self, name: str) -> int:
        """Number of header lines called ``name``."""
        return len(self._index.get(_key(name), ()))

    def with_added(self, name: str, value: str, *, first: bool = False) -> Headers:
        """A copy with one more field, at the end (or at the top with ``first``)."""
        _check_safe(name, value)
        field = (canonical_name(name), value)
        return Headers((field, *self.fields) if first else (*self.fields, field))

    def with_replaced(self, name: str, value: str) -> Headers:
        """A copy where ``name`` has the single value ``value`` (at its first place)."""
        _check_safe(name, value)
        canonical = canonical_name(name)
        key = canonical.lower()
        fields: list[tuple[str, str]] = []
        placed = False
        for field_name, field_value in self.fields:
            if field_name.lower() != key:
                fields.append((field_name, field_value))
            elif not placed:
                fields.append((canonical, value))
                placed = True
        if not placed:
            fields.append((canonical, value))
        return Headers(tuple(fields))

    def without(self, name: str) -> Headers:
        """A copy without any field called ``name``."""
        key = _key(name)
        return Headers(tuple(f for f in self.fields if f[0].lower() != key))

    def serialize(self) -> str:
        """``Name: value`` lines, each ending in CRLF."""
        return "".join(f"{name}: {value}\r\n" for name, value in self.fields)
