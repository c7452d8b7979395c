"""The SIP server: transports, transactions, registrar, trunks and legs in one place.

It is the transaction user of :mod:`transactions`: it answers REGISTER and
OPTIONS, refuses what cannot be served (400/403/405/415/420/481/482/483/488/501),
authenticates callers that are not a trunk (407 against the extensions' HA1s),
turns every new INVITE into an inbound :class:`Leg` handed to the
``incoming_handler`` (the default is the B2BUA of b2bua.py), routes in-dialog
requests to their leg, and originates outbound legs with :meth:`SipServer.dial`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ticketline.core.clock import Clock
from ticketline.sip import NameAddress, Request, Response, SipUri, make_response, parse_uri
from ticketline.sip.digest import VerifyResult
from ticketline.sip.offer_answer import NoCommonCodec, negotiate
from ticketline.sip.sdp import SessionDescription
from ticketline.sip.transaction import Timers
from ticketline.sip.uri import TelUri, Uri
from ticketline.sip.validate import check_request
from ticketline.sip.via import Via
from ticketline.telephony.calls import Call, CdrSink, Leg, LegFailed
from ticketline.telephony.messages import ALLOW, MIN_SE, SUPPORTED, build_invite, sdp_of
from ticketline.telephony.messages import session_expires as read_session_expires
from ticketline.telephony.models import Trunk
from ticketline.telephony.outbound_registration import TrunkRegistration
from ticketline.telephony.registrar import (
    Authenticator,
    AuthPolicy,
    Binding,
    CredentialLookup,
    Registrar,
    contact_peer,
)
from ticketline.telephony.transactions import (
    ServerTransaction,
    TransactionLayer,
    new_branch,
    new_tag,
)
from ticketline.telephony.transport import Peer, Transports
from ticketline.telephony.trunks import match_inbound, snapshot

log = logging.getLogger(__name__)

ALLOWED_METHODS = frozenset(m.strip() for m in ALLOW.split(","))
ACCEPTED_BODIES = ("application/sdp", "application/dtmf-relay", "application/dtmf",
                   "message/sipfrag")  # fmt: skip
TrunkSource = Callable[[], Awaitable[list[Trunk]]]


@dataclass(frozen=True)
class SipConfig:
    """Where the server listens and how it names itself."""

    host: str = "127.0.0.1"
    port: int = 5060
    realm: str = "ticketline"
    advertised_host: str | None = None
    timers: Timers = field(default_factory=Timers)
    auth_policy: AuthPolicy = field(default_factory=AuthPolicy)
    registration_retry: float = 30.0


@dataclass(frozen=True)
class IncomingCall:
    """A new inbound call, as the application's handler receives it.

    ``did`` is the dialled number (Request-URI user); ``caller`` the From user;
    ``trunk`` the trunk it came in on, or ``extension`` the phone that called
    (authenticated by digest); one of the two is set.
    """

    leg: Leg
    call: Call
    did: str
    caller: str
    trunk: Trunk | None = None
    extension: str | None = None
    max_forwards: int = 70


IncomingCallHandler = Callable[[IncomingCall], Awaitable[None]]


async def _no_trunks() -> list[Trunk]:
    return []


class SipServer:
    """One SIP endpoint on UDP and TCP (see the module docstring)."""

    def __init__(
        self,
        config: SipConfig,
        credentials: CredentialLookup,
        clock: Clock,
        *,
        trunks: TrunkSource = _no_trunks,
        cdr: CdrSink | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.timers = config.timers
        self.cdr = cdr
        self._trunk_source = trunks
        self.trunks: list[Trunk] = []
        self.auth = Authenticator(config.realm, credentials, clock.now, config.auth_policy)
        self.registrar = Registrar(self.auth, clock.now)
        self.transports = Transports(config.host, config.port, self._receive)
        self.incoming_handler: IncomingCallHandler | None = None
        self.fallback_handler: IncomingCallHandler | None = None
        self.legs: dict[tuple[str, str], Leg] = {}
        self._invites: dict[tuple[str, ...], Leg] = {}
        self._seen_invites: dict[tuple[str, str, int], tuple[str, Leg]] = {}
        self._own_call_ids: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._layer: TransactionLayer | None = None
        self.registrations: dict[str, TrunkRegistration] = {}
        self.calls_total = 0
        self.active_legs = 0

    # -- life cycle ---------------------------------------------------------------------

    @property
    def layer(self) -> TransactionLayer:
        """The transaction layer (exists once started)."""
        assert self._layer is not None, "SipServer.start() first"
        return self._layer

    @property
    def port(self) -> int:
        """The bound port (UDP and TCP)."""
        return self.transports.port

    @property
    def address(self) -> str:
        """The host peers should reach us at."""
        return self.config.advertised_host or self.config.host

    async def start(self) -> None:
        """Load the trunks and bind the sockets."""
        self._layer = TransactionLayer(self.transports, self, self.timers)
        await self.transports.start()
        await self.reload_trunks()
        log.info("SIP listening on %s:%s (UDP and TCP)", self.config.host, self.port)

    async def stop(self) -> None:
        """Hang up every leg (all at once, a second each at most) and close the sockets."""
        legs = [leg for leg in self.legs.values() if not leg.ended]
        await asyncio.gather(*(_hang_up_for_shutdown(leg) for leg in legs))
        for registration in list(self.registrations.values()):
            await registration.stop()
        self.registrations.clear()
        await self.transports.stop()
        for task in list(self._tasks):
            task.cancel()

    async def reload_trunks(self) -> None:
        """Read the trunk table again (after a TrunksChanged event); (re)start registrations."""
        self.trunks = await self._trunk_source()
        if self._layer is not None:
            await self._sync_registrations()

    async def _sync_registrations(self) -> None:
        wanted = {t.name: t for t in self.trunks if t.enabled and t.registers}
        for name, registration in list(self.registrations.items()):
            trunk = wanted.get(name)
            if trunk is None or _config(trunk) != _config(registration.trunk):
                await registration.stop()
                del self.registrations[name]
        for name, trunk in wanted.items():
            if name not in self.registrations:
                peer = Peer(trunk.transport, await self._resolve(trunk.host), trunk.port)
                registration = TrunkRegistration(self, trunk, peer, self.config.registration_retry)
                self.registrations[name] = registration
                registration.start()

    def _spawn(self, work: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("SIP task failed")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- LegHost ------------------------------------------------------------------------

    def via(self, peer: Peer) -> Via:
        """A fresh Via for a request we send to ``peer``."""
        return Via(peer.transport.upper(), self.address, self.port,
                   (("branch", new_branch()), ("rport", None)))  # fmt: skip

    def contact(self, peer: Peer) -> Uri:
        """Our Contact URI for ``peer``'s transport."""
        params = (("transport", "tcp"),) if peer.transport == "tcp" else ()
        return SipUri(self.address, "ticketline", port=self.port, params=params)

    def now(self) -> datetime:
        """The current time."""
        return self.clock.now()

    def leg_started(self, leg: Leg) -> None:
        """Count a new leg (see :attr:`active_legs`)."""
        self.active_legs += 1

    def dialog_started(self, leg: Leg) -> None:
        """In-dialog requests for ``leg`` go to it from now on."""
        self.legs[(leg.sip_call_id, leg.local_tag)] = leg

    def leg_ended(self, leg: Leg) -> None:
        """Forget ``leg`` a little later (late retransmissions still find it)."""
        self.active_legs -= 1
        loop = asyncio.get_running_loop()
        loop.call_later(64 * self.timers.t1, self._forget, leg)

    def _forget(self, leg: Leg) -> None:
        key = (leg.sip_call_id, leg.local_tag)
        if self.legs.get(key) is leg:
            del self.legs[key]
        if leg._invite_tx is not None:
            self._invites.pop(leg._invite_tx.key, None)
            invite = leg._invite_tx.request
            self._seen_invites.pop((invite.call_id, invite.from_.tag or "", invite.cseq[0]), None)
        self._own_call_ids.discard(leg.sip_call_id)

    # -- TransactionUser ----------------------------------------------------------------

    def _receive(self, message: Request | Response, peer: Peer) -> None:
        self.layer.receive(message, peer)

    def on_ack(self, ack: Request, peer: Peer) -> None:
        """An ACK for a 2xx: hand it to its leg."""
        leg = self.legs.get((ack.call_id, ack.to.tag or ""))
        if leg is not None:
            leg.on_ack(ack)

    def on_stray_response(self, response: Response, peer: Peer) -> None:
        """A 2xx retransmission for one of our INVITEs: its leg ACKs it again."""
        if not response.is_success:
            return
        leg = self.legs.get((response.call_id, response.from_.tag or ""))
        if leg is not None:
            leg.on_2xx_retransmission(response)

    def on_request(self, transaction: ServerTransaction) -> None:
        """A new request in its server transaction."""
        request = transaction.request
        refusal = check_request(
            request,
            supported_extensions=("timer", "replaces"),
            allowed_methods=ALLOWED_METHODS,
            accepted_content_types=ACCEPTED_BODIES,
        )
        if refusal is not None:
            if refusal.status == 501:  # tell the peer what we do implement
                refusal = replace(refusal, headers=refusal.headers.with_added("Allow", ALLOW))
            transaction.respond(refusal)
            return
        if self.auth.locked_out(transaction.peer.host) and not self._is_trunk(transaction.peer):
            transaction.reply(403)
            return
        self._dispatch(transaction)

    def _dispatch(self, tx: ServerTransaction) -> None:
        request = tx.request
        method = request.method
        if method == "CANCEL":
            self._on_cancel(tx)
        elif request.to.tag:
            leg = self.legs.get((request.call_id, request.to.tag))
            if leg is None:
                tx.reply(481)
            else:
                leg.on_request(tx)
        elif method == "REGISTER":
            self._spawn(self._register(tx))
        elif method == "OPTIONS":
            tx.reply(200, extra_headers=(("Allow", ALLOW), ("Accept", "application/sdp"),
                                         ("Supported", SUPPORTED)))  # fmt: skip
        elif method == "INVITE":
            self._spawn(self._new_invite(tx))
        else:
            tx.reply(481)

    async def _register(self, tx: ServerTransaction) -> None:
        tx.respond(await self.registrar.handle(tx.request, tx.peer))

    def _on_cancel(self, tx: ServerTransaction) -> None:
        invite_tx = self.layer.find_invite(tx.request, tx.peer)
        if invite_tx is None:
            tx.reply(481)
            return
        tx.reply(200)
        leg = self._invites.get(invite_tx.key)
        if leg is not None:
            leg.on_cancel()
        elif not invite_tx.answered:
            invite_tx.reply(487, to_tag=new_tag())

    # -- new calls ----------------------------------------------------------------------

    def _is_trunk(self, peer: Peer) -> bool:
        address = ipaddress.ip_address(peer.host)
        return any(
            t.enabled and any(address in ipaddress.ip_network(n, strict=False)
                              for n in t.inbound_sources)
            for t in self.trunks
        )  # fmt: skip

    async def _new_invite(self, tx: ServerTransaction) -> None:
        request = tx.request
        if self._retransmitted(request):
            self.layer.servers.pop(tx.key, None)  # the first transaction already ended
            return
        refusal = self._refuse_invite(tx)
        if refusal is not None:
            tx.respond(refusal)
            return
        did = _user_of(request.uri)
        trunk = match_inbound(self.trunks, tx.peer.host, did) if self.trunks else None
        extension: str | None = None
        if trunk is None:
            extension = await self._authenticate_caller(tx)
            if extension is None:
                return
        self._start_call(tx, did, trunk, extension)

    def _refuse_invite(self, tx: ServerTransaction) -> Response | None:
        request = tx.request
        if request.max_forwards == 0:
            return make_response(request, 483)
        if request.call_id in self._own_call_ids:
            return make_response(request, 482)
        if (request.call_id, request.from_.tag or "", request.cseq[0]) in self._seen_invites:
            return make_response(request, 482, "Loop Detected (merged request)")
        expires = read_session_expires(request)
        if expires is not None and expires[0] < MIN_SE:
            return make_response(request, 422, extra_headers=(("Min-SE", str(MIN_SE)),))
        if request.body:
            return _refuse_offer(request)
        return None

    def _retransmitted(self, request: Request) -> bool:
        """An INVITE retransmitted after our 2xx ended its transaction: resend the 2xx."""
        seen = self._seen_invites.get((request.call_id, request.from_.tag or "", request.cseq[0]))
        if seen is None or seen[0] != request.top_via.branch:
            return False
        seen[1].resend_final()
        return True

    async def _authenticate_caller(self, tx: ServerTransaction) -> str | None:
        request = tx.request
        user = _user_of(request.from_.uri)
        result = await self.auth.check(request, "Proxy-Authorization", expected_user=user)
        if isinstance(result, str):
            return result
        if result is VerifyResult.BAD:
            self.auth.record_failure(tx.peer.host)
            if self.auth.locked_out(tx.peer.host):
                tx.reply(403)
                return None
        tx.respond(self.auth.challenge(request, 407, stale=result is VerifyResult.STALE))
        return None

    def _start_call(
        self, tx: ServerTransaction, did: str, trunk: Trunk | None, extension: str | None
    ) -> None:
        request = tx.request
        caller = _user_of(request.from_.uri) or "anonymous"
        call = Call(self.cdr, self.clock.now, direction="inbound" if trunk else "internal",
                    caller=caller[:64], callee=did[:64], sip_call_id=request.call_id,
                    trunk=trunk.name if trunk else None, extension=extension)  # fmt: skip
        leg = Leg.inbound(self, call, tx)
        call.add_leg(leg, "caller")
        self.calls_total += 1
        self._invites[tx.key] = leg
        self._seen_invites[(request.call_id, request.from_.tag or "", request.cseq[0])] = (
            request.top_via.branch or "",
            leg,
        )
        incoming = IncomingCall(leg, call, did, caller, trunk, extension,
                                request.max_forwards or 70)  # fmt: skip
        self._spawn(self._run_handler(incoming))

    async def _run_handler(self, incoming: IncomingCall) -> None:
        handler = self.incoming_handler or self.fallback_handler
        leg = incoming.leg
        try:
            if handler is None:
                await leg.reject(480)
            else:
                await handler(incoming)
        except Exception:
            log.exception("incoming call handler failed")
            if not leg.ended and not leg.answered:
                await leg.reject(500)

    # -- originating --------------------------------------------------------------------

    async def dial(
        self,
        target: str | Uri,
        local_sdp: SessionDescription | None,
        caller_id: str | None = None,
        *,
        call: Call | None = None,
        role: str = "callee",
        trunk: str | None = None,
        max_forwards: int = 70,
        display_name: str | None = None,
    ) -> Leg:
        """Call ``target`` (an extension, a number through a trunk, or a SIP URI).

        Returns the outbound leg at once (ringing); ``await leg.wait_answered()``
        for the answer. Raises :class:`LegFailed` (404/480) when nothing can be
        reached for ``target``.
        """
        route = await self._route(target, trunk)
        caller = caller_id or (route.trunk.caller_id if route.trunk else None) or "ticketline"
        if route.trunk is not None and route.trunk.caller_id and caller_id is None:
            caller = route.trunk.caller_id
        from_ = NameAddress(SipUri(self.address, caller), display_name, (("tag", "x"),))
        to = NameAddress(route.uri if isinstance(route.uri, SipUri) else
                         SipUri(route.peer.host, route.number))  # fmt: skip
        call_id = f"{new_tag()}{new_tag()}@{self.address}"
        self._own_call_ids.add(call_id)
        invite = build_invite(route.uri, self.via(route.peer), from_, to, call_id, 1,
                              self.contact(route.peer), b"", max_forwards)  # fmt: skip
        if call is None:
            call = Call(self.cdr, self.clock.now, direction="outbound", caller=caller[:64],
                        callee=route.number[:64], sip_call_id=call_id,
                        trunk=route.trunk.name if route.trunk else None)  # fmt: skip
        leg = Leg.outbound(self, call, route.peer, invite, local_sdp, route.credentials)
        call.add_leg(leg, role)
        self.dialog_started(leg)
        return leg

    async def _route(self, target: str | Uri, trunk_name: str | None) -> _Route:
        if isinstance(target, str) and target.startswith(("sip:", "sips:")):
            target = parse_uri(target)
        if isinstance(target, SipUri):
            transport = (target.param("transport") or "udp").lower()
            host = await self._resolve(target.host)
            return _Route(target, Peer(transport, host, target.port or 5060), target.user or "")
        number = target.number if isinstance(target, TelUri) else str(target)
        bindings = self.registrar.contacts(number)
        if bindings and trunk_name is None:
            binding = bindings[0]
            return _Route(binding.contact, self._reachable(binding), number)
        if await self.auth.lookup(number) is not None and trunk_name is None:
            raise LegFailed(480, f"extension {number} is not registered")
        trunk = self._outbound_trunk(trunk_name)
        if trunk is None:
            raise LegFailed(404, f"no route to {number}")
        host = await self._resolve(trunk.host)
        peer = Peer(trunk.transport, host, trunk.port)
        credentials = (
            (trunk.username, trunk.password) if trunk.username and trunk.password else None
        )
        uri = SipUri(trunk.host, number, port=trunk.port)
        return _Route(uri, peer, number, trunk, credentials)

    def _reachable(self, binding: Binding) -> Peer:
        """The registration's flow; over TCP, its Contact once that connection closed."""
        flow = binding.peer
        if not flow.reliable or self.transports.has_stream(flow):
            return flow
        return contact_peer(binding.contact) or flow

    def _outbound_trunk(self, name: str | None) -> Trunk | None:
        enabled = [t for t in self.trunks if t.enabled]
        if name is not None:
            return next((t for t in enabled if t.name == name), None)
        return enabled[0] if enabled else None

    async def _resolve(self, host: str) -> str:
        try:
            socket.inet_aton(host)
            return host
        except OSError:
            pass
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, family=socket.AF_INET)
        if not infos:
            raise LegFailed(404, f"cannot resolve {host}")
        return str(infos[0][4][0])


@dataclass(frozen=True)
class _Route:
    uri: Uri
    peer: Peer
    number: str
    trunk: Trunk | None = None
    credentials: tuple[str, str] | None = None


def _user_of(uri: Uri) -> str:
    if isinstance(uri, SipUri):
        return uri.user or ""
    if isinstance(uri, TelUri):
        return uri.number
    return ""


def _refuse_offer(request: Request) -> Response | None:
    offer = sdp_of(request)
    if offer is None:
        return make_response(request, 400, "Malformed SDP")
    try:
        negotiate(offer, "0.0.0.0", 9, "0")
    except NoCommonCodec:
        return make_response(request, 488, extra_headers=(("Warning", '304 ticketline "codec"'),))
    return None


def _config(trunk: Trunk) -> dict[str, object]:
    return {**snapshot(trunk), "password": trunk.password}


async def _hang_up_for_shutdown(leg: Leg) -> None:
    with contextlib.suppress(TimeoutError, LegFailed):
        await asyncio.wait_for(leg.hangup("shutdown", 503), 1.0)
