"""CPU cost of the media plane per bridged, recorded call, measured in CPU time.

    uv run python bench/bench_media_cpu.py --calls 500 --seconds 5

Runs the real `MediaEngine` (uvloop) with real UDP sockets on loopback, but
steps the 20 ms tick by hand: per simulated tick, one RTP packet is sent to
every leg, the loop delivers them, the engine ticks (bridging, recording,
sending back), and what comes back is read. Only the CPU time of the server's
part is counted (the load's own sends and reads are timed and taken out), so
the figure holds on a busy shared machine where wall-clock pacing cannot be
trusted; `bench_media_calls.py` measures pacing in real time on a quiet one.
Note: on loopback a send also pays for the kernel's delivery to the receiver.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import socket
import tempfile
import time
from pathlib import Path

import uvloop

from media_loadgen import HEADER, voice_payloads
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_ports import PortRange


async def run(calls: int, seconds: float, record: bool) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    engine = MediaEngine("127.0.0.1", PortRange(30000, 39999), folder / "moh")
    sessions = [await engine.open_session() for _ in range(2 * calls)]
    for index in range(calls):
        engine.bridge(sessions[2 * index], sessions[2 * index + 1])
        if record:
            engine.start_recording(sessions[2 * index], folder / f"{index}.wav")
    load = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    load.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    load.bind(("127.0.0.1", 0))
    load.setblocking(False)
    targets = [("127.0.0.1", s.port) for s in sessions]
    payloads = voice_payloads()
    gc.collect()
    gc.freeze()
    ticks = int(seconds / 0.020)
    load_cpu = 0.0
    total_cpu = 0.0
    returned = 0
    for tick in range(ticks + 25):
        measuring = tick >= 25  # the first half second warms up
        start = time.process_time()
        payload = payloads[tick % len(payloads)]
        for index, target in enumerate(targets):
            load.sendto(
                HEADER.pack(0x80, 0, tick & 0xFFFF, tick * 160, index + 1) + payload, target
            )
        sent = time.process_time()
        last = sessions[-1].stats
        for _ in range(200):  # the last leg's packet was sent last: then all are in
            await asyncio.sleep(0)
            if last.rx_packets > tick:
                break
        engine.tick()
        ticked = time.process_time()
        while True:
            try:
                load.recv(2048)
                returned += measuring
            except BlockingIOError:
                break
        done = time.process_time()
        if measuring:
            load_cpu += (sent - start) + (done - ticked)
            total_cpu += done - start
    server_cpu = total_cpu - load_cpu
    simulated = ticks * 0.020
    per_call = server_cpu / simulated / calls
    print(f"calls: {calls} bridged{' + recorded' if record else ''}, {simulated:.0f} s of media")
    print(f"server CPU per call: {per_call * 100:.3f}% of a core")
    print(f"  -> {int(1 / per_call)} calls per core (media plane only, at 50 packets/s/leg)")
    print(f"packets returned: {returned} of {ticks * len(sessions)}")
    await engine.close()
    load.close()
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    uvloop.install()
    asyncio.run(run(args.calls, args.seconds, not args.no_record))


if __name__ == "__main__":
    main()
