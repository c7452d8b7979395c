"""The Via header field value (RFC 3261 §20.42, RFC 3581 rport)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ticketline.sip.errors import SipParseError
from ticketline.sip.syntax import Params, find_param, format_params, parse_params, replace_param

MAGIC_COOKIE = "z9hG4bK"
"""Branch prefix of RFC 3261 compliant transactions."""

_VIA_RE = re.compile(
    r"\s*([A-Za-z0-9\-.!%*_+`'~]+)\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s*/\s*"
    r"([A-Za-z0-9\-.!%*_+`'~]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)"
    r"(?:\s*:\s*(\d{1,5}))?\s*(;.*)?\s*",
    re.DOTALL,
)


@dataclass(frozen=True)
class Via:
    """One Via value: ``SIP/2.0/UDP host:port;branch=...``."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP/2.0"

    @property
    def branch(self) -> str | None:
        """The ``branch`` parameter (transaction id)."""
        return find_param(self.params, "branch")

    @property
    def received(self) -> str | None:
        """The ``received`` parameter a server added."""
        return find_param(self.params, "received")

    @property
    def rport(self) -> int | None:
        """The filled-in ``rport``; ``None`` if absent or still empty."""
        value = find_param(self.params, "rport")
        return int(value) if value else None

    @property
    def wants_rport(self) -> bool:
        """True if the client asked for ``rport`` (RFC 3581)."""
        return find_param(self.params, "rport") is not None

    @property
    def maddr(self) -> str | None:
        """The ``maddr`` parameter."""
        return find_param(self.params, "maddr")

    @property
    def ttl(self) -> int | None:
        """The ``ttl`` parameter."""
        value = find_param(self.params, "ttl")
        return int(value) if value else None

    @property
    def sent_by(self) -> str:
        """``host`` or ``host:port``."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def is_rfc3261(self) -> bool:
        """True if the branch starts with the magic cookie (§8.1.1.7)."""
        branch = self.branch
        return branch is not None and branch.startswith(MAGIC_COOKIE)

    def with_received(self, source_host: str, source_port: int) -> Via:
        """Stamp ``received`` (if the host differs) and a requested ``rport`` (§18.2.1)."""
        params = self.params
        if source_host != self.host or self.wants_rport:
            params = replace_param(params, "received", source_host)
        if self.wants_rport:
            params = replace_param(params, "rport", str(source_port))
        return replace(self, params=params)

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{format_params(self.params)}"


def parse_via(text: str) -> Via:
    """Parse one Via value (already split from a comma-separated list)."""
    match = _VIA_RE.fullmatch(text)
    if match is None:
        raise SipParseError(f"bad Via {text!r}")
    name, version, transport, host, port, param_text = match.groups()
    if port is not None and int(port) > 65535:
        raise SipParseError(f"bad port in Via {text!r}")
    params = parse_params(param_text) if param_text else ()
    return Via(
        transport.upper(), host, None if port is None else int(port), params, f"{name}/{version}"
    )
