"""Small builders and readers of SIP messages used by legs and the server."""

from __future__ import annotations

import re
from dataclasses import replace

from ticketline.sip import Headers, NameAddress, Request, Response
from ticketline.sip.sdp import Origin, SdpParseError, SessionDescription, parse_sdp
from ticketline.sip.uri import Uri
from ticketline.sip.via import Via

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, REFER, NOTIFY"
SUPPORTED = "replaces, timer"
USER_AGENT = "Ticketline"
MIN_SE = 90


def build_invite(
    uri: Uri,
    via: Via,
    from_: NameAddress,
    to: NameAddress,
    call_id: str,
    cseq: int,
    contact: Uri,
    body: bytes,
    max_forwards: int = 70,
    extra: tuple[tuple[str, str], ...] = (),
) -> Request:
    """An out-of-dialog INVITE carrying an SDP offer (or none)."""
    fields = [
        ("Via", str(via)),
        ("Max-Forwards", str(max_forwards)),
        ("From", str(from_)),
        ("To", str(to)),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} INVITE"),
        ("Contact", f"<{contact}>"),
        ("Allow", ALLOW),
        ("Supported", "replaces"),
        ("User-Agent", USER_AGENT),
        *extra,
    ]
    if body:
        fields.append(("Content-Type", "application/sdp"))
    fields.append(("Content-Length", str(len(body))))
    return Request("INVITE", uri, Headers.of(fields), body)


def build_cancel(invite: Request) -> Request:
    """The CANCEL of ``invite`` (§9.1): same Request-URI, top Via, Call-ID, From, To, CSeq."""
    fields = [
        ("Via", invite.headers.get_all("Via")[0]),
        ("Max-Forwards", "70"),
        ("From", invite.headers.get("From") or ""),
        ("To", invite.headers.get("To") or ""),
        ("Call-ID", invite.call_id),
        ("CSeq", f"{invite.cseq[0]} CANCEL"),
        *(("Route", value) for value in invite.headers.get_lines("Route")),
        ("Content-Length", "0"),
    ]
    return Request("CANCEL", invite.uri, Headers.of(fields))


def with_new_via_and_auth(
    request: Request, via: Via, cseq: int, header: str, credentials: str
) -> Request:
    """A copy of ``request`` with a fresh Via, the next CSeq and an (Proxy-)Authorization."""
    headers = request.headers.with_replaced("Via", str(via))
    headers = headers.with_replaced("CSeq", f"{cseq} {request.method}")
    headers = headers.without("Authorization").without("Proxy-Authorization")
    headers = headers.with_added(header, credentials, first=False)
    return Request(request.method, request.uri, headers, request.body)


def sdp_of(message: Request | Response) -> SessionDescription | None:
    """The SDP body of ``message`` (``None`` when there is none or it is malformed)."""
    if not message.body or message.content_type != "application/sdp":
        return None
    try:
        return parse_sdp(message.body)
    except SdpParseError:
        return None


def restamp(sdp: SessionDescription, session_id: str, version: int, address: str) -> bytes:
    """SDP bytes with our own origin line, so each leg sees one consistent session."""
    origin = Origin("ticketline", session_id, str(version), sdp.origin.address or address)
    return replace(sdp, origin=origin).serialize()


def same_session(a: SessionDescription | None, b: SessionDescription) -> bool:
    """True if ``a`` and ``b`` describe the same session except for their origin."""
    return a is not None and replace(a, origin=b.origin) == b


_SIGNAL_RE = re.compile(r"^\s*Signal\s*=\s*([0-9A-Da-d*#]|1[0-6])\s*$", re.MULTILINE)
_DURATION_RE = re.compile(r"^\s*Duration\s*=\s*(\d{1,5})\s*$", re.MULTILINE)
_EVENT_DIGITS = "0123456789*#ABCD"


def dtmf_of_info(request: Request) -> tuple[str, int] | None:
    """The digit and duration of an INFO carrying application/dtmf-relay or dtmf."""
    text = request.body.decode("utf-8", "replace")
    if request.content_type == "application/dtmf":
        digit = text.strip()
        return (digit.upper(), 160) if len(digit) == 1 and digit in "0123456789*#ABCDabcd" else None
    if request.content_type != "application/dtmf-relay":
        return None
    signal = _SIGNAL_RE.search(text)
    if signal is None:
        return None
    digit = signal.group(1).upper()
    if digit.isdigit() and len(digit) == 2:
        digit = _EVENT_DIGITS[int(digit)]
    duration = _DURATION_RE.search(text)
    return digit, int(duration.group(1)) if duration else 160


def cause_for_status(status: int) -> str:
    """The CDR end cause of a leg refused with ``status``."""
    if status in (486, 600):
        return "busy"
    if status in (408, 480):
        return "no_answer"
    if status == 487:
        return "cancelled"
    if status in (404, 484, 604):
        return "unreachable"
    if status >= 500:
        return "failed"
    return "rejected"


def session_expires(request: Request) -> tuple[int, str | None] | None:
    """Session-Expires (RFC 4028) as ``(seconds, refresher)``; ``None`` when absent/bad."""
    value = request.headers.get("Session-Expires")
    if value is None:
        return None
    number, _, params = value.partition(";")
    if not number.strip().isdigit():
        return None
    refresher = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "refresher":
            refresher = val.strip().lower()
    return int(number.strip()), refresher
