"""Media pacing while the web side of the same installation is busy.

    uv run python bench/bench_media_web.py --calls 200 --rps 50 --seconds 10 --rt
    uv run python bench/bench_media_web.py --calls 200 --rps 50 --seconds 10 --rt --media inline

The server is the whole installation, as `ticketline serve` runs it: the demo on
a temporary SQLite database, its web app under uvicorn, and its media plane
bridging and recording `--calls` calls, pinned to CPU 0. With `--media process`
(the default, as `serve` does) the media plane is the supervised media process
and only it gets real-time scheduling with `--rt`; with `--media inline` it is
the serving process's own `MediaEngine` (uvloop), all in one process. Beside the
RTP load (CPU 1), a client process sends `--rps` API requests a second with a
bearer token (customer search, work order list, knowledge base search, timetable
stations), open loop, and reports their latency. Figures: the pacing of what the
server sends (as in bench_media_calls.py), once without and once with the web
load, and the web latency.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import shutil
import socket
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import uvicorn
import uvloop

from media_loadgen import load_socket, pacing, percentile, pin, realtime, receive, run_sender
from ticketline.app import build_application
from ticketline.config import Settings
from ticketline.core.clock import SystemClock
from ticketline.db.migrate import upgrade
from ticketline.demo import DEMO_PASSWORD, seed_demo

WARMUP_S = 2.0
REQUESTS = (
    "/api/crm/customers?size=20&q=139",
    "/api/workorders?size=20",
    "/api/kb/search?q=%E9%80%80%E7%A5%A8&limit=20",
    "/api/ticketing/stations",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve(conn: Connection, calls: int, folder: Path, media: str, rt: bool) -> None:
    settings = Settings(
        media_process=media == "process",
        media_realtime=rt,
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        var_dir=folder / "var",
        rtp_port_first=40000,
        rtp_port_last=40000 + 4 * calls + 3,
    )
    app = build_application(settings, clock=SystemClock())
    await upgrade(app.db)
    await seed_demo(app)
    engine = app.media
    await engine.start()
    sessions = [await engine.open_session() for _ in range(2 * calls)]
    for index in range(calls):
        caller, agent = sessions[2 * index], sessions[2 * index + 1]
        engine.bridge(caller, agent)
        engine.start_recording(caller, folder / "rec" / f"{index}.wav")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
        await asyncio.sleep(0.02)
    gc.collect()
    gc.freeze()
    conn.send(([s.port for s in sessions], port))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "done"
    server.should_exit = True
    await serving
    await engine.close()
    await app.close()


def server_main(conn: Connection, calls: int, folder: Path, media: str, rt: bool) -> None:
    pin(0)
    realtime(rt and media == "inline")  # else only the media process is real-time
    uvloop.install()
    asyncio.run(serve(conn, calls, folder, media, rt))


def web_load(base: str, rps: float, seconds: float, out: Connection) -> None:
    """Send `rps` requests a second for `seconds` (open loop); report latencies in ms."""
    pin(1)
    asyncio.run(_web_load(base, rps, seconds, out))


async def _web_load(base: str, rps: float, seconds: float, out: Connection) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        answer = await client.post(
            "/api/auth/token", json={"username": "supervisor", "password": DEMO_PASSWORD}
        )
        answer.raise_for_status()
        headers = {"Authorization": f"Bearer {answer.json()['token']}"}
        latencies: dict[str, list[float]] = {path: [] for path in REQUESTS}
        failures = 0

        async def one(path: str) -> None:
            nonlocal failures
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            if response.status_code != 200:
                failures += 1
            latencies[path].append((time.perf_counter() - started) * 1000)

        start = time.monotonic()
        pending = set()
        for n in range(int(rps * seconds)):
            delay = start + n / rps - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(REQUESTS[n % len(REQUESTS)]))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        out.send((latencies, failures))


def measure(sock: socket.socket, seconds: float, label: str) -> None:
    p99, worst, _ = pacing(receive(sock, seconds))
    print(f"{label}: send pacing |gap - 20 ms| p99 {p99:.2f} ms, max {worst:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rt", action="store_true", help="real-time scheduling (root)")
    parser.add_argument("--media", choices=("process", "inline"), default="process")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-media-web-"))
    ctx = mp.get_context("fork")
    ours, theirs = ctx.Pipe()
    server = ctx.Process(target=server_main, args=(theirs, args.calls, folder, args.media, args.rt))
    server.start()
    ports, web_port = ours.recv()
    sock = load_socket()
    _, digits_in = ctx.Pipe()
    total = WARMUP_S + 2 * args.seconds + 1.0
    sender = ctx.Process(target=run_sender, args=(sock, ports, total, None, digits_in, args.rt))
    sender.start()
    pin(1)
    realtime(args.rt)
    receive(sock, WARMUP_S)
    where = "a media process" if args.media == "process" else "the process serving the web"
    print(f"{args.calls} bridged, recorded calls in {where}")
    measure(sock, args.seconds, "no web load")
    web_in, web_out = ctx.Pipe()
    base = f"http://127.0.0.1:{web_port}"
    client = ctx.Process(target=web_load, args=(base, args.rps, args.seconds, web_out))
    client.start()
    measure(sock, args.seconds, f"{args.rps:.0f} API requests/s")
    latencies, failures = web_in.recv()
    client.join()
    sender.join()
    ours.send("done")
    server.join()
    shutil.rmtree(folder, ignore_errors=True)
    every = [ms for path in REQUESTS for ms in latencies[path]]
    print(
        f"web: {len(every)} requests, {failures} failed, latency p50 "
        f"{percentile(every, 50):.1f} ms, p99 {percentile(every, 99):.1f} ms"
    )
    for path in REQUESTS:
        found = latencies[path]
        print(f"  {path}: p50 {percentile(found, 50):.1f} ms, max {max(found, default=0):.1f} ms")


if __name__ == "__main__":
    main()
