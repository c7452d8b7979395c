"""IVR speed on real calls: key press to first audio of the answer.

    uv run python bench/bench_ivr_latency.py --calls 20

One process runs Ticketline's SIP, media and IVR on loopback (SQLite); SIPp
places each call to the hotline and a test socket plays the phone: it keys
RFC 4733 digits and timestamps every RTP packet the server sends. For each key
the latency runs from the first event packet sent to the arrival of the next
prompt's first frame (found by matching its cached WAV, frame for frame).

- cached: menu key -> next prompt (departure station, arrival station, read-back);
- lookup: date confirmed -> timetable look-up on the ticketing database and the
  answer spoken by espeak-ng for the first time (its cache entry is deleted first).
Prints p50 / p99 / max in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.telephony.conftest import TRUNK_IP, start_sip_app, stop_sip_app
from tests.telephony.media_peer import RtpPeer, random_range, wait_for
from tests.telephony.sip_peers import Sipp
from tests.ticketing.helpers import build_line

from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.db import migrate
from ticketline.db.session import Database
from ticketline.ivr.actions import ActionContext
from ticketline.ivr.prompts import PromptCache
from ticketline.ivr.telephony_adapter import install
from ticketline.media import g711
from ticketline.media.dtmf import DtmfSender
from ticketline.media.wav import read_wav

SHANGHAI = ZoneInfo("Asia/Shanghai")


class TimedPeer(RtpPeer):
    """An RtpPeer that notes when each packet arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.arrivals.append(time.perf_counter())
        super().datagram_received(data, addr)


def first_audio(path: Path) -> tuple[bytes, int]:
    """The µ-law payload of a prompt's first non-silent frame, and that frame's index."""
    pcm = read_wav(path)
    frames = [pcm[i : i + 160] for i in range(0, len(pcm) - 159, 160)]
    index = next(i for i, f in enumerate(frames) if np.abs(f).max() > 300)
    return g711.ulaw_encode_array(frames[index]).tobytes(), index


async def press(peer: TimedPeer, sender: DtmfSender, keys: str, to: tuple[str, int]) -> float:
    """Send `keys`; return when the last key's first packet left."""
    started = 0.0
    for key in keys:
        for n, packet in enumerate(sender.packets(key, peer.seq, peer.ts)):
            if n == 0:
                started = time.perf_counter()
            peer.send_raw(packet.serialize(), to)
            await asyncio.sleep(0.02)
        peer.seq = (peer.seq + 8) & 0xFFFF
        peer.ts = (peer.ts + 1600) & 0xFFFFFFFF
        await asyncio.sleep(0.04)
    return started


async def heard_at(peer: TimedPeer, since: int, prompt: Path, wait_s: float = 15) -> float:
    """When the frame-0 of `prompt` arrived (its first non-silent frame minus its offset)."""
    deadline = time.perf_counter() + wait_s
    while not await asyncio.to_thread(prompt.exists):  # rendered while the call waits
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{prompt.name} never rendered")
        await asyncio.sleep(0.005)
    payload, index = first_audio(prompt)
    while time.perf_counter() < deadline:
        for n in range(since, len(peer.received)):
            if peer.received[n].payload == payload:
                return peer.arrivals[n] - index * 0.020
        await asyncio.sleep(0.005)
    raise TimeoutError(f"never heard {prompt.name}")


async def one_call(app: Application, when: datetime, work: Path) -> tuple[list[float], float]:
    cache = app.ivr.prompts
    assert isinstance(cache, PromptCache)
    flow = app.ivr.flows.get("hotline")
    texts = {p: flow.definition.prompts[p].en for p in ("from_station", "to_station")}
    day = when.date().isoformat()
    answer = await app.ivr.actions.call(
        "timetable",
        ActionContext("b", "1", "en", when),
        {"origin": "256", "destination": "7447", "date": day},
    )
    reply = cache.cached_path(answer.values["reply"]["en"], "en")  # type: ignore[index]
    reply.unlink(missing_ok=True)  # the answer must be spoken afresh
    peer = await TimedPeer.open()
    sender = DtmfSender(ssrc=peer.ssrc, payload_type=101)
    fill = {"rtp_port": str(peer.address[1]), "codec": "0", "middle": ""}
    sipp = Sipp(f"127.0.0.1:{app.sip.port}", "media_uac.xml", ip=TRUNK_IP, fill=fill,
                extra=("-s", "95105"), workdir=work)  # fmt: skip
    await sipp.start()
    try:
        await wait_for(lambda: bool(app.control.channels), timeout=10)
        channel = next(iter(app.control.channels.values()))
        server = (channel.session.local_host, channel.session.port)
        await wait_for(lambda: len(peer.received) > 5, timeout=10)
        await press(peer, sender, "2", server)
        await asyncio.sleep(0.5)  # the main menu is playing
        cached = []
        for keys, prompt in (("1", texts["from_station"]), ("256#", texts["to_station"])):
            mark = len(peer.received)
            sent = await press(peer, sender, keys, server)
            cached.append(await heard_at(peer, mark, cache.cached_path(prompt, "en")) - sent)
            await asyncio.sleep(0.3)
        await press(peer, sender, "7447#" + when.strftime("%Y%m%d") + "#", server)
        await asyncio.sleep(0.5)  # the read-back is playing
        mark = len(peer.received)
        sent = await press(peer, sender, "1", server)
        lookup = await heard_at(peer, mark, reply) - sent
        await channel.hangup()
        await sipp.wait()
    finally:
        sipp.kill()
        peer.close()
    return cached, lookup


def report(name: str, values: list[float]) -> None:
    ms = np.array(values) * 1000
    print(f"{name:8s} n={len(ms):3d}  p50 {np.percentile(ms, 50):6.1f} ms  "
          f"p99 {np.percentile(ms, 99):6.1f} ms  max {ms.max():6.1f} ms")  # fmt: skip


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        db = Database(url)
        await migrate.upgrade(db)
        await db.dispose()
        ports = random_range(400)
        app = await start_sip_app(
            url, work / "var", rtp_port_first=ports.first, rtp_port_last=ports.last
        )
        await app.media.start()
        when = datetime.now(SHANGHAI).replace(hour=10, minute=0) + timedelta(days=2)
        await build_line(app.ticketing, when.date())
        app.ivr.clock = FixedClock(when)
        install(app.control, app.ivr)
        assert isinstance(app.ivr.prompts, PromptCache)
        await app.ivr.prompts.render_flow(app.ivr.flows.get("hotline"))
        cached: list[float] = []
        lookups: list[float] = []
        try:
            for _ in range(calls):
                menu, lookup = await one_call(app, when, work)
                cached += menu
                lookups.append(lookup)
        finally:
            await app.control.close()
            await stop_sip_app(app)
        report("cached", cached)
        report("lookup", lookups)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    asyncio.run(main(parser.parse_args().calls))
