"""The registrar (RFC 3261 §10.3): agents' phones REGISTER here with digest auth.

Credentials are the extensions' HA1 values from the admin area (MD5 and SHA-256).
Every authentication failure counts against the source IP; past the limit the
address is locked out for a while and gets 403 for everything it tries (the usual
defence against toll-fraud scanners). An unknown user is challenged and refused
exactly like a wrong password, so a scanner learns nothing about which exist.
Bindings live in memory: phones re-register within their expiry after a restart.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ticketline.core.ratelimit import RateLimiter
from ticketline.sip import Request, Response, SipUri, make_response
from ticketline.sip.digest import (
    VerifyResult,
    authorization_username,
    make_challenge,
    parse_auth_header,
    verify,
)
from ticketline.sip.errors import SipParseError
from ticketline.sip.uri import Uri
from ticketline.telephony.transport import Peer

DEFAULT_EXPIRES = 3600
MIN_EXPIRES = 60
MAX_EXPIRES = 7200
MD5_ONLY_AGENTS = ("baresip v0.", "baresip v1.")
"""User-Agent prefixes whose digest code (libre before 2.x) fails with ENOSYS
("Register: Function not implemented") on any non-MD5 challenge in a 401."""


@dataclass(frozen=True)
class Credentials:
    """Digest HA1 values of one extension for the registrar's realm."""

    ha1_md5: str
    ha1_sha256: str


CredentialLookup = Callable[[str], Awaitable[Credentials | None]]
"""Finds the enabled extension ``number``; ``None`` when unknown or disabled."""


@dataclass(frozen=True)
class Binding:
    """One registered contact of an extension."""

    contact: Uri
    peer: Peer
    expires_at: datetime
    call_id: str
    cseq: int
    q: float = 1.0


@dataclass(frozen=True)
class AuthPolicy:
    """Failed digest attempts allowed per source IP in ``window``, then ``lockout``."""

    max_failures: int = 10
    window: timedelta = timedelta(minutes=1)
    lockout: timedelta = timedelta(minutes=15)


@dataclass
class Authenticator:
    """Digest challenges and checks against extension credentials, with IP lockout."""

    realm: str
    lookup: CredentialLookup
    now: Callable[[], datetime]
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    # Unknown users are checked against this so timing and answers match a real one.
    _decoy: Credentials = field(
        default_factory=lambda: Credentials(secrets.token_hex(16), secrets.token_hex(32))
    )

    def __post_init__(self) -> None:
        self._failures = RateLimiter(self.policy.max_failures, self.policy.window)
        self._locked: dict[str, datetime] = {}

    def locked_out(self, host: str) -> bool:
        """True while ``host`` is locked out after too many failures."""
        until = self._locked.get(host)
        if until is None:
            return False
        if until <= self.now():
            del self._locked[host]
            return False
        return True

    async def check(
        self, request: Request, header: str, expected_user: str | None = None
    ) -> str | VerifyResult | None:
        """The authenticated username, or why not.

        Returns the username on success; ``None`` when the request carries no
        credentials; ``VerifyResult.STALE``/``BAD`` otherwise (a BAD counts as a
        failure of the source address).
        """
        value = request.headers.get(header)
        if value is None:
            return None
        try:
            scheme, params = parse_auth_header(value)
        except SipParseError:
            return VerifyResult.BAD
        if scheme.lower() != "digest":
            return None  # an unknown scheme is ignored (RFC 4475 regaut01): challenge
        username = authorization_username(value) or ""
        creds = await self.lookup(username) if username else None
        if creds is None or (expected_user is not None and username != expected_user):
            creds = self._decoy
        algorithm = params.get("algorithm", "MD5").upper()
        ha1 = creds.ha1_sha256 if algorithm == "SHA-256" else creds.ha1_md5
        result = verify(value, request.method, self.now().timestamp(), self.secret, self.realm,
                        ha1=ha1)  # fmt: skip
        if result is VerifyResult.OK and creds is not self._decoy:
            return username
        return VerifyResult.STALE if result is VerifyResult.STALE else VerifyResult.BAD

    def record_failure(self, host: str) -> None:
        """Count one failed attempt; lock ``host`` out once over the limit."""
        now = self.now()
        self._failures.allow(host, now)
        if self._failures.count(host, now) >= self.policy.max_failures:
            self._locked[host] = now + self.policy.lockout
            self._failures.reset(host)

    def challenge(self, request: Request, status: int, stale: bool = False) -> Response:
        """A 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) offering MD5 and SHA-256.

        MD5 comes first (old phones take the first challenge). Agents known to give up
        on a challenge set containing an algorithm they lack get MD5 alone.
        """
        header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
        at = self.now().timestamp()
        agent = request.headers.get("User-Agent") or ""
        algorithms = ("MD5",) if agent.startswith(MD5_ONLY_AGENTS) else ("MD5", "SHA-256")
        challenges = [
            make_challenge(self.realm, at, self.secret, algorithm, stale)
            for algorithm in algorithms
        ]
        extra = tuple((header, str(challenge)) for challenge in challenges)
        return make_response(request, status, extra_headers=extra, to_tag=_auth_tag(request))


def _auth_tag(request: Request) -> str:
    # A stable To tag for challenges, derived from the Call-ID (no state kept).
    return hmac.new(b"tag", request.call_id.encode(), "sha1").hexdigest()[:12]


def contact_peer(contact: Uri) -> Peer | None:
    """The address a Contact URI names, if it names an IP host."""
    if not isinstance(contact, SipUri) or not contact.host[:1].isdigit():
        return None
    transport = (contact.param("transport") or "udp").lower()
    if transport not in ("udp", "tcp"):
        return None
    return Peer(transport, contact.host, contact.port or 5060)


def reach_peer(contact: Uri, source: Peer) -> Peer:
    """Where to send requests for ``contact`` registered from ``source``.

    Over TCP, or when the contact names another host than the packet came from
    (a phone behind NAT writing its private address), use the flow the REGISTER
    came on; a phone on the host it sent from is taken at its word for the port.
    """
    if source.reliable or not isinstance(contact, SipUri) or contact.host != source.host:
        return source
    transport = (contact.param("transport") or "udp").lower()
    if transport != "udp":
        return source
    return Peer("udp", source.host, contact.port or 5060)


class Registrar:
    """Keeps contact bindings per extension and answers REGISTER."""

    def __init__(self, auth: Authenticator, now: Callable[[], datetime]) -> None:
        self.auth = auth
        self.now = now
        self._bindings: dict[str, list[Binding]] = {}

    def contacts(self, number: str) -> list[Binding]:
        """Live bindings of ``number``, best first (highest q, then newest)."""
        now = self.now()
        live = [b for b in self._bindings.get(number, []) if b.expires_at > now]
        if live:
            self._bindings[number] = live
        else:
            self._bindings.pop(number, None)
        return sorted(live, key=lambda b: (-b.q, -b.expires_at.timestamp()))

    def registered(self) -> dict[str, list[Binding]]:
        """Every extension with live bindings."""
        return {number: self.contacts(number) for number in list(self._bindings)}

    async def handle(self, request: Request, peer: Peer) -> Response:
        """Answer one REGISTER."""
        aor = request.to.uri
        if not isinstance(aor, SipUri) or not aor.user:
            return make_response(request, 400, "Bad Address Of Record")
        if self.auth.locked_out(peer.host):
            return make_response(request, 403)
        result = await self.auth.check(request, "Authorization", expected_user=aor.user)
        if result is None or result is VerifyResult.STALE:
            return self.auth.challenge(request, 401, stale=result is VerifyResult.STALE)
        if isinstance(result, VerifyResult):
            self.auth.record_failure(peer.host)
            if self.auth.locked_out(peer.host):
                return make_response(request, 403)
            return self.auth.challenge(request, 401)
        return self._update(request, aor.user, peer)

    def _update(self, request: Request, number: str, peer: Peer) -> Response:
        if request.contact_is_star:
            if request.expires != 0:
                return make_response(request, 400, "Wildcard Needs Expires 0")
            self._bindings.pop(number, None)
            return make_response(request, 200, to_tag=_auth_tag(request))
        bindings = {str(b.contact): b for b in self.contacts(number)}
        for contact in request.contacts:
            expires = contact.expires if contact.expires is not None else request.expires
            expires = DEFAULT_EXPIRES if expires is None else expires
            key = str(contact.uri)
            old = bindings.get(key)
            if old is not None and old.call_id == request.call_id and old.cseq >= request.cseq[0]:
                return make_response(request, 500, "Out Of Order Register")
            if expires == 0:
                bindings.pop(key, None)
                continue
            if expires < MIN_EXPIRES:
                return make_response(
                    request, 423, extra_headers=(("Min-Expires", str(MIN_EXPIRES)),)
                )
            expires = min(expires, MAX_EXPIRES)
            bindings[key] = Binding(
                contact.uri,
                reach_peer(contact.uri, peer),
                self.now() + timedelta(seconds=expires),
                request.call_id,
                request.cseq[0],
                1.0 if contact.q is None else contact.q,
            )
        self._bindings[number] = list(bindings.values())
        return self._ok(request, number)

    def _ok(self, request: Request, number: str) -> Response:
        now = self.now()
        contacts = tuple(
            ("Contact", f"<{b.contact}>;expires={int((b.expires_at - now).total_seconds())}")
            for b in self.contacts(number)
        )
        return make_response(request, 200, to_tag=_auth_tag(request), extra_headers=contacts)


class CachedCredentials:
    """Caches extension credentials for ``ttl`` seconds; ``forget`` on ExtensionChanged.

    The B2BUA asks "is this an extension?" on every call; the cache keeps that
    off the database at call rates.
    """

    def __init__(self, lookup: CredentialLookup, now: Callable[[], datetime],
                 ttl: timedelta = timedelta(seconds=30)) -> None:  # fmt: skip
        self._lookup = lookup
        self._now = now
        self._ttl = ttl
        self._cache: dict[str, tuple[datetime, Credentials | None]] = {}

    async def __call__(self, number: str) -> Credentials | None:
        now = self._now()
        hit = self._cache.get(number)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await self._lookup(number)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[number] = (now + self._ttl, found)
        return found

    def forget(self, number: str | None = None) -> None:
        """Drop ``number`` (or everything) from the cache."""
        if number is None:
            self._cache.clear()
        else:
            self._cache.pop(number, None)
