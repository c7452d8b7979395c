"""What a UAS should answer to a request that parsed but cannot be served (RFC 3261 §8.2).

:func:`check_request` is pure: it returns the refusal to send, or ``None`` when the
request may go on to the transaction user.
"""

from __future__ import annotations

from collections.abc import Collection

from ticketline.sip.errors import SipParseError
from ticketline.sip.message import SIP_VERSION, Request, Response, header_tokens, make_response
from ticketline.sip.uri import AbsoluteUri, SipUri, TelUri, Uri

KNOWN_METHODS = frozenset(
    {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO", "UPDATE", "REFER",
     "NOTIFY", "SUBSCRIBE", "MESSAGE", "PRACK", "PUBLISH"}
)  # fmt: skip
DEFAULT_SCHEMES = frozenset({"sip", "sips", "tel"})
DEFAULT_CONTENT_TYPES = ("application/sdp",)
_MANDATORY = ("To", "From", "Call-ID", "CSeq", "Via")
_SINGLE_VALUED = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Type", "Expires")
_NO_REQUIRE_CHECK = frozenset({"ACK", "CANCEL"})


def check_request(
    request: Request,
    supported_extensions: Collection[str] = (),
    supported_schemes: Collection[str] = DEFAULT_SCHEMES,
    allowed_methods: Collection[str] = KNOWN_METHODS,
    accepted_content_types: Collection[str] = DEFAULT_CONTENT_TYPES,
) -> Response | None:
    """The error response an endpoint should send for ``request``, or ``None``.

    Checks, in RFC 3261 §8.2 order: version (505), header presence and
    multiplicity (400), method (501/405), CSeq method (400), URI schemes
    (416 for the Request-URI, 400 for To/From), Require (420), Content-Type
    (415), Accept (406). Never raises: a header that fails its typed parse
    here gives 400.
    """
    checks = (
        _check_version,
        _check_header_presence,
        lambda r: _check_method(r, allowed_methods),
        _check_cseq_method,
        lambda r: _check_schemes(r, supported_schemes),
        lambda r: _check_require(r, supported_extensions),
        lambda r: _check_content_type(r, accepted_content_types),
        lambda r: _check_accept(r, accepted_content_types),
    )
    try:
        for check in checks:
            refusal = check(request)
            if refusal is not None:
                return refusal
    except SipParseError:
        # A header the parser only syntax-checked turned out malformed on closer reading.
        return make_response(request, 400)
    return None


def _check_version(request: Request) -> Response | None:
    return make_response(request, 505) if request.version != SIP_VERSION else None


def _check_header_presence(request: Request) -> Response | None:
    for name in _MANDATORY:
        if name not in request.headers:
            return make_response(request, 400, f"Missing {name} Header")
    for name in _SINGLE_VALUED:
        if request.headers.count(name) > 1:
            return make_response(request, 400, f"Multiple {name} Headers")
    return None


def _check_method(request: Request, allowed: Collection[str]) -> Response | None:
    if request.method in allowed:
        return None
    if request.method in KNOWN_METHODS:
        return make_response(request, 405, extra_headers=(("Allow", ", ".join(sorted(allowed))),))
    return make_response(request, 501)


def _check_cseq_method(request: Request) -> Response | None:
    if request.cseq[1] != request.method:
        return make_response(request, 400, "CSeq Method Does Not Match")
    return None


def _scheme(uri: Uri) -> str:
    if isinstance(uri, SipUri):
        return uri.scheme
    if isinstance(uri, TelUri):
        return "tel"
    assert isinstance(uri, AbsoluteUri)
    return uri.scheme.lower()


def _check_schemes(request: Request, schemes: Collection[str]) -> Response | None:
    if _scheme(request.uri) not in schemes:
        return make_response(request, 416)
    for address in (request.to, request.from_):
        if _scheme(address.uri) not in schemes:
            return make_response(request, 400, "Unsupported Address Scheme")
    return None


def _check_require(request: Request, supported: Collection[str]) -> Response | None:
    if request.method in _NO_REQUIRE_CHECK:
        return None
    known = {tag.lower() for tag in supported}
    unsupported = [tag for tag in request.require if tag.lower() not in known]
    if not unsupported:
        return None
    return make_response(request, 420, extra_headers=(("Unsupported", ", ".join(unsupported)),))


def _check_content_type(request: Request, accepted: Collection[str]) -> Response | None:
    if not request.body or request.content_type in accepted:
        return None
    return make_response(request, 415, extra_headers=(("Accept", ", ".join(accepted)),))


def _check_accept(request: Request, accepted: Collection[str]) -> Response | None:
    if request.method not in ("INVITE", "OPTIONS") or "Accept" not in request.headers:
        return None
    try:
        offered = {item.partition(";")[0].strip() for item in header_tokens(request, "Accept")}
    except SipParseError:
        return make_response(request, 400, "Bad Accept Header")
    wildcards = {"*/*"} | {media.split("/")[0] + "/*" for media in accepted}
    if offered & (set(accepted) | wildcards):
        return None
    return make_response(request, 406)
