"""The default call policy: a back-to-back user agent that passes SDP through.

An inbound call goes to the extension in its Request-URI; a call from an
authenticated extension to a number that is not an extension leaves through a
trunk with the trunk's caller ID (calls from trunks never leave through a trunk:
no toll fraud by hairpinning). Ringing, early media, answer, hold/resume
re-INVITEs, INFO DTMF and hang-ups are relayed between the two legs; a REFER
from either party is carried out as a blind transfer. Media flows end to end
between the phones, since each side is given the other's SDP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ticketline.sip.sdp import SessionDescription
from ticketline.sip.uri import SipUri, TelUri, Uri
from ticketline.telephony.calls import Leg, LegFailed, mirror_answer
from ticketline.telephony.events import (
    LegAnswered,
    LegDtmf,
    LegEarlyMedia,
    LegEnded,
    LegEvent,
    LegRinging,
)
from ticketline.telephony.server import IncomingCall, SipServer

log = logging.getLogger(__name__)


class B2bua:
    """The ``IncomingCallHandler`` installed when the application sets none."""

    def __init__(self, server: SipServer) -> None:
        self.server = server
        self.bridges: set[Bridge] = set()

    async def __call__(self, incoming: IncomingCall) -> None:
        leg = incoming.leg
        target = incoming.did
        is_extension = await self.server.auth.lookup(target) is not None
        if not is_extension and incoming.extension is None:
            await leg.reject(404)
            return
        try:
            outbound = await self.server.dial(
                target,
                leg.remote_sdp,
                incoming.caller if is_extension else None,
                call=incoming.call,
                role="callee",
                max_forwards=max(incoming.max_forwards - 1, 0),
            )
        except LegFailed as failure:
            if not leg.ended:
                await leg.reject(failure.status if failure.status >= 300 else 480)
            return
        self.connect(leg, outbound)

    def connect(self, inbound: Leg, outbound: Leg) -> Bridge:
        """Relay everything between ``inbound`` (the caller) and ``outbound``."""
        bridge = Bridge(self, inbound, outbound)
        self.bridges.add(bridge)
        bridge.attach()
        return bridge


@dataclass(eq=False)
class Bridge:
    """Two legs relaying signalling to each other."""

    owner: B2bua
    a: Leg
    b: Leg
    detached: bool = field(default=False)
    transferring: Leg | None = field(default=None)

    def attach(self) -> None:
        for leg in (self.a, self.b):
            leg.add_listener(self._on_event)
            leg.on_reinvite = self._relay_reinvite
            leg.on_refer = self._transfer
        if self.a.ended:
            self._on_event(LegEnded(self.a, self.a.end_cause or "", self.a.ended_by or ""))

    def detach(self) -> None:
        self.detached = True
        for leg in (self.a, self.b):
            leg.remove_listener(self._on_event)
            leg.on_reinvite = None
            leg.on_refer = None
        self.owner.bridges.discard(self)

    def other(self, leg: Leg) -> Leg:
        return self.b if leg is self.a else self.a

    def _on_event(self, event: LegEvent) -> None:
        leg = event.leg
        other = self.other(leg)
        match event:
            case LegRinging() if leg is self.b and not self.a.answered:
                leg._spawn(_quietly(self.a.ring()))
            case LegEarlyMedia(sdp=sdp) if leg is self.b and not self.a.answered:
                leg._spawn(_quietly(self.a.progress(sdp)))
            case LegAnswered(sdp=sdp) if leg is self.b:
                leg._spawn(self._answer_caller(sdp))
            case LegDtmf(digit=digit, duration_ms=duration) if other.answered:
                leg._spawn(_quietly(other.send_info_dtmf(digit, duration)))
            case LegEnded() if leg is self.transferring:
                leg.remove_listener(self._on_event)  # the transfer goes on without it
            case LegEnded(status=status):
                self.detach()
                leg._spawn(_end_other(other, status if leg is self.b else None))

    async def _answer_caller(self, sdp: SessionDescription | None) -> None:
        if self.a.ended:
            await self.b.hangup()
            return
        try:
            await self.a.answer(sdp)
        except LegFailed:
            await self.b.hangup()

    async def _relay_reinvite(
        self, leg: Leg, offer: SessionDescription | None
    ) -> SessionDescription | None:
        other = self.other(leg)
        if offer is None:
            return mirror_answer(leg.local_sdp, None)
        try:
            return await other.reinvite(offer)
        except LegFailed as failure:
            log.info("re-INVITE relay refused: %s", failure)
            return None

    async def _transfer(self, referrer: Leg, target: Uri) -> None:
        """Blind transfer: the party ``referrer`` talks to is connected to ``target``."""
        remaining = self.other(referrer)
        number = _number_of(target)
        if not number:
            await referrer.notify_refer(400)
            return
        await referrer.notify_refer(100)
        self.transferring = referrer
        server = self.owner.server
        try:
            new_leg = await server.dial(number, remaining.remote_sdp, _party(remaining),
                                        call=remaining.call, role="transfer")  # fmt: skip
            await new_leg.wait_answered()
        except LegFailed as failure:
            self.transferring = None
            await referrer.notify_refer(failure.status if failure.status >= 300 else 503)
            if referrer.ended:
                self.detach()
                await remaining.hangup()
            return
        self.detach()
        if remaining.ended:
            await new_leg.hangup()
            return
        if new_leg.remote_sdp is not None:
            try:
                await remaining.reinvite(new_leg.remote_sdp)
            except LegFailed as failure:
                log.info("re-INVITE after transfer refused: %s", failure)
        self.owner.connect(remaining, new_leg)
        await referrer.notify_refer(200)
        await referrer.hangup("transferred")


def _number_of(uri: Uri) -> str:
    if isinstance(uri, SipUri):
        return uri.user or ""
    if isinstance(uri, TelUri):
        return uri.number
    return ""


def _party(leg: Leg) -> str:
    return _number_of(leg.remote_party.uri) or "anonymous"


async def _quietly(work: object) -> None:
    try:
        await work  # type: ignore[misc]
    except LegFailed as failure:
        log.debug("relay step skipped: %s", failure)


async def _end_other(leg: Leg, status: int | None) -> None:
    if leg.ended:
        return
    if leg.answered or leg.direction == "outbound":
        await leg.hangup()
    else:
        refused = status if status is not None and 300 <= status <= 699 else 480
        await leg.reject(refused)
