"""Load generator and measurement for the media benchmarks (not a benchmark itself).

The server under test runs in its own process pinned to CPU 0 (uvloop); the
load (RTP from every simulated phone) is sent from one UDP socket by a process
pinned to CPU 1, and what the server sends back is received on that same
socket (symmetric RTP latches every session to it) by the main process, which
reads the kernel's receive timestamp of each packet (SO_TIMESTAMPNS), so the
pacing figures do not include the receiver's own scheduling delays.
"""

from __future__ import annotations

import array
import os
import socket
import struct
import time
from dataclasses import dataclass

import numpy as np

from ticketline.media.dtmf import DtmfSender
from ticketline.media.g711 import ulaw_encode_array

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
HEADER = struct.Struct("!BBHII")
FRAME_S = 0.020
SLOTS = 10  # phones' send instants, spread over each 20 ms frame


def pin(cpu: int) -> None:
    """Run this process on one CPU only (if the machine has it)."""
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


def realtime(enabled: bool) -> None:
    """Ask for real-time scheduling (SCHED_FIFO), as a media server would be run in
    production, so other work on a shared machine does not decide the pacing."""
    if enabled and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except PermissionError:
            print("real-time scheduling refused; running at normal priority")


def load_socket() -> socket.socket:
    """The one socket every simulated phone sends from and receives on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:  # past net.core.rmem_max (root only): a slow reader must not drop packets
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, 32 * 1024 * 1024)
    except (OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def voice_payloads(count: int = 50) -> list[bytes]:
    """A second of a spoken-level tone as 20 ms µ-law payloads."""
    t = np.arange(160 * count) / 8000
    pcm = (6000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    codes = ulaw_encode_array(pcm).tobytes()
    return [codes[i * 160 : (i + 1) * 160] for i in range(count)]


@dataclass
class DigitPlan:
    """Send digit presses: to stream `index` at tick `tick` (for the DTMF benchmark)."""

    presses: dict[int, list[int]]  # tick -> stream indexes


def run_sender(
    sock: socket.socket,
    ports: list[int],
    seconds: float,
    plan: DigitPlan | None,
    result_pipe: object,
    rt: bool = False,
    burst: bool = False,
) -> None:
    """Send one RTP packet per port every 20 ms (and RFC 4733 digits per the plan).

    Phones run on their own clocks, so their packets reach a server spread over
    the 20 ms: stream i sends in slot i % SLOTS of each frame. `burst` sends every
    stream at the same instant instead (the worst case, not what real phones do).
    """
    pin(1)
    realtime(rt)
    payloads = voice_payloads()
    seqs = [0] * len(ports)
    stamps = [0] * len(ports)
    trains: dict[int, list[bytes]] = {}
    sent_digits: list[tuple[int, float]] = []
    slots = 1 if burst else SLOTS
    groups = [list(enumerate(ports))[slot::slots] for slot in range(slots)]
    start = time.monotonic()
    ticks = int(seconds / FRAME_S)
    for tick in range(ticks):
        for index in plan.presses.get(tick, ()) if plan else ():
            sender = DtmfSender(ssrc=index + 1, payload_type=101)
            packets = sender.packets("5", seqs[index], stamps[index])
            trains[index] = [p.serialize() for p in packets]
        payload = payloads[tick % len(payloads)]
        for slot, group in enumerate(groups):
            delay = start + (tick + slot / slots) * FRAME_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            _send_slot(sock, group, payload, seqs, stamps, trains, sent_digits)
    result_pipe.send(sent_digits)  # type: ignore[attr-defined]


def _send_slot(
    sock: socket.socket,
    group: list[tuple[int, int]],
    payload: bytes,
    seqs: list[int],
    stamps: list[int],
    trains: dict[int, list[bytes]],
    sent_digits: list[tuple[int, float]],
) -> None:
    for index, port in group:
        train = trains.get(index)
        if train:
            data = train.pop(0)
            if data[1] & 0x80:  # marker: the press starts now
                sent_digits.append((index, time.time()))
            if not train:
                del trains[index]
        else:
            data = HEADER.pack(0x80, 0, seqs[index], stamps[index], index + 1) + payload
        seqs[index] = (seqs[index] + 1) & 0xFFFF
        stamps[index] = (stamps[index] + 160) & 0xFFFFFFFF
        sock.sendto(data, ("127.0.0.1", port))


@dataclass
class Received:
    """What came back: per packet its SSRC, kernel arrival time and whether it was silent."""

    ssrc: np.ndarray
    arrival: np.ndarray
    voiced: np.ndarray


def receive(sock: socket.socket, seconds: float) -> Received:
    """Receive everything for `seconds`, with kernel timestamps."""
    sock.settimeout(0.2)
    ssrcs = array.array("I")
    arrivals = array.array("d")
    voiced = array.array("b")
    silent = {0xFF, 0x7F}
    end = time.monotonic() + seconds
    cmsg_size = socket.CMSG_SPACE(16)
    while time.monotonic() < end:
        try:
            data, ancillary, _, _ = sock.recvmsg(2048, cmsg_size)
        except TimeoutError:
            continue
        if len(data) < 13:
            continue
        stamp = time.time()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                stamp = sec + nsec * 1e-9
        ssrcs.append(int.from_bytes(data[8:12], "big"))
        arrivals.append(stamp)
        voiced.append(1 if data[12] not in silent or data[-1] not in silent else 0)
    return Received(np.array(ssrcs), np.array(arrivals), np.array(voiced, dtype=bool))


def pacing(received: Received) -> tuple[float, float, int]:
    """p99 and max of |inter-arrival - 20 ms| over every stream (ms), and streams seen."""
    order = np.lexsort((received.arrival, received.ssrc))
    ssrc = received.ssrc[order]
    arrival = received.arrival[order]
    same = ssrc[1:] == ssrc[:-1]
    gaps = np.diff(arrival)[same]
    deviation = np.abs(gaps - FRAME_S) * 1000
    if deviation.size == 0:
        return 0.0, 0.0, 0
    return (
        float(np.percentile(deviation, 99)),
        float(deviation.max()),
        len(np.unique(ssrc)),
    )


def percentile(values: list[float], pct: float) -> float:
    """A percentile of a list (0.0 when empty)."""
    return float(np.percentile(values, pct)) if values else 0.0
