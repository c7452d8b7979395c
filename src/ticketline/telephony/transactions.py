"""The transaction layer: runs the sans-IO §17 machines on real sockets and timers.

Incoming responses are matched to client transactions, incoming requests to
server transactions (retransmissions are absorbed there). New requests go up to
the transaction user (:class:`ticketline.telephony.server.SipServer`); so do ACKs
for 2xx and responses no transaction claims (2xx retransmissions), which belong
to dialogs.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from typing import Protocol

from ticketline.sip import Headers, Message, Request, Response, make_response
from ticketline.sip.transaction import (
    Action,
    CancelTimer,
    DeliverToTU,
    Input,
    ReceivedMessage,
    SendMessage,
    SendResponse,
    StartTimer,
    Terminated,
    Timeout,
    TimerFired,
    Timers,
    TransactionError,
    TransportFailed,
    client_key,
    server_key,
)
from ticketline.sip.transaction_client import InviteClientTransaction, NonInviteClientTransaction
from ticketline.sip.transaction_server import InviteServerTransaction, NonInviteServerTransaction
from ticketline.sip.via import MAGIC_COOKIE
from ticketline.telephony.timers import TimerSet
from ticketline.telephony.transport import Peer, Transports

log = logging.getLogger(__name__)

_counter = itertools.count(1)
_PREFIX = secrets.token_hex(4)


def new_branch() -> str:
    """A unique RFC 3261 branch (magic cookie, process prefix, counter)."""
    return f"{MAGIC_COOKIE}{_PREFIX}{next(_counter):x}"


def new_tag() -> str:
    """A random From/To tag."""
    return secrets.token_hex(6)


class TransactionUser(Protocol):
    """What the layer hands upwards."""

    def on_request(self, transaction: ServerTransaction) -> None:
        """A new request (not ACK) arrived in its own server transaction."""

    def on_ack(self, ack: Request, peer: Peer) -> None:
        """An ACK no INVITE transaction claims (the ACK of a 2xx)."""

    def on_stray_response(self, response: Response, peer: Peer) -> None:
        """A response no client transaction claims (a 2xx retransmission)."""


class ServerTransaction:
    """One received request; answer it with :meth:`respond`."""

    def __init__(self, layer: TransactionLayer, request: Request, peer: Peer) -> None:
        self.layer = layer
        self.request = request
        self.peer = peer
        self.key = source_key(request, peer)
        machine_type = (
            InviteServerTransaction if request.method == "INVITE" else NonInviteServerTransaction
        )
        self.machine = machine_type(request, peer.reliable, layer.timers)
        self.timers = TimerSet(layer.loop)
        self.final: Response | None = None
        self.on_ack: Callable[[], None] | None = None

    @property
    def answered(self) -> bool:
        """True once a final response was sent."""
        return self.final is not None

    def respond(self, response: Response) -> None:
        """Send ``response``; a second final response is ignored (a race, not an error)."""
        if self.final is not None or self.machine.terminated:
            return
        if response.status >= 200:
            self.final = response
        self.layer.run(self, self.machine.handle(SendResponse(response)))

    def reply(self, status: int, reason: str | None = None, **kwargs: object) -> Response:
        """Build and send a response to the request (see :func:`make_response`)."""
        response = make_response(self.request, status, reason, **kwargs)  # type: ignore[arg-type]
        self.respond(response)
        return response

    def fire(self, timer: str) -> None:
        """A timer of this transaction expired."""
        self.feed(TimerFired(timer))

    def feed(self, event: Input) -> None:
        """Pass one input to the machine and carry out its actions."""
        try:
            actions = self.machine.handle(event)
        except TransactionError as error:
            log.debug("server transaction ignored input: %s", error)
            return
        self.layer.run(self, actions)


class ClientTransaction:
    """One request we sent; await :attr:`final` for its final answer."""

    def __init__(self, layer: TransactionLayer, request: Request, peer: Peer) -> None:
        self.layer = layer
        self.request = request
        self.peer = peer
        self.key = client_key(request)
        machine_type = (
            InviteClientTransaction if request.method == "INVITE" else NonInviteClientTransaction
        )
        self.machine = machine_type(request, peer.reliable, layer.timers)
        self.timers = TimerSet(layer.loop)
        self.final: asyncio.Future[Response] = layer.loop.create_future()
        self.on_provisional: Callable[[Response], None] | None = None

    def fire(self, timer: str) -> None:
        """A timer of this transaction expired."""
        self.feed(TimerFired(timer))

    def feed(self, event: Input) -> None:
        """Pass one input to the machine and carry out its actions."""
        try:
            actions = self.machine.handle(event)
        except TransactionError as error:
            log.debug("client transaction ignored input: %s", error)
            return
        self.layer.run(self, actions)

    def deliver(self, response: Response) -> None:
        if response.status < 200:
            if self.on_provisional is not None:
                self.on_provisional(response)
        elif not self.final.done():
            self.final.set_result(response)

    def fail(self, status: int, reason: str) -> None:
        if not self.final.done():
            self.final.set_result(_synthetic(self.request, status, reason))


def _synthetic(request: Request, status: int, reason: str) -> Response:
    """The response a TU sees when the transaction timed out or the transport failed."""
    fields = [(n, v) for n, v in request.headers if n in ("Via", "From", "To", "Call-ID", "CSeq")]
    return Response(status, reason, Headers(tuple(fields)))


Transaction = ServerTransaction | ClientTransaction


def source_key(request: Request, peer: Peer) -> tuple[str, ...]:
    """§17.2.3 matching plus the source address: two peers reusing a branch never collide."""
    return (*server_key(request), peer.host, str(peer.port))


class TransactionLayer:
    """Matches messages to transactions and carries out the machines' actions."""

    def __init__(self, transports: Transports, user: TransactionUser, timers: Timers) -> None:
        self.transports = transports
        self.user = user
        self.timers = timers
        self.loop = asyncio.get_running_loop()
        self.clients: dict[tuple[str, str], ClientTransaction] = {}
        self.servers: dict[tuple[str, ...], ServerTransaction] = {}

    # incoming ----------------------------------------------------------------

    def receive(self, message: Message, peer: Peer) -> None:
        """Entry point for every parsed message from the transports."""
        if isinstance(message, Response):
            self._receive_response(message, peer)
        elif message.method == "ACK":
            self._receive_ack(message, peer)
        else:
            self._receive_request(message, peer)

    def _receive_response(self, response: Response, peer: Peer) -> None:
        client = self.clients.get(client_key(response))
        if client is not None:
            client.feed(ReceivedMessage(response))
        else:
            self.user.on_stray_response(response, peer)

    def _receive_ack(self, ack: Request, peer: Peer) -> None:
        server = self.servers.get(source_key(ack, peer))
        if server is not None and server.final is not None and server.final.status >= 300:
            server.feed(ReceivedMessage(ack))
            return
        self.user.on_ack(ack, peer)

    def _receive_request(self, request: Request, peer: Peer) -> None:
        key = source_key(request, peer)
        existing = self.servers.get(key)
        if existing is not None:
            existing.feed(ReceivedMessage(request))
            return
        server = ServerTransaction(self, request, peer)
        self.servers[key] = server
        self.run(server, server.machine.start())

    def find_invite(self, cancel: Request, peer: Peer) -> ServerTransaction | None:
        """The INVITE server transaction a CANCEL names (same branch, sent-by and source)."""
        key = server_key(cancel)
        return self.servers.get((*key[:-1], "INVITE", peer.host, str(peer.port)))

    # outgoing ----------------------------------------------------------------

    def request(self, request: Request, peer: Peer) -> ClientTransaction:
        """Start a client transaction for ``request``; await ``.final`` for the answer."""
        client = ClientTransaction(self, request, peer)
        self.clients[client.key] = client
        self.run(client, client.machine.start())
        return client

    def send_stateless(self, message: Message, peer: Peer) -> None:
        """Send outside any transaction (2xx ACKs, 2xx retransmissions)."""
        self.transports.send(message, peer)

    # actions -----------------------------------------------------------------

    def run(self, owner: Transaction, actions: list[Action]) -> None:
        """Carry out the actions a machine returned."""
        for action in actions:
            match action:
                case SendMessage(message=message):
                    self.transports.send(message, owner.peer)
                case StartTimer(name=name, seconds=seconds):
                    owner.timers.start(name, seconds, owner.fire)
                case CancelTimer(name=name):
                    owner.timers.cancel(name)
                case DeliverToTU(message=message):
                    self._deliver(owner, message)
                case Timeout():
                    if isinstance(owner, ClientTransaction):
                        owner.fail(408, "Request Timeout")
                case TransportFailed():
                    if isinstance(owner, ClientTransaction):
                        owner.fail(503, "Service Unavailable")
                case Terminated():
                    self._forget(owner)

    def _deliver(self, owner: Transaction, message: Message) -> None:
        if isinstance(owner, ClientTransaction):
            assert isinstance(message, Response)
            owner.deliver(message)
            return
        if isinstance(message, Request) and message.method == "ACK":
            if owner.on_ack is not None:
                owner.on_ack()
            return
        self.user.on_request(owner)

    def _forget(self, owner: Transaction) -> None:
        owner.timers.cancel_all()
        if isinstance(owner, ClientTransaction):
            if self.clients.get(owner.key) is owner:
                del self.clients[owner.key]
            owner.fail(408, "Request Timeout")
        elif self.servers.get(owner.key) is owner:
            del self.servers[owner.key]
