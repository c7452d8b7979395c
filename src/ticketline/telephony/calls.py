"""Calls and legs: the seam between SIP signalling and whatever drives a call.

A :class:`Leg` is one SIP dialog side, inbound (someone called us) or outbound
(we called someone). Whoever drives calls — the default B2BUA policy, the media
engine's call-control API, the IVR — uses only this surface:

* state: :attr:`Leg.state` is ``ringing`` → (``early``) → ``answered`` → ``ended``;
  :attr:`Leg.remote_sdp` is the peer's current session description (a
  :class:`ticketline.sip.sdp.SessionDescription`), :attr:`Leg.local_sdp` ours.
* actions (async): ``ring()`` (180), ``progress(sdp)`` (183 with early media),
  ``answer(sdp)`` (200, returns once the ACK came), ``reject(status, reason)``,
  ``hangup(cause)`` (BYE when answered, CANCEL or a final refusal before),
  ``reinvite(sdp)`` (hold with sendonly/inactive, resume with sendrecv; returns
  the remote answer), ``send_info_dtmf(digit)``, ``notify_refer(status)``, and
  for outbound legs ``wait_answered()`` (raises :class:`LegFailed`).
* events: ``leg.add_listener(fn)``; ``fn`` gets the dataclasses of
  :mod:`ticketline.telephony.events` — remote ringing/early media/answer, a new
  remote SDP (re-INVITE, UPDATE, ACK answer), INFO DTMF, and the end (who, why).
* hooks: ``leg.on_reinvite = async fn(leg, offer) -> answer | None`` decides the
  answer to a remote re-INVITE (``None`` → 488; the default mirrors the offer's
  direction onto :attr:`local_sdp`); ``leg.on_refer = async fn(leg, target)``
  carries out a REFER (already answered 202; report with ``notify_refer``).

Outbound legs come from ``await SipServer.dial(target, local_sdp, caller_id)``;
inbound legs reach the application's ``IncomingCallHandler`` (see server.py).
Each leg belongs to a :class:`Call`, which writes the call detail records.
SDP that a leg sends is re-stamped with the leg's own ``o=`` line, so SDP relayed
from another leg can be passed as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ticketline.core.ids import new_id
from ticketline.sip import NameAddress, Request, Response, make_response
from ticketline.sip.dialog import Dialog, DialogError, DialogState
from ticketline.sip.digest import answer_challenge
from ticketline.sip.offer_answer import MIRRORED_DIRECTION
from ticketline.sip.sdp import SessionDescription
from ticketline.sip.transaction import Timers
from ticketline.sip.uri import Uri, parse_uri
from ticketline.sip.via import Via
from ticketline.telephony import cdr
from ticketline.telephony.events import (
    LegAnswered,
    LegDtmf,
    LegEarlyMedia,
    LegEnded,
    LegEvent,
    LegRinging,
    LegSdpChanged,
)
from ticketline.telephony.messages import (
    ALLOW,
    build_cancel,
    cause_for_status,
    dtmf_of_info,
    restamp,
    same_session,
    sdp_of,
    session_expires,
    with_new_via_and_auth,
)
from ticketline.telephony.timers import TimerSet
from ticketline.telephony.transactions import (
    ClientTransaction,
    ServerTransaction,
    TransactionLayer,
    new_tag,
)
from ticketline.telephony.transport import Peer

log = logging.getLogger(__name__)


class LegState(enum.Enum):
    """Where a leg is; it only moves forward."""

    RINGING = "ringing"
    EARLY = "early"
    ANSWERED = "answered"
    ENDED = "ended"


class LegFailed(Exception):
    """A leg could not do what was asked: the status and reason say why."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(f"{status} {reason}".strip())
        self.status = status
        self.reason = reason


Listener = Callable[[LegEvent], None]
ReinviteHandler = Callable[["Leg", SessionDescription | None], Awaitable[SessionDescription | None]]
ReferHandler = Callable[["Leg", Uri], Awaitable[None]]


class CdrSink(Protocol):
    """Where call detail updates go (the :class:`CdrRecorder`)."""

    def record(self, update_: cdr.CdrUpdate) -> None: ...


class LegHost(Protocol):
    """What a leg needs from the SIP server."""

    timers: Timers

    @property
    def layer(self) -> TransactionLayer:
        """The transaction layer."""

    def via(self, peer: Peer) -> Via:
        """A fresh Via (new branch) for a request to ``peer``."""

    def contact(self, peer: Peer) -> Uri:
        """Our Contact URI as seen from ``peer``."""

    def now(self) -> datetime:
        """The current time."""

    def leg_started(self, leg: Leg) -> None:
        """A leg was created."""

    def dialog_started(self, leg: Leg) -> None:
        """Route in-dialog requests for ``leg`` to it from now on."""

    def leg_ended(self, leg: Leg) -> None:
        """Forget ``leg``."""


class Call:
    """One call as the customer lives it: its legs and its call detail record."""

    def __init__(
        self,
        sink: CdrSink | None,
        now: Callable[[], datetime],
        *,
        direction: str,
        caller: str,
        callee: str,
        sip_call_id: str,
        trunk: str | None = None,
        extension: str | None = None,
    ) -> None:
        self.id = new_id()
        self.sink = sink
        self.now = now
        self.direction = direction
        self.caller = caller
        self.callee = callee
        self.legs: list[Leg] = []
        self.answered = False
        self.closed = False
        self._first_end: tuple[str, str] | None = None
        self._record(cdr.CallOpened(self.id, sip_call_id, direction, caller, callee, now(),
                                    trunk, extension))  # fmt: skip

    def _record(self, item: cdr.CdrUpdate) -> None:
        if self.sink is not None:
            self.sink.record(item)

    def add_leg(self, leg: Leg, role: str) -> None:
        """Count ``leg`` in this call (role: caller, callee, agent, transfer ...)."""
        leg.role = role
        self.legs.append(leg)
        peer = str(leg.remote_party.uri)
        self._record(cdr.LegOpened(leg.id, self.id, role, leg.direction, peer[:255],
                                   leg.sip_call_id, self.now()))  # fmt: skip

    def leg_answered(self, leg: Leg) -> None:
        self._record(cdr.Answered(self.id, self.now(), leg.id))
        if not self.answered and (leg.role == "caller" or self.direction == "outbound"):
            self.answered = True
            self._record(cdr.Answered(self.id, self.now()))

    def leg_ended(self, leg: Leg, cause: str, by: str) -> None:
        at = self.now()
        self._record(cdr.Closed(self.id, at, cause, _hangup_by(leg, by), leg.id))
        if self._first_end is None:
            self._first_end = (cause, _hangup_by(leg, by))
        if not self.closed and all(other.state is LegState.ENDED for other in self.legs):
            self.closed = True
            first_cause, first_by = self._first_end
            self._record(cdr.Closed(self.id, at, first_cause, first_by))


def _hangup_by(leg: Leg, by: str) -> str:
    if by != "remote":
        return "system"
    return "caller" if leg.role == "caller" else "callee"


class Leg:
    """One side of a call as a SIP dialog (see the module docstring for the contract)."""

    def __init__(self, host: LegHost, call: Call, direction: str, peer: Peer) -> None:
        self.host = host
        self.call = call
        self.id = new_id()
        self.direction = direction
        self.peer = peer
        self.role = ""
        self.state = LegState.RINGING
        self.dialog: Dialog | None = None
        self.remote_sdp: SessionDescription | None = None
        self.local_sdp: SessionDescription | None = None
        self.local_tag = new_tag()
        self.sip_call_id = ""
        self.remote_party = NameAddress(parse_uri("sip:anonymous@invalid"))
        self.local_party = NameAddress(parse_uri("sip:ticketline@invalid"))
        self.end_cause: str | None = None
        self.ended_by: str | None = None
        self.on_reinvite: ReinviteHandler | None = None
        self.on_refer: ReferHandler | None = None
        self.extras: dict[str, object] = {}
        self._listeners: list[Listener] = []
        self._ended = asyncio.Event()
        self._answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._timers = TimerSet()
        self._sdp_version = 0
        self._sent_sdp: SessionDescription | None = None
        self._session_id = str(abs(hash(self.id)) % 10**10)
        self._tasks: set[asyncio.Task[None]] = set()
        # inbound
        self._invite_tx: ServerTransaction | None = None
        self._pending_ok: tuple[int, Response] | None = None
        self._ack_waiter: asyncio.Future[None] | None = None
        self._session_expires: int | None = None
        # outbound
        self._invite: Request | None = None
        self._invite_client: ClientTransaction | None = None
        self._provisional_seen = False
        self._cancel_wanted = False
        self._acks: dict[int, Request] = {}
        self._reinvite_out = False
        self._reinvite_in = False
        host.leg_started(self)

    # -- events -----------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` for every event of this leg from now on."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _emit(self, event: LegEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("leg listener failed on %s", type(event).__name__)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except LegFailed as error:
                log.info("leg %s: %s", self.id, error)
            except Exception:
                log.exception("leg %s task failed", self.id)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def answered(self) -> bool:
        """True once answered (and not yet ended)."""
        return self.state is LegState.ANSWERED

    @property
    def ended(self) -> bool:
        """True once the leg is over."""
        return self.state is LegState.ENDED

    async def wait_ended(self) -> None:
        """Return once the leg has ended."""
        await self._ended.wait()

    async def wait_answered(self) -> None:
        """Return once answered; raise :class:`LegFailed` if it ended first."""
        await asyncio.shield(self._answered)

    def _end(self, cause: str, by: str, status: int | None = None) -> None:
        if self.state is LegState.ENDED:
            return
        self.state = LegState.ENDED
        self.end_cause = cause
        self.ended_by = by
        self._timers.cancel_all()
        if not self._answered.done():
            self._answered.set_exception(LegFailed(status or 487, cause))
            self._answered.exception()  # retrieved: nobody may be waiting
        if self._ack_waiter is not None and not self._ack_waiter.done():
            self._ack_waiter.set_exception(LegFailed(status or 408, cause))
            self._ack_waiter.exception()
        self._ended.set()
        self.host.leg_ended(self)
        self.call.leg_ended(self, cause, by)
        self._emit(LegEnded(self, cause, by, status))

    def _mark_answered(self) -> None:
        self.state = LegState.ANSWERED
        if not self._answered.done():
            self._answered.set_result(None)
        self.call.leg_answered(self)
        self._emit(LegAnswered(self, self.remote_sdp))

    def _body(self, sdp: SessionDescription | None) -> bytes:
        """``sdp`` as bytes under this leg's origin; the version grows when it changes."""
        if sdp is None:
            return b""
        if not same_session(self._sent_sdp, sdp):
            self._sdp_version += 1
            self._sent_sdp = sdp
        self.local_sdp = sdp
        return restamp(sdp, self._session_id, self._sdp_version, self.peer.host)

    # -- inbound: answering the INVITE ---------------------------------------------------

    @classmethod
    def inbound(cls, host: LegHost, call: Call, transaction: ServerTransaction) -> Leg:
        """The leg of a received INVITE (not yet answered beyond 100 Trying)."""
        invite = transaction.request
        leg = cls(host, call, "inbound", transaction.peer)
        leg._invite_tx = transaction
        leg.sip_call_id = invite.call_id
        leg.remote_party = invite.from_
        leg.local_party = invite.to.with_tag(leg.local_tag)
        leg.remote_sdp = sdp_of(invite)
        expires = session_expires(invite)
        # Only a caller that supports timers can refresh; we do not refresh for it.
        if expires is not None and "timer" in [tag.lower() for tag in invite.supported]:
            leg._session_expires = max(expires[0], 90)
        return leg

    @property
    def invite(self) -> Request:
        """The INVITE that created this leg (received or sent)."""
        if self._invite_tx is not None:
            return self._invite_tx.request
        assert self._invite is not None
        return self._invite

    def _contact_header(self) -> tuple[str, str]:
        return ("Contact", f"<{self.host.contact(self.peer)}>")

    def _require_unanswered_inbound(self) -> ServerTransaction:
        if self._invite_tx is None:
            raise LegFailed(400, "not an inbound leg")
        if self.state not in (LegState.RINGING, LegState.EARLY):
            raise LegFailed(481, f"leg is {self.state.value}")
        return self._invite_tx

    def _ensure_uas_dialog(self, confirmed: bool) -> None:
        if self.dialog is None:
            self.dialog = Dialog.from_uas_request(
                self.invite, self.local_tag, self.host.contact(self.peer), confirmed
            )
            self.host.dialog_started(self)

    async def ring(self) -> None:
        """Send 180 Ringing."""
        self._provisional(180, None)

    async def progress(self, sdp: SessionDescription | None) -> None:
        """Send 183 Session Progress, with early media when ``sdp`` is given."""
        self._provisional(183, sdp)
        if sdp is not None:
            self.state = LegState.EARLY

    def _provisional(self, status: int, sdp: SessionDescription | None) -> None:
        tx = self._require_unanswered_inbound()
        body = self._body(sdp)
        extra = [self._contact_header()]
        if body:
            extra.append(("Content-Type", "application/sdp"))
        self._ensure_uas_dialog(confirmed=False)
        tx.respond(make_response(tx.request, status, to_tag=self.local_tag,
                                 extra_headers=tuple(extra), body=body))  # fmt: skip

    async def answer(self, sdp: SessionDescription | None) -> None:
        """Send 200 OK with ``sdp``; return once the ACK arrived (LegFailed if it never does)."""
        tx = self._require_unanswered_inbound()
        body = self._body(sdp)
        extra = [self._contact_header(), ("Allow", ALLOW), ("Supported", "timer")]
        extra += self._session_timer_headers(tx.request)
        if body:
            extra.append(("Content-Type", "application/sdp"))
        ok = make_response(tx.request, 200, to_tag=self.local_tag, extra_headers=tuple(extra),
                           body=body)  # fmt: skip
        self._ensure_uas_dialog(confirmed=True)
        assert self.dialog is not None
        self.dialog = replace(self.dialog, state=DialogState.CONFIRMED)
        tx.respond(ok)
        self._mark_answered()
        self._start_session_timer()
        await self._await_ack(tx.request.cseq[0], ok)

    def _session_timer_headers(self, request: Request) -> list[tuple[str, str]]:
        if self._session_expires is None:
            return []
        return [("Session-Expires", f"{self._session_expires};refresher=uac"), ("Require", "timer")]

    def _start_session_timer(self) -> None:
        if self._session_expires is None:
            return
        seconds = self._session_expires - min(32, self._session_expires / 3)
        self._timers.start("session", seconds, lambda _: self._session_expired())

    def _session_expired(self) -> None:
        self._spawn(self.hangup("session_expired"))

    async def _await_ack(self, cseq: int, ok: Response) -> None:
        """Retransmit the 2xx until its ACK comes (§13.3.1.4), at most 64·T1."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ack_waiter = waiter
        self._pending_ok = (cseq, ok)
        if not self.peer.reliable:
            self._retransmit_ok(self.host.timers.t1)
        self._timers.start("2xx-timeout", 64 * self.host.timers.t1, lambda _: self._no_ack())
        await waiter

    def _retransmit_ok(self, interval: float) -> None:
        def fire(_: str) -> None:
            if self._pending_ok is None or self.ended:
                return
            self.host.layer.send_stateless(self._pending_ok[1], self.peer)
            self._retransmit_ok(min(2 * interval, self.host.timers.t2))

        self._timers.start("2xx", interval, fire)

    def _no_ack(self) -> None:
        if self._pending_ok is None:
            return
        self._pending_ok = None
        self._spawn(self._bye_and_end("no_ack"))

    def on_ack(self, ack: Request) -> None:
        """The ACK of a 2xx we sent on this leg arrived."""
        if self._pending_ok is None or ack.cseq[0] != self._pending_ok[0]:
            return
        self._pending_ok = None
        self._timers.cancel("2xx")
        self._timers.cancel("2xx-timeout")
        offered_by_us = self.remote_sdp is None or self._reinvite_in
        answer = sdp_of(ack)
        if answer is not None and offered_by_us:
            self.remote_sdp = answer
            self._emit(LegSdpChanged(self, answer))
        if self._ack_waiter is not None and not self._ack_waiter.done():
            self._ack_waiter.set_result(None)

    def resend_final(self) -> None:
        """A retransmitted INVITE arrived after our 2xx: send the 2xx again."""
        if self._pending_ok is not None:
            self.host.layer.send_stateless(self._pending_ok[1], self.peer)

    async def reject(self, status: int = 486, reason: str | None = None) -> None:
        """Refuse an unanswered inbound leg with ``status`` (3xx–6xx)."""
        if not 300 <= status <= 699:
            raise ValueError(f"status {status} cannot reject a call (300-699)")
        tx = self._require_unanswered_inbound()
        tx.respond(make_response(tx.request, status, reason, to_tag=self.local_tag))
        self._end(cause_for_status(status), "local", status)

    def on_cancel(self) -> None:
        """The caller cancelled: 487 to the INVITE, the leg ends (remote)."""
        if self._invite_tx is None or self.state not in (LegState.RINGING, LegState.EARLY):
            return
        tx = self._invite_tx
        tx.respond(make_response(tx.request, 487, to_tag=self.local_tag))
        self._end("cancelled", "remote", 487)

    # -- outbound: sending the INVITE ----------------------------------------------------

    @classmethod
    def outbound(
        cls,
        host: LegHost,
        call: Call,
        peer: Peer,
        invite: Request,
        sdp: SessionDescription | None,
        credentials: tuple[str, str] | None = None,
    ) -> Leg:
        """Send ``invite`` (its body is replaced by ``sdp``) and return the ringing leg."""
        leg = cls(host, call, "outbound", peer)
        body = leg._body(sdp)
        headers = invite.headers.with_replaced("Content-Length", str(len(body)))
        if body:
            headers = headers.with_replaced("Content-Type", "application/sdp")
        from_ = invite.from_.with_tag(leg.local_tag)
        headers = headers.with_replaced("From", str(from_))
        leg._invite = Request("INVITE", invite.uri, headers, body)
        leg.sip_call_id = invite.call_id
        leg.local_party = from_
        leg.remote_party = invite.to
        leg._spawn(leg._run_invite(credentials))
        return leg

    async def _run_invite(self, credentials: tuple[str, str] | None) -> None:
        assert self._invite is not None
        tried_auth = False
        while True:
            client = self.host.layer.request(self._invite, self.peer)
            self._invite_client = client
            client.on_provisional = self._on_provisional
            response = await client.final
            if response.status in (401, 407) and credentials and not tried_auth and not self.ended:
                tried_auth = True
                self._invite = self._with_auth(self._invite, response, credentials)
                self._provisional_seen = False
                continue
            break
        if response.is_success:
            self._on_2xx(response)
        elif not self.ended:
            self._end(cause_for_status(response.status), "remote", response.status)

    def _with_auth(
        self, request: Request, challenge: Response, credentials: tuple[str, str]
    ) -> Request:
        header = "WWW-Authenticate" if challenge.status == 401 else "Proxy-Authenticate"
        reply = "Authorization" if challenge.status == 401 else "Proxy-Authorization"
        answer = answer_challenge(challenge.headers.get(header) or "", request.method,
                                  str(request.uri), *credentials, cnonce=new_tag())  # fmt: skip
        return with_new_via_and_auth(request, self.host.via(self.peer), request.cseq[0] + 1,
                                     reply, answer)  # fmt: skip

    def _on_provisional(self, response: Response) -> None:
        if self.ended:
            return
        self._provisional_seen = True
        if self._cancel_wanted:
            self._send_cancel()
            return
        if response.status == 100:
            return
        if response.to.tag and self.dialog is None:
            with contextlib.suppress(DialogError):
                self.dialog = Dialog.from_uac_response(
                    self.invite, response, self.host.contact(self.peer)
                )
        sdp = sdp_of(response)
        if sdp is not None:
            self.remote_sdp = sdp
            self.state = LegState.EARLY
            self._emit(LegEarlyMedia(self, sdp))
        else:
            self._emit(LegRinging(self))

    def _on_2xx(self, response: Response) -> None:
        ack_dialog = self._confirm_dialog(response)
        ack = ack_dialog.create_ack(self.invite.cseq[0], self.host.via(self.peer))
        self._acks[self.invite.cseq[0]] = ack
        self.host.layer.send_stateless(ack, self.peer)
        if self.ended or self._cancel_wanted:
            self.dialog = ack_dialog
            self.host.dialog_started(self)
            self._spawn(self._send_bye())
            return
        self.dialog = ack_dialog
        self.host.dialog_started(self)
        answer = sdp_of(response)
        if answer is not None:
            self.remote_sdp = answer
        self._mark_answered()

    def _confirm_dialog(self, response: Response) -> Dialog:
        contact = self.host.contact(self.peer)
        if self.dialog is not None and self.dialog.id.remote_tag == response.to.tag:
            return self.dialog.on_response(response)
        return Dialog.from_uac_response(self.invite, response, contact)

    def on_2xx_retransmission(self, response: Response) -> None:
        """A 2xx arrived outside its transaction: ACK it again (§13.2.2.4)."""
        ack = self._acks.get(response.cseq[0])
        if ack is not None and response.cseq[1] == "INVITE":
            self.host.layer.send_stateless(ack, self.peer)

    def _send_cancel(self) -> None:
        if self._invite_client is None:
            return
        cancel = build_cancel(self._invite_client.request)
        self.host.layer.request(cancel, self.peer)

    # -- ending -------------------------------------------------------------------------

    async def hangup(self, cause: str = "normal_clearing", status: int = 480) -> None:
        """End the leg however its state requires (BYE, CANCEL or a final refusal)."""
        if self.ended:
            return
        if self.state is LegState.ANSWERED:
            await self._bye_and_end(cause)
        elif self.direction == "inbound":
            await self.reject(status)
            self.end_cause = cause
        else:
            self._cancel_wanted = True
            if self._provisional_seen:
                self._send_cancel()
            self._end(cause if cause != "normal_clearing" else "cancelled", "local", 487)

    async def _bye_and_end(self, cause: str) -> None:
        self._end(cause, "local")
        await self._send_bye()

    async def _send_bye(self) -> None:
        if self.dialog is None or self.dialog.state is DialogState.TERMINATED:
            return
        request = self._in_dialog("BYE")
        self.dialog = self.dialog.on_bye()
        await self.host.layer.request(request, self.peer).final

    def _in_dialog(
        self,
        method: str,
        body: bytes = b"",
        content_type: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Request:
        assert self.dialog is not None
        self.dialog, request = self.dialog.create_request(
            method, self.host.via(self.peer), body, content_type
        )
        headers = request.headers
        for name, value in extra:
            headers = headers.with_added(name, value)
        return replace(request, headers=headers) if extra else request

    # -- re-INVITE and other in-dialog requests we send ---------------------------------

    async def reinvite(self, sdp: SessionDescription) -> SessionDescription | None:
        """Offer ``sdp`` in a re-INVITE (hold: sendonly/inactive; resume: sendrecv).

        Returns the remote answer; raises :class:`LegFailed` if refused (491 on glare).
        """
        if self.state is not LegState.ANSWERED or self.dialog is None:
            raise LegFailed(481, f"leg is {self.state.value}")
        if self._reinvite_out or self._reinvite_in:
            raise LegFailed(491, "another offer is pending")
        self._reinvite_out = True
        try:
            request = self._in_dialog("INVITE", self._body(sdp), "application/sdp")
            response = await self.host.layer.request(request, self.peer).final
            return self._reinvite_answered(request, response)
        finally:
            self._reinvite_out = False

    def _reinvite_answered(self, request: Request, response: Response) -> SessionDescription | None:
        if response.status in (408, 481):
            self._end("failed", "remote", response.status)
        if not response.is_success:
            raise LegFailed(response.status, response.reason)
        assert self.dialog is not None
        ack = self.dialog.create_ack(request.cseq[0], self.host.via(self.peer))
        self._acks[request.cseq[0]] = ack
        self.host.layer.send_stateless(ack, self.peer)
        answer = sdp_of(response)
        if answer is not None:
            self.remote_sdp = answer
            self._emit(LegSdpChanged(self, answer))
        return answer

    async def send_info_dtmf(self, digit: str, duration_ms: int = 160) -> None:
        """Send one DTMF digit as SIP INFO (application/dtmf-relay)."""
        if self.state is not LegState.ANSWERED:
            raise LegFailed(481, f"leg is {self.state.value}")
        body = f"Signal={digit}\r\nDuration={duration_ms}\r\n".encode()
        request = self._in_dialog("INFO", body, "application/dtmf-relay")
        response = await self.host.layer.request(request, self.peer).final
        if not response.is_success:
            raise LegFailed(response.status, response.reason)

    async def notify_refer(self, status: int, reason: str | None = None) -> None:
        """Report a REFER's progress to the referrer (NOTIFY with a sipfrag)."""
        if self.state is not LegState.ANSWERED:
            return
        from ticketline.sip.message import REASON_PHRASES

        phrase = reason or REASON_PHRASES.get(status, "")
        state = "active;expires=60" if status < 200 else "terminated;reason=noresource"
        request = self._in_dialog(
            "NOTIFY",
            f"SIP/2.0 {status} {phrase}\r\n".encode(),
            "message/sipfrag;version=2.0",
            (("Event", "refer"), ("Subscription-State", state)),
        )
        await self.host.layer.request(request, self.peer).final

    # -- in-dialog requests we receive --------------------------------------------------

    def on_request(self, tx: ServerTransaction) -> None:
        """A request inside this leg's dialog arrived (not ACK, not CANCEL)."""
        request = tx.request
        if self.dialog is None:
            tx.reply(481)
            return
        self.dialog, refusal = self.dialog.receive_request(request)
        if refusal is not None:
            tx.respond(refusal)
            return
        handler = _IN_DIALOG.get(request.method)
        if handler is None:
            tx.reply(405, extra_headers=(("Allow", ALLOW),))
            return
        handler(self, tx)

    def _on_bye(self, tx: ServerTransaction) -> None:
        tx.reply(200)
        if self.direction == "inbound" and self.state in (LegState.RINGING, LegState.EARLY):
            # A BYE on an early dialog from the caller ends the INVITE too.
            invite_tx = self._invite_tx
            if invite_tx is not None:
                invite_tx.respond(make_response(invite_tx.request, 487, to_tag=self.local_tag))
        if self.dialog is not None and self.dialog.state is not DialogState.TERMINATED:
            self.dialog = self.dialog.on_bye()
        self._end("normal_clearing", "remote")

    def _on_reinvite(self, tx: ServerTransaction) -> None:
        if self.state is not LegState.ANSWERED:
            tx.reply(491 if self.state is not LegState.ENDED else 481)
            return
        if self._reinvite_out or self._reinvite_in or self._pending_ok is not None:
            tx.reply(491)
            return
        self._reinvite_in = True
        self._spawn(self._answer_reinvite(tx))

    async def _answer_reinvite(self, tx: ServerTransaction) -> None:
        try:
            offer = sdp_of(tx.request)
            if tx.request.body and offer is None:
                tx.reply(488)
                return
            answer = await self._decide_answer(offer)
            if answer is None:
                tx.reply(488)
                return
            self._restart_session_timer()
            body = self._body(answer)
            extra = (self._contact_header(), ("Content-Type", "application/sdp"),
                     *self._session_timer_headers(tx.request))  # fmt: skip
            ok = make_response(tx.request, 200, extra_headers=extra, body=body)
            tx.respond(ok)
            if offer is not None:
                self.remote_sdp = offer
                self._emit(LegSdpChanged(self, offer))
            with contextlib.suppress(LegFailed):
                await self._await_ack(tx.request.cseq[0], ok)
        finally:
            self._reinvite_in = False

    async def _decide_answer(self, offer: SessionDescription | None) -> SessionDescription | None:
        if self.on_reinvite is not None:
            return await self.on_reinvite(self, offer)
        return mirror_answer(self.local_sdp, offer)

    def _restart_session_timer(self) -> None:
        if self._timers.running("session"):
            self._start_session_timer()

    def _on_update(self, tx: ServerTransaction) -> None:
        offer = sdp_of(tx.request)
        if offer is None:
            self._restart_session_timer()
            tx.reply(200, extra_headers=tuple(self._session_timer_headers(tx.request)))
            return
        self._spawn(self._answer_update(tx, offer))

    async def _answer_update(self, tx: ServerTransaction, offer: SessionDescription) -> None:
        answer = await self._decide_answer(offer)
        if answer is None:
            tx.reply(488)
            return
        self.remote_sdp = offer
        self._restart_session_timer()
        tx.reply(200, extra_headers=(("Content-Type", "application/sdp"),), body=self._body(answer))
        self._emit(LegSdpChanged(self, offer))

    def _on_info(self, tx: ServerTransaction) -> None:
        dtmf = dtmf_of_info(tx.request)
        tx.reply(200)
        if dtmf is not None:
            self._emit(LegDtmf(self, dtmf[0], dtmf[1]))

    def _on_refer(self, tx: ServerTransaction) -> None:
        values = tx.request.headers.get_all("Refer-To")
        if len(values) != 1 or self.on_refer is None or self.state is not LegState.ANSWERED:
            tx.reply(400 if len(values) != 1 else 603)
            return
        from ticketline.sip import parse_address

        try:
            target = parse_address(values[0]).uri
        except ValueError:
            tx.reply(400, "Bad Refer-To")
            return
        tx.reply(202)
        handler = self.on_refer
        self._spawn(handler(self, target))

    def _on_simple(self, tx: ServerTransaction) -> None:
        tx.reply(200)


_IN_DIALOG: dict[str, Callable[[Leg, ServerTransaction], None]] = {
    "BYE": Leg._on_bye,
    "INVITE": Leg._on_reinvite,
    "UPDATE": Leg._on_update,
    "INFO": Leg._on_info,
    "REFER": Leg._on_refer,
    "NOTIFY": Leg._on_simple,
    "OPTIONS": Leg._on_simple,
}


def mirror_answer(
    local: SessionDescription | None, offer: SessionDescription | None
) -> SessionDescription | None:
    """Our current session with each stream's direction mirrored from ``offer``."""
    if local is None:
        return None
    if offer is None:
        return local
    offered = offer.media[0].direction if offer.media else None
    direction = MIRRORED_DIRECTION[offered or offer.direction or "sendrecv"]
    media = tuple(m.with_direction(direction) for m in local.media)
    return replace(local, media=media)
