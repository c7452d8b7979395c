"""RTP port pairs from a configured range: RTP on the even port, RTCP on the next odd one.

Freed pairs go to the back of the queue, so a port is reused as late as
possible and stray packets of a finished call rarely reach the next one.
A port another process holds is skipped (the bind fails) and retried later,
which also lets parallel test runs share a range without colliding.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from dataclasses import dataclass

from ticketline.core.errors import TicketlineError


class NoPortsAvailable(TicketlineError):
    """Every RTP port pair in the range is in use."""

    code = "rtp_ports_exhausted"
    status = 503


@dataclass(frozen=True, slots=True)
class PortRange:
    """Inclusive range of UDP ports for RTP/RTCP pairs."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not 1024 <= self.first < self.last <= 65535:
            raise ValueError(
                f"rtp port range must satisfy 1024 <= first < last <= 65535, "
                f"got {self.first}-{self.last}"
            )

    def pairs(self) -> list[int]:
        """Every even RTP port whose RTCP port (+1) still lies in the range."""
        start = self.first + (self.first & 1)
        return list(range(start, self.last, 2))


class PortAllocator:
    """Hands out bound (rtp, rtcp) socket pairs and takes them back."""

    def __init__(self, ports: PortRange, host: str) -> None:
        self.host = host
        self._free: deque[int] = deque(ports.pairs())
        self._used: set[int] = set()

    @property
    def in_use(self) -> int:
        """Pairs currently allocated."""
        return len(self._used)

    @property
    def available(self) -> int:
        """Pairs waiting in the free queue (some may be held by other processes)."""
        return len(self._free)

    def allocate(self) -> tuple[int, socket.socket, socket.socket]:
        """Bind the next free pair; return (rtp_port, rtp_socket, rtcp_socket)."""
        for _ in range(len(self._free)):
            port = self._free.popleft()
            sockets = self._bind_pair(port)
            if sockets is None:
                self._free.append(port)  # held by someone else: try it again later
                continue
            self._used.add(port)
            return port, *sockets
        raise NoPortsAvailable("no free RTP port pair in the configured range")

    def release(self, port: int) -> None:
        """Give a pair back (its sockets must already be closed); unknown ports are ignored."""
        if port in self._used:
            self._used.discard(port)
            self._free.append(port)

    def _bind_pair(self, port: int) -> tuple[socket.socket, socket.socket] | None:
        rtp = _bind(self.host, port)
        if rtp is None:
            return None
        rtcp = _bind(self.host, port + 1)
        if rtcp is None:
            rtp.close()
            return None
        return rtp, rtcp


def _bind(host: str, port: int) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, port))
    except OSError:
        sock.close()
        return None
    return sock


async def open_endpoint(
    sock: socket.socket, protocol: asyncio.DatagramProtocol
) -> asyncio.DatagramTransport:
    """Wrap an already bound UDP socket in an asyncio transport."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol, sock=sock)
    return transport
