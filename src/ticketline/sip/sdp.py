"""SDP (RFC 4566 subset) as frozen values with parse/serialize.

Lines we do not interpret (i=, u=, b=, k=, r=, z= ...) are kept in ``extra`` and
written back in RFC 4566 order, so a canonical SDP round-trips byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ticketline.sip.errors import SipParseError

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_SESSION_ORDER = "vosiuepcbtrzkam"
_MEDIA_ORDER = "micbka"

Attribute = tuple[str, str | None]
"""``a=name:value`` as ``(name, value)``; ``a=flag`` as ``(flag, None)``."""


class SdpParseError(SipParseError):
    """A malformed session description (answer 400 or 488)."""


@dataclass(frozen=True)
class Origin:
    """``o=`` line."""

    username: str
    session_id: str
    session_version: str
    address: str
    net_type: str = "IN"
    addr_type: str = "IP4"

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.net_type} {self.addr_type} {self.address}"
        )


@dataclass(frozen=True)
class Connection:
    """``c=`` line."""

    address: str
    net_type: str = "IN"
    addr_type: str = "IP4"

    def __str__(self) -> str:
        return f"{self.net_type} {self.addr_type} {self.address}"


@dataclass(frozen=True)
class RtpMap:
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]``."""

    payload_type: int
    encoding: str
    clock_rate: int
    channels: int | None = None

    def __str__(self) -> str:
        channels = "" if self.channels is None else f"/{self.channels}"
        return f"{self.payload_type} {self.encoding}/{self.clock_rate}{channels}"


def _attribute_text(attribute: Attribute) -> str:
    name, value = attribute
    return f"a={name}" if value is None else f"a={name}:{value}"


def _find(attributes: tuple[Attribute, ...], name: str) -> list[str]:
    return [value or "" for key, value in attributes if key == name]


def _direction_of(attributes: tuple[Attribute, ...]) -> str | None:
    return next((key for key, value in attributes if key in DIRECTIONS and value is None), None)


@dataclass(frozen=True)
class MediaDescription:
    """One ``m=`` section."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    connection: Connection | None = None
    attributes: tuple[Attribute, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def rtpmaps(self) -> dict[int, RtpMap]:
        """``a=rtpmap`` entries by payload type."""
        maps = (_parse_rtpmap(value) for value in _find(self.attributes, "rtpmap"))
        return {rtpmap.payload_type: rtpmap for rtpmap in maps}

    @property
    def fmtps(self) -> dict[int, str]:
        """``a=fmtp`` parameters by payload type."""
        result: dict[int, str] = {}
        for value in _find(self.attributes, "fmtp"):
            payload_type, _, params = value.partition(" ")
            if payload_type.isdigit():
                result[int(payload_type)] = params
        return result

    @property
    def direction(self) -> str | None:
        """sendrecv/sendonly/recvonly/inactive if given at media level."""
        return _direction_of(self.attributes)

    @property
    def ptime(self) -> int | None:
        """``a=ptime`` in milliseconds."""
        values = _find(self.attributes, "ptime")
        return int(values[0]) if values and values[0].isdigit() else None

    def with_direction(self, direction: str) -> MediaDescription:
        """A copy whose direction attribute is ``direction``."""
        kept = tuple(a for a in self.attributes if not (a[0] in DIRECTIONS and a[1] is None))
        return replace(self, attributes=(*kept, (direction, None)))

    def lines(self) -> list[str]:
        """The section's lines, without line ends."""
        lines = [f"m={self.media} {self.port} {self.proto} {' '.join(self.formats)}"]
        extras = sorted(self.extra, key=lambda item: _MEDIA_ORDER.index(item[0]))
        lines += [f"{k}={v}" for k, v in extras if k == "i"]
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines += [f"{k}={v}" for k, v in extras if k != "i"]
        lines += [_attribute_text(attribute) for attribute in self.attributes]
        return lines


@dataclass(frozen=True)
class SessionDescription:
    """A whole SDP body."""

    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    timing: tuple[int, int] = (0, 0)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    version: int = 0

    @property
    def direction(self) -> str | None:
        """Session-level direction attribute, if any."""
        return _direction_of(self.attributes)

    def serialize(self) -> bytes:
        """SDP text with CRLF line ends."""
        before_c = [f"{k}={v}" for k, v in self._sorted_extra() if k in "iuep"]
        after_c = [f"{k}={v}" for k, v in self._sorted_extra() if k == "b"]
        after_t = [f"{k}={v}" for k, v in self._sorted_extra() if k in "rzk"]
        lines = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}", *before_c]
        if self.connection is not None:
            lines.append(f"c={self.connection}")
        lines += [*after_c, f"t={self.timing[0]} {self.timing[1]}", *after_t]
        lines += [_attribute_text(attribute) for attribute in self.attributes]
        for media in self.media:
            lines += media.lines()
        return ("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogateescape")

    def _sorted_extra(self) -> list[tuple[str, str]]:
        return sorted(self.extra, key=lambda item: _SESSION_ORDER.index(item[0]))


@dataclass
class _Section:
    """Lines collected for the session or one media section while parsing."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: list[Attribute] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, value: str) -> None:
        if kind == "a":
            name, colon, attribute_value = value.partition(":")
            self.attributes.append((name, attribute_value if colon else None))
        elif kind in "ostcm":
            if kind in self.fields:
                raise SdpParseError(f"repeated {kind}= line")
            self.fields[kind] = value
        else:
            self.extra.append((kind, value))


def parse_sdp(data: bytes) -> SessionDescription:
    """Parse an SDP body; raise :class:`SdpParseError` if it is malformed."""
    text = data.decode("utf-8", "surrogateescape")
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines or lines[0] != "v=0":
        raise SdpParseError("SDP must start with v=0")
    session = _Section()
    media: list[_Section] = []
    for line in lines[1:]:
        kind, equals, value = line.partition("=")
        if not equals or len(kind) != 1 or kind not in _SESSION_ORDER:
            raise SdpParseError(f"bad SDP line {line!r}")
        if kind == "m":
            media.append(_Section())
        allowed = _MEDIA_ORDER if media else _SESSION_ORDER[1:-1]
        if kind not in allowed:
            raise SdpParseError(f"{kind}= line not allowed here: {line!r}")
        (media[-1] if media else session).add(kind, value)
    return _build_session(session, media)


def _build_session(session: _Section, media: list[_Section]) -> SessionDescription:
    missing = [kind for kind in "ost" if kind not in session.fields]
    if missing:
        raise SdpParseError(f"SDP lacks {', '.join(k + '=' for k in missing)}")
    return SessionDescription(
        origin=_parse_origin(session.fields["o"]),
        session_name=session.fields["s"],
        connection=_parse_connection(session.fields.get("c")),
        timing=_parse_timing(session.fields["t"]),
        attributes=tuple(session.attributes),
        media=tuple(_build_media(section) for section in media),
        extra=tuple(session.extra),
    )


def _build_media(section: _Section) -> MediaDescription:
    line = section.fields["m"]
    fields = line.split()
    if len(fields) < 4 or not fields[1].partition("/")[0].isdigit():
        raise SdpParseError(f"bad m= line {line!r}")
    port = int(fields[1].partition("/")[0])
    if port > 65535:
        raise SdpParseError(f"bad media port {port}")
    return MediaDescription(
        media=fields[0],
        port=port,
        proto=fields[2],
        formats=tuple(fields[3:]),
        connection=_parse_connection(section.fields.get("c")),
        attributes=tuple(section.attributes),
        extra=tuple(section.extra),
    )


def _parse_origin(value: str) -> Origin:
    fields = value.split()
    if len(fields) != 6:
        raise SdpParseError(f"bad o= line {value!r}")
    username, session_id, version, net_type, addr_type, address = fields
    return Origin(username, session_id, version, address, net_type, addr_type)


def _parse_connection(value: str | None) -> Connection | None:
    if value is None:
        return None
    fields = value.split()
    if len(fields) != 3:
        raise SdpParseError(f"bad c= line {value!r}")
    return Connection(fields[2], fields[0], fields[1])


def _parse_timing(value: str) -> tuple[int, int]:
    fields = value.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields):
        raise SdpParseError(f"bad t= line {value!r}")
    return int(fields[0]), int(fields[1])


def _parse_rtpmap(value: str) -> RtpMap:
    payload_type, _, encoding = value.partition(" ")
    parts = encoding.strip().split("/")
    if not payload_type.isdigit() or len(parts) not in (2, 3) or not parts[1].isdigit():
        raise SdpParseError(f"bad rtpmap {value!r}")
    channels = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else None
    return RtpMap(int(payload_type), parts[0], int(parts[1]), channels)
