"""Concurrent bridged, recorded G.711 calls on one core; prints CPU per call, loss and pacing.

    uv run python bench/bench_media_calls.py --calls 500 --seconds 10 --rt [--no-record] [--burst]

The server (the real `MediaEngine`, uvloop, pinned to CPU 0) bridges the two
legs of every call and records each call to a stereo WAV; a second process
(CPU 1) plays every phone, sending 20 ms RTP to each leg from one socket, and
the main process timestamps in the kernel what the server sends back.
Figures: server CPU per call (% of one core), packets lost on the way back,
and how far the gaps between packets of a stream stray from 20 ms (p99, max).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import shutil
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import uvloop

from media_loadgen import load_socket, pacing, pin, realtime, receive, run_sender
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_ports import PortRange

WARMUP_S = 2.0


async def serve(conn: Connection, calls: int, record: bool, folder: Path) -> None:
    engine = MediaEngine("127.0.0.1", PortRange(30000, 39999), folder / "moh")
    sessions = [await engine.open_session() for _ in range(2 * calls)]
    for index in range(calls):
        caller, agent = sessions[2 * index], sessions[2 * index + 1]
        engine.bridge(caller, agent)
        if record:
            engine.start_recording(caller, folder / "rec" / f"{index}.wav")
    await engine.start()
    gc.collect()
    gc.freeze()
    conn.send([s.port for s in sessions])
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "start"
    cpu0, ticks0 = time.process_time(), engine.clock.ticks
    late0, busy0 = engine.clock.late_ticks, engine.clock.busy_seconds
    engine.clock.max_tick_seconds = 0.0
    rx0 = sum(s.stats.rx_packets for s in sessions)
    dropped0 = sum(s.stats.rx_dropped for s in sessions)
    under0 = sum(s.stats.underruns for s in sessions)
    wall0 = time.monotonic()
    await loop.run_in_executor(None, conn.recv)  # "stop"
    wall = time.monotonic() - wall0
    stats = [s.stats for s in sessions]
    conn.send(
        {
            "cpu": (time.process_time() - cpu0) / wall,
            "ticks": engine.clock.ticks - ticks0,
            "late": engine.clock.late_ticks - late0,
            "busy": (engine.clock.busy_seconds - busy0) / wall,
            "max_tick_ms": engine.clock.max_tick_seconds * 1000,
            "rx": (sum(s.rx_packets for s in stats) - rx0) / wall,
            "dropped": (sum(s.rx_dropped for s in stats) - dropped0) // 160,
            "underruns": sum(s.underruns for s in stats) - under0,
            "recorded_s": sum(r.duration_ms for r in engine.recorders) / 1000,
        }
    )
    await engine.close()


def server_main(
    conn: Connection, calls: int, record: bool, folder: Path, cpu: int, rt: bool
) -> None:
    if cpu >= 0:
        pin(cpu)
    realtime(rt)
    uvloop.install()
    asyncio.run(serve(conn, calls, record, folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rt", action="store_true", help="real-time scheduling (root)")
    parser.add_argument("--cpu", type=int, default=0, help="pin the server here; -1: do not pin")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--burst", action="store_true", help="every phone sends at the same instant (worst case)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-media-"))
    ctx = mp.get_context("fork")
    ours, theirs = ctx.Pipe()
    server = ctx.Process(
        target=server_main, args=(theirs, args.calls, not args.no_record, folder, args.cpu, args.rt)
    )
    server.start()
    ports = ours.recv()
    sock = load_socket()
    _, digits_in = ctx.Pipe()
    sender = ctx.Process(
        target=run_sender,
        args=(sock, ports, WARMUP_S + args.seconds + 0.5, None, digits_in, args.rt, args.burst),
    )
    sender.start()
    pin(1)
    realtime(args.rt)
    receive(sock, WARMUP_S)  # let every session latch and settle; drain what comes back
    ours.send("start")
    received = receive(sock, args.seconds)
    ours.send("stop")
    figures = ours.recv()
    sender.join()
    server.join()
    shutil.rmtree(folder, ignore_errors=True)
    report(args, figures, received)


def report(args: argparse.Namespace, figures: dict[str, float], received: object) -> None:
    from media_loadgen import Received

    assert isinstance(received, Received)
    p99, worst, streams = pacing(received)
    expected = 2 * args.calls * args.seconds / 0.020
    got = received.ssrc.size
    cpu = figures["cpu"]
    print(f"calls: {args.calls} bridged{'' if args.no_record else ' + recorded'} (2 legs each)")
    arrivals = "in one burst per 20 ms" if args.burst else "spread over each 20 ms"
    print(f"phones' packets arrive {arrivals}")
    print(f"server CPU: {cpu * 100:.1f}% of one core = {cpu * 100 / args.calls:.3f}% per call")
    print(f"  -> about {int(args.calls / max(cpu, 1e-9))} calls per core at this load")
    busy = figures["busy"] * 100
    print(f"clock: {figures['ticks']} ticks, {figures['late']} late, busy {busy:.1f}%,")
    print(f"  longest tick {figures['max_tick_ms']:.2f} ms")
    print(
        f"server received {figures['rx']:.0f} packets/s, dropped {figures['dropped']} "
        f"late frames, {figures['underruns']} underruns"
    )
    short = (1 - got / expected) * 100
    print(f"packets back: {got} of ~{int(expected)} expected ({short:.2f}% short)")
    print(f"  from {streams} streams")
    print(f"send pacing |gap - 20 ms|: p99 {p99:.2f} ms, max {worst:.2f} ms")


if __name__ == "__main__":
    main()
