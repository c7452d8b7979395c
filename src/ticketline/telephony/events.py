"""What a leg announces to its listeners (see :mod:`ticketline.telephony.calls`).

Listeners are plain callables taking one event; they run on the event loop and
must not block (start a task for slow work). Each event names the leg it is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticketline.sip.sdp import SessionDescription

if TYPE_CHECKING:
    from ticketline.telephony.calls import Leg


@dataclass(frozen=True)
class LegRinging:
    """The far end of an outbound leg is ringing (180/181/182 without SDP)."""

    leg: Leg


@dataclass(frozen=True)
class LegEarlyMedia:
    """The far end of an outbound leg sent early media (183 or 18x with SDP)."""

    leg: Leg
    sdp: SessionDescription


@dataclass(frozen=True)
class LegAnswered:
    """The leg is answered: ``sdp`` is the remote session (None if it sent none)."""

    leg: Leg
    sdp: SessionDescription | None


@dataclass(frozen=True)
class LegSdpChanged:
    """The remote session changed (a re-INVITE, UPDATE, or the answer in an ACK)."""

    leg: Leg
    sdp: SessionDescription


@dataclass(frozen=True)
class LegDtmf:
    """A digit arrived by SIP INFO (application/dtmf-relay or application/dtmf)."""

    leg: Leg
    digit: str
    duration_ms: int


@dataclass(frozen=True)
class LegEnded:
    """The leg is over. ``by`` is ``remote`` or ``local``; ``status`` the SIP code if any.

    ``cause`` is one of: normal_clearing, busy, no_answer, cancelled, rejected,
    unreachable, failed, no_ack, session_expired, transferred.
    """

    leg: Leg
    cause: str
    by: str
    status: int | None = None


LegEvent = LegRinging | LegEarlyMedia | LegAnswered | LegSdpChanged | LegDtmf | LegEnded
