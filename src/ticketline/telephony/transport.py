"""UDP and TCP transports: the only code of the SIP side that touches sockets.

Bytes come in, are parsed by :mod:`ticketline.sip`, and leave as a
``(message, peer)`` pair for the transaction layer. Malformed requests get a
best-effort 400/505/513 built from the raw header lines (or are dropped when
even that is impossible); malformed responses are dropped. Nothing a peer sends
can raise out of the receive path.

Requests are stamped with ``received``/``rport`` (RFC 3261 §18.2.1, RFC 3581),
and responses go back to the address the request came from (symmetric
signalling), so phones behind NAT are reached on the flow they opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ticketline.sip import Headers, Message, Request, Response, SipParseError, StreamFramer, parse
from ticketline.sip.message import REASON_PHRASES
from ticketline.sip.syntax import split_list

log = logging.getLogger(__name__)

MessageHandler = Callable[[Message, "Peer"], None]


@dataclass(frozen=True)
class Peer:
    """Where a message came from or goes to: transport (``udp``/``tcp``), host and port."""

    transport: str
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        """True for stream transports (no retransmission timers)."""
        return self.transport != "udp"


def stamp_received(request: Request, peer: Peer) -> Request:
    """The request with ``received``/``rport`` set on its top Via (§18.2.1, RFC 3581).

    The header values the parser already checked and cached are carried over, so
    the stamped request is not parsed a second time.
    """
    top = request.top_via
    stamped = top.with_received(peer.host, peer.port)
    if stamped == top:
        return request
    fields = list(request.headers.fields)
    for position, (name, value) in enumerate(fields):
        if name == "Via":
            fields[position] = (name, ", ".join([str(stamped), *split_list(value)[1:]]))
            break
    index: dict[str, list[str]] = {}
    for name, value in fields:
        index.setdefault(name.lower(), []).append(value)
    headers = Headers.from_parsed(tuple(fields), index)
    copy = Request(request.method, request.uri, headers, request.body, request.version)
    cached = {k: v for k, v in request.__dict__.items() if k not in _FIELDS}
    copy.__dict__.update(cached, vias=(stamped, *request.vias[1:]))
    return copy


_FIELDS = frozenset({"method", "uri", "headers", "body", "version", "vias"})


_RAW_HEADER_RE = re.compile(
    rb"^(via|v|from|f|to|t|call-id|i|cseq)[ \t]*:[ \t]*([^\r\n]*)\r?$", re.IGNORECASE | re.MULTILINE
)
_COMPACT = {b"v": "Via", b"f": "From", b"t": "To", b"i": "Call-ID"}
_NEEDED = {"Via", "From", "To", "Call-ID", "CSeq"}


def error_response_for(data: bytes, error: SipParseError) -> bytes | None:
    """Bytes of an error answer to an unparseable request, or ``None`` to drop it.

    Responses are never answered; a request whose Via, From, To, Call-ID and CSeq
    cannot even be found is dropped, since no peer could match an answer to it.
    """
    if data.lstrip(b"\r\n").startswith(b"SIP/"):
        return None
    head = data.split(b"\r\n\r\n", 1)[0][:8192]
    fields: list[tuple[str, str]] = []
    for match in _RAW_HEADER_RE.finditer(head):
        raw_name = match.group(1).lower()
        name = _COMPACT.get(raw_name) or {
            b"via": "Via", b"from": "From", b"to": "To", b"call-id": "Call-ID", b"cseq": "CSeq"
        }[raw_name]  # fmt: skip
        value = match.group(2).decode("utf-8", "replace").strip()
        if not value.isprintable():
            return None
        fields.append((name, value))
    if {name for name, _ in fields} < _NEEDED:
        return None
    status = error.status if error.status in REASON_PHRASES else 400
    reason = REASON_PHRASES[status]
    try:
        headers = Headers.of([*fields, ("Content-Length", "0")])
    except ValueError:
        return None
    return Response(status, reason, headers).serialize()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: Transports) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.owner.received(data, Peer("udp", addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class Transports:
    """UDP and TCP listeners on one address and port, and the sending side.

    ``on_message`` is called for every well-formed message, in arrival order.
    """

    def __init__(self, host: str, port: int, on_message: MessageHandler) -> None:
        self.host = host
        self.port = port
        self.on_message = on_message
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._streams: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.malformed = 0

    async def start(self) -> None:
        """Bind UDP and TCP on the same port (port 0: one free port for both)."""
        for _ in range(20):
            try:
                await self._bind()
                return
            except OSError:
                await self.stop()
                if self.port:
                    raise
        raise OSError("could not find a port free for both UDP and TCP")

    async def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(self.host, self.port), family=socket.AF_INET
        )
        self._udp = udp
        port = udp.get_extra_info("sockname")[1]
        with contextlib.suppress(OSError):
            sock = udp.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self._tcp_server = await asyncio.start_server(
            self._accept, self.host, port, family=socket.AF_INET, reuse_address=True
        )
        self.port = port

    async def stop(self) -> None:
        """Close every socket."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp_server is not None:
            self._tcp_server.close()
            self._tcp_server = None
        for writer in list(self._streams.values()):
            writer.close()
        self._streams.clear()
        for task in list(self._tasks):
            task.cancel()

    # receiving ---------------------------------------------------------------

    def received(self, data: bytes, peer: Peer) -> None:
        """One datagram (or framed stream message) arrived from ``peer``."""
        if not data.strip(b"\r\n"):
            return  # RFC 5626 keep-alive
        try:
            message = parse(data)
        except SipParseError as error:
            self._refuse(data, error, peer)
            return
        self._deliver(message, peer)

    def _deliver(self, message: Message, peer: Peer) -> None:
        try:
            if isinstance(message, Request):
                message = stamp_received(message, peer)
            self.on_message(message, peer)
        except SipParseError as error:
            self._refuse(message.serialize(), error, peer)
        except Exception:
            log.exception("SIP message from %s:%s could not be handled", peer.host, peer.port)

    def _refuse(self, data: bytes, error: SipParseError, peer: Peer) -> None:
        self.malformed += 1
        log.debug("malformed SIP from %s:%s: %s", peer.host, peer.port, error)
        answer = error_response_for(data, error)
        if answer is not None:
            self.send_bytes(answer, peer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        await self._read_stream(reader, writer, Peer("tcp", host, port))

    async def _read_stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer
    ) -> None:
        self._streams[(peer.host, peer.port)] = writer
        framer = StreamFramer()
        try:
            while not framer.broken:
                data = await reader.read(65536)
                if not data:
                    break
                for event in framer.feed(data):
                    if isinstance(event, SipParseError):
                        self._refuse(b"", event, peer)
                    else:
                        self._deliver(event, peer)
        except (ConnectionError, OSError):
            pass
        finally:
            if self._streams.get((peer.host, peer.port)) is writer:
                del self._streams[(peer.host, peer.port)]
            writer.close()

    # sending -----------------------------------------------------------------

    def has_stream(self, peer: Peer) -> bool:
        """True while a TCP connection to or from ``peer`` is open."""
        writer = self._streams.get((peer.host, peer.port))
        return writer is not None and not writer.is_closing()

    def send(self, message: Message, peer: Peer) -> None:
        """Send ``message`` to ``peer`` (opening a TCP connection when needed)."""
        self.send_bytes(message.serialize(), peer)

    def send_bytes(self, data: bytes, peer: Peer) -> None:
        """Send raw bytes; errors are logged, the transaction timers cover losses."""
        if peer.transport == "udp":
            if self._udp is not None:
                self._udp.sendto(data, (peer.host, peer.port))
            return
        writer = self._streams.get((peer.host, peer.port))
        if writer is not None and not writer.is_closing():
            writer.write(data)
            return
        task = asyncio.create_task(self._connect_and_send(data, peer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect_and_send(self, data: bytes, peer: Peer) -> None:
        try:
            reader, writer = await asyncio.open_connection(peer.host, peer.port)
        except OSError as exc:
            log.info("TCP connection to %s:%s failed: %s", peer.host, peer.port, exc)
            return
        writer.write(data)
        await self._read_stream(reader, writer, peer)
