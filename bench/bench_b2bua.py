"""B2BUA call rate: SIPp uac (a carrier on 127.0.0.2) -> Ticketline -> SIPp uas (a phone).

The uas registers as extension 1002 with digest auth, then SIPp places calls of
``--hold`` seconds at each ``--rates`` value. Prints, per rate: calls attempted,
succeeded and failed (SIPp's own counts), calls/s achieved, the highest number of
calls up at once in the server, and the CPU the server process used. CDRs go to a
real SQLite database as in production.

    uv run python bench/bench_b2bua.py --rates 100 150 --calls 10000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gc
import logging
import resource
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ticketline.admin.schemas import ExtensionCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application, build_application
from ticketline.config import Settings
from ticketline.core.clock import SystemClock
from ticketline.core.gc_tuning import tune_gc
from ticketline.db import migrate
from ticketline.telephony.schemas import TrunkIn

SCENARIOS = Path(__file__).resolve().parent.parent / "tests" / "telephony" / "scenarios"
PASSWORD = "bench-phone-42"  # noqa: S105 (a throwaway extension in a temp database)
CARRIER_IP = "127.0.0.2"


@dataclass
class Result:
    rate: int
    calls: int
    succeeded: int
    failed: int
    placed_rate: float
    setup_ms: float
    call_seconds: float
    max_concurrent: int
    server_cpu: float
    sipp_cpu: float
    cdr_rows: int

    def line(self) -> str:
        return (
            f"rate {self.rate:>4}/s  calls {self.calls:>6}  ok {self.succeeded:>6}  "
            f"failed {self.failed:>4}  placed {self.placed_rate:6.1f} calls/s  "
            f"INVITE->200 avg {self.setup_ms:6.1f} ms  call length avg {self.call_seconds:5.2f} s  "
            f"max concurrent {self.max_concurrent:>5}  server CPU {self.server_cpu:5.1f}% "
            f"of one core  SIPp CPU {self.sipp_cpu:5.1f}%  CDR rows {self.cdr_rows}"
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_app(workdir: Path) -> Application:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=url, var_dir=workdir / "var", sip_port=0)
    app = build_application(settings, clock=SystemClock())
    await migrate.upgrade(app.db)
    await app.admin.create_extension(SYSTEM, ExtensionCreate(number="1002", password=PASSWORD))
    await app.trunks.create(
        SYSTEM,
        TrunkIn(name="carrier", host=CARRIER_IP, inbound_sources=[f"{CARRIER_IP}/32"]),
    )
    await app.cdr.start(app.clock.now())
    await app.start_sip()
    gc.freeze()  # as Application.start_workers does: startup objects never need collecting
    tune_gc()
    return app


async def sipp(*args: str, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "sipp", *args, "-nostdin", cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def register_phone(target: str, phone_port: int, workdir: Path) -> None:
    scenario = workdir / "register.xml"
    scenario.write_text((SCENARIOS / "register.xml").read_text().replace("{expect}", "200"))
    process = await sipp(
        target, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1",
        "-key", "user", "1002", "-key", "contact_port", str(phone_port),
        "-key", "expires", "7200", "-au", "1002", "-ap", PASSWORD, cwd=workdir,
    )  # fmt: skip
    if await process.wait() != 0:
        raise SystemExit("the phone could not register")


def sipp_stats(stat_file: Path) -> dict[str, str]:
    """The last (cumulative) row of SIPp's -trace_stat file."""
    with stat_file.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))[-1]


def seconds_of(value: str) -> float:
    """SIPp's ``HH:MM:SS:microseconds`` durations in seconds."""
    hours, minutes, secs, micros = (int(part) for part in value.split(":"))
    return hours * 3600 + minutes * 60 + secs + micros / 1e6


async def run_rate(app: Application, rate: int, calls: int, hold: float, workdir: Path) -> Result:
    target = f"127.0.0.1:{app.sip.port}"
    phone_port = free_port()
    await register_phone(target, phone_port, workdir)
    phone = await sipp(target, "-sn", "uas", "-i", "127.0.0.1", "-p", str(phone_port),
                       "-mp", str(free_port()), cwd=workdir)  # fmt: skip
    await asyncio.sleep(0.5)
    stat_file = workdir / f"uac-{rate}.csv"
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    caller = await sipp(
        target, "-sn", "uac", "-i", CARRIER_IP, "-p", str(free_port()), "-s", "1002",
        "-r", str(rate), "-m", str(calls), "-d", str(int(hold * 1000)), "-l", "5000",
        "-mp", str(free_port()), "-trace_stat", "-stf", str(stat_file), "-fd", "1",
        "-trace_err", "-error_file", str(workdir / f"uac-{rate}.err"),
        "-recv_timeout", "40000", cwd=workdir,  # a call stuck 40 s counts as failed
    )  # fmt: skip
    peak = 0
    while caller.returncode is None:
        peak = max(peak, app.sip.active_legs // 2)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(caller.wait(), 0.2)
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    phone.terminate()
    await phone.wait()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - started
    stats = sipp_stats(stat_file)
    succeeded, failed = int(stats["SuccessfulCall(C)"]), int(stats["FailedCall(C)"])
    if failed:
        errors = (workdir / f"uac-{rate}.err").read_text(errors="replace")
        print(errors[:3000], flush=True)
    await app.cdr.drain()
    return Result(
        rate, calls, succeeded, failed, float(stats["CallRate(C)"]),
        seconds_of(stats["ResponseTime1(C)"]) * 1000, seconds_of(stats["CallLength(C)"]), peak,
        100 * _cpu(usage_after, usage_before) / wall,
        100 * _cpu(children_after, children_before) / wall,
        await _cdr_rows(app),
    )  # fmt: skip


def _cpu(after: resource.struct_rusage, before: resource.struct_rusage) -> float:
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


async def _cdr_rows(app: Application) -> int:
    from sqlalchemy import func, select

    from ticketline.telephony.models import CallRecord

    async with app.db.sessions() as session:
        return int(await session.scalar(select(func.count(CallRecord.id))) or 0)


async def main(rates: list[int], calls: int, hold: float) -> None:
    if shutil.which("sipp") is None:
        raise SystemExit("SIPp (package sip-tester) is not installed")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = await start_app(workdir)
        try:
            for rate in rates:
                result = await run_rate(app, rate, calls, hold, workdir)
                print(result.line(), flush=True)
                await asyncio.sleep(hold + 2)
        finally:
            await app.sip.stop()
            await app.cdr.stop()
            await app.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 150])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--hold", type=float, default=5.0, help="seconds each call lasts")
    parser.add_argument("--no-uvloop", action="store_true")
    options = parser.parse_args()
    if options.no_uvloop:
        asyncio.run(main(options.rates, options.calls, options.hold))
    else:
        import uvloop

        uvloop.run(main(options.rates, options.calls, options.hold))
