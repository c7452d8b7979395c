"""A real UDP RTP peer on loopback for media tests, and helpers to step the engine."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import cast

import numpy as np

from ticketline.media.frames import Pcm
from ticketline.media.rtp import RtpPacket
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_player import decode, encode
from ticketline.telephony.media_ports import PortRange


class RtpPeer(asyncio.DatagramProtocol):
    """Sends and receives real RTP on 127.0.0.1; keeps every packet it gets."""

    def __init__(self) -> None:
        self.received: list[RtpPacket] = []
        self.raw: list[bytes] = []
        self.sources: list[tuple[str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.seq = 1000
        self.ts = 5000
        self.ssrc = 0x1234ABCD

    @classmethod
    async def open(cls) -> RtpPeer:
        peer = cls()
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: peer, local_addr=("127.0.0.1", 0))
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.raw.append(data)
        self.sources.append(addr)
        with contextlib.suppress(ValueError):
            self.received.append(RtpPacket.parse(data))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def send_raw(self, data: bytes, to: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, to)

    def send_audio(self, pcm: Pcm, to: tuple[str, int], payload_type: int = 0) -> None:
        """Send one 160-sample frame as the next RTP packet."""
        packet = RtpPacket(payload_type, self.seq, self.ts, self.ssrc, encode(pcm, payload_type))
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + 160) & 0xFFFFFFFF
        self.send_raw(packet.serialize(), to)

    def audio(self, payload_type: int = 0) -> Pcm:
        """Everything received in that payload type, decoded, in arrival order."""
        frames = [
            decode(p.payload, payload_type) for p in self.received if p.payload_type == payload_type
        ]
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def step(
    engine: MediaEngine, ticks: int = 1, before: Callable[[int], None] | None = None
) -> None:
    """Run `ticks` engine ticks by hand, letting datagrams flow in between."""
    for index in range(ticks):
        if before is not None:
            before(index)
        await settle()
        engine.tick()
        await settle()


async def settle() -> None:
    """Give the loop a moment to deliver loopback datagrams."""
    for _ in range(3):
        await asyncio.sleep(0.001)


async def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Poll until the predicate holds (for effects that cross a socket)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


def tone_frames(frequency: float, count: int, amplitude: float = 8000.0) -> list[Pcm]:
    """`count` consecutive 20 ms frames of a sine."""
    t = np.arange(160 * count) / 8000
    wave = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    return [wave[i * 160 : (i + 1) * 160] for i in range(count)]


def level_at(pcm: Pcm, frequency: float) -> float:
    """Amplitude of one frequency in the signal (single DFT bin)."""
    if pcm.size == 0:
        return 0.0
    t = np.arange(pcm.size) / 8000
    value = np.abs(np.sum(pcm.astype(np.float64) * np.exp(-2j * np.pi * frequency * t)))
    return float(2 * value / pcm.size)


def random_range(size: int = 400) -> PortRange:
    """A range in the upper ports; the allocator skips ports other runs hold."""
    first = random.randrange(40000, 60000 - size, 2)
    return PortRange(first, first + size - 1)


@contextlib.asynccontextmanager
async def media_engine(tmp_path: Path) -> AsyncIterator[MediaEngine]:
    """An engine on a random loopback port range, closed afterwards."""
    engine = MediaEngine("127.0.0.1", random_range(), tmp_path / "moh")
    try:
        yield engine
    finally:
        await engine.close()
