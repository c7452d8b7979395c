"""HTTP Digest authentication for SIP (RFC 2617, RFC 7616 SHA-256, RFC 3261 §22).

Server nonces are ``<hex timestamp>.<HMAC>``: the server checks their signature
and age with its secret and the ``now`` it is given, so it keeps no state and
reads no clock. Every secret comparison is constant-time.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass

from ticketline.sip.errors import SipParseError
from ticketline.sip.syntax import quote_string, read_quoted_string

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
NONCE_LIFETIME = 300.0
"""Seconds a nonce stays fresh; older ones get ``stale=true``."""


class VerifyResult(enum.Enum):
    """Outcome of checking an Authorization header."""

    OK = "ok"
    STALE = "stale"  # right password, expired nonce: challenge again with stale=true
    BAD = "bad"  # wrong credentials, forged nonce or malformed header


@dataclass(frozen=True)
class DigestChallenge:
    """A WWW-Authenticate / Proxy-Authenticate Digest challenge."""

    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: str | None = "auth"
    opaque: str | None = None
    stale: bool = False

    def __str__(self) -> str:
        parts = [f"realm={quote_string(self.realm)}", f"nonce={quote_string(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={quote_string(self.opaque)}")
        parts.append(f"algorithm={self.algorithm}")
        if self.qop is not None:
            parts.append(f"qop={quote_string(self.qop)}")
        if self.stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)


def parse_auth_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``Digest a="x", b=y`` into the scheme and lower-cased parameter names."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    index = 0
    while index < len(rest):
        if rest[index] in " ,\t":
            index += 1
            continue
        equals = rest.find("=", index)
        if equals < 0:
            raise SipParseError(f"bad authentication parameter in {value!r}")
        name = rest[index:equals].strip().lower()
        index = equals + 1
        while index < len(rest) and rest[index] in " \t":
            index += 1
        if index < len(rest) and rest[index] == '"':
            params[name], index = read_quoted_string(rest, index)
        else:
            end = rest.find(",", index)
            end = len(rest) if end < 0 else end
            params[name] = rest[index:end].strip()
            index = end
    return scheme, params


def _hash(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8", "surrogateescape")).hexdigest()


def compute_ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """``H(username:realm:password)``, what a user store may keep instead of passwords."""
    return _hash(algorithm, f"{username}:{realm}:{password}")


def _response(params: dict[str, str], ha1: str, method: str, algorithm: str) -> str:
    ha2 = _hash(algorithm, f"{method}:{params.get('uri', '')}")
    if params.get("qop"):
        return _hash(
            algorithm,
            f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}",
        )
    return _hash(algorithm, f"{ha1}:{params['nonce']}:{ha2}")


def _sign(secret: bytes, timestamp: str, realm: str) -> str:
    return hmac.new(secret, f"{timestamp}:{realm}".encode(), hashlib.sha256).hexdigest()[:32]


def make_challenge(
    realm: str, now: float, secret: bytes, algorithm: str = "MD5", stale: bool = False
) -> DigestChallenge:
    """A fresh challenge whose nonce carries ``now`` signed with ``secret``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    timestamp = f"{int(now):x}"
    return DigestChallenge(realm, f"{timestamp}.{_sign(secret, timestamp, realm)}", algorithm,
                           stale=stale)  # fmt: skip


def _nonce_age(nonce: str, realm: str, secret: bytes, now: float) -> float | None:
    timestamp, _, signature = nonce.partition(".")
    if not hmac.compare_digest(signature, _sign(secret, timestamp, realm)):
        return None
    try:
        return now - int(timestamp, 16)
    except ValueError:
        return None


def verify(
    authorization: str,
    method: str,
    now: float,
    secret: bytes,
    realm: str,
    *,
    password: str | None = None,
    ha1: str | None = None,
    max_age: float = NONCE_LIFETIME,
) -> VerifyResult:
    """Check an Authorization header against a password (or its HA1).

    The caller finds the user by :func:`authorization_username` first and should
    compare the ``uri`` parameter with the Request-URI. Nonce-count replay is not
    tracked (that would need state); the nonce lifetime bounds replays.
    """
    try:
        scheme, params = parse_auth_header(authorization)
    except SipParseError:
        return VerifyResult.BAD
    algorithm = params.get("algorithm", "MD5").upper()
    needed = ("username", "realm", "nonce", "uri", "response")
    if (
        scheme.lower() != "digest"
        or algorithm not in ALGORITHMS
        or any(n not in params for n in needed)
    ):
        return VerifyResult.BAD
    if params["realm"] != realm or (params.get("qop") and not _has_qop_fields(params)):
        return VerifyResult.BAD
    age = _nonce_age(params["nonce"], realm, secret, now)
    if age is None or age < 0:
        return VerifyResult.BAD
    if ha1 is None:
        if password is None:
            raise ValueError("verify() needs a password or an HA1")
        ha1 = compute_ha1(params["username"], realm, password, algorithm)
    expected = _response(params, ha1, method, algorithm)
    if not hmac.compare_digest(expected, params["response"].lower()):
        return VerifyResult.BAD
    return VerifyResult.STALE if age > max_age else VerifyResult.OK


def _has_qop_fields(params: dict[str, str]) -> bool:
    return params["qop"] == "auth" and "nc" in params and "cnonce" in params


def authorization_username(authorization: str) -> str | None:
    """The ``username`` of a Digest Authorization header, or ``None``."""
    try:
        scheme, params = parse_auth_header(authorization)
    except SipParseError:
        return None
    return params.get("username") if scheme.lower() == "digest" else None


def answer_challenge(
    challenge: str,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The Authorization header value answering a WWW-Authenticate challenge (UAC side)."""
    scheme, params = parse_auth_header(challenge)
    algorithm = params.get("algorithm", "MD5").upper()
    if scheme.lower() != "digest" or algorithm not in ALGORITHMS or "nonce" not in params:
        raise SipParseError(f"unsupported challenge {challenge!r}")
    realm = params.get("realm", "")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    answer = {"username": username, "realm": realm, "nonce": params["nonce"], "uri": uri}
    if "auth" in qops:
        answer.update(qop="auth", nc=f"{nc:08x}", cnonce=cnonce)
    response = _response(answer, compute_ha1(username, realm, password, algorithm), method,
                         algorithm)  # fmt: skip
    fields = [f"{name}={quote_string(answer[name])}" for name in ("username", "realm", "nonce",
                                                                 "uri")]  # fmt: skip
    fields.append(f"response={quote_string(response)}")
    fields.append(f"algorithm={algorithm}")
    if "auth" in qops:
        fields += [f"cnonce={quote_string(cnonce)}", "qop=auth", f"nc={nc:08x}"]
    if "opaque" in params:
        fields.append(f"opaque={quote_string(params['opaque'])}")
    return "Digest " + ", ".join(fields)
