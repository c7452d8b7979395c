"""Time from a DTMF digit arriving to the first packet of the next prompt, under load.

    uv run python bench/bench_media_dtmf.py --calls 200 --seconds 10 [--media process]

The server (the real `MediaEngine`, uvloop, pinned to CPU 0; with `--media
process` a media process driven by this one over its socket, as `ticketline
serve` runs it, both on CPU 0) runs an IVR loop on every call: `collect_digits`
then an interruptible 500 ms prompt. Every call also receives a steady 20 ms
voice stream. Each call gets a key press (RFC 4733) every 2 s, staggered; the
latency of a press is from the moment its first event packet is sent to the
kernel arrival time of the first non-silent packet the server sends back on
that call. Prints p50/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import shutil
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

import uvloop

from media_loadgen import DigitPlan, load_socket, percentile, pin, realtime, receive, run_sender
from ticketline.media.tones import tone
from ticketline.telephony import media_ops
from ticketline.telephony.media_client import RemoteMedia
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_player import Audio
from ticketline.telephony.media_ports import PortRange
from ticketline.telephony.media_session import MediaSession

WARMUP_S = 1.0
PRESS_EVERY_TICKS = 100  # 2 s


async def ivr(session: MediaSession, prompt: Audio) -> None:
    while not session.closed:
        result = await media_ops.collect_digits(session, 1, 1, timeout=3600)
        if result.reason == "hangup":
            return
        await media_ops.play(session, prompt, interruptible_by_dtmf=True)


async def serve(conn: Connection, calls: int, folder: Path, media: str) -> None:
    ports = PortRange(30000, 39999)
    engine: MediaEngine | RemoteMedia = (
        RemoteMedia("127.0.0.1", ports, folder / "moh")
        if media == "process"
        else MediaEngine("127.0.0.1", ports, folder / "moh")
    )
    await engine.start()
    prompt = Audio(tone((523, 659), 500), "prompt")
    sessions = [await engine.open_session() for _ in range(calls)]
    tasks = [asyncio.ensure_future(ivr(s, prompt)) for s in sessions]
    gc.collect()
    gc.freeze()
    conn.send([(s.port, s.ssrc) for s in sessions])
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "stop"
    if isinstance(engine, RemoteMedia):
        clock = await engine.clock_stats()
        late, longest = clock["late_ticks"], clock["max_tick_seconds"]
    else:
        late, longest = engine.clock.late_ticks, engine.clock.max_tick_seconds
    conn.send({"late": late, "max_tick_ms": longest * 1e3})
    await engine.close()
    await asyncio.gather(*tasks)


def server_main(conn: Connection, calls: int, folder: Path, cpu: int, rt: bool, media: str) -> None:
    if cpu >= 0:
        pin(cpu)
    realtime(rt)
    uvloop.install()
    asyncio.run(serve(conn, calls, folder, media))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rt", action="store_true", help="real-time scheduling (root)")
    parser.add_argument("--cpu", type=int, default=0, help="pin the server here; -1: do not pin")
    parser.add_argument("--media", choices=("inline", "process"), default="inline")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-dtmf-"))
    ctx = mp.get_context("fork")
    ours, theirs = ctx.Pipe()
    work = (theirs, args.calls, folder, args.cpu, args.rt, args.media)
    server = ctx.Process(target=server_main, args=work)
    server.start()
    endpoints = ours.recv()
    ports = [port for port, _ in endpoints]
    ssrc_of = [ssrc for _, ssrc in endpoints]
    total = WARMUP_S + args.seconds
    first = int(WARMUP_S / 0.020)
    presses: dict[int, list[int]] = {}
    for index in range(args.calls):
        start = first + index * PRESS_EVERY_TICKS // args.calls
        for tick in range(start, int(total / 0.020) - 50, PRESS_EVERY_TICKS):
            presses.setdefault(tick, []).append(index)
    sock = load_socket()
    results_in, results_out = ctx.Pipe()
    sender = ctx.Process(
        target=run_sender, args=(sock, ports, total, DigitPlan(presses), results_out, args.rt)
    )
    sender.start()
    pin(1)
    realtime(args.rt)
    received = receive(sock, total + 0.3)
    sent = results_in.recv()
    ours.send("stop")
    figures = ours.recv()
    sender.join()
    server.join()
    shutil.rmtree(folder, ignore_errors=True)

    latencies = []
    missing = 0
    for index, sent_at in sent:
        mask = (received.ssrc == ssrc_of[index]) & received.voiced & (received.arrival > sent_at)
        arrivals = received.arrival[mask]
        if arrivals.size == 0:
            missing += 1
            continue
        latencies.append(float(arrivals.min() - sent_at) * 1000)
    print(f"calls: {args.calls} in an IVR loop, {len(sent)} key presses over {total:.0f} s")
    print(
        f"DTMF -> first prompt packet: p50 {percentile(latencies, 50):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms, max {max(latencies, default=0):.1f} ms"
    )
    print(f"presses without a prompt: {missing}; server late ticks {figures['late']}, ")
    print(f"  longest tick {figures['max_tick_ms']:.1f} ms")


if __name__ == "__main__":
    main()
