# ruff: noqa: S608, S108  (SQL built from integers only; a scratch file in /tmp)
"""Caller lookup (the screen pop) against a large customer base.

    uv run python bench/bench_crm_lookup.py --backend postgres --customers 1000000
    uv run python bench/bench_crm_lookup.py --backend sqlite --customers 1000000

Fills a scratch database (kept between runs: `--refill` to rebuild) with customers,
one or two phones each, timeline entries, open orders and open work orders, then
times `CustomerService.lookup_caller` (number normalisation + both statements) for
random known numbers and some unknown ones. Prints p50/p95/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ticketline.core.bus import EventBus
from ticketline.core.clock import SystemClock
from ticketline.crm.service import CustomerService
from ticketline.db import migrate
from ticketline.db.session import Database

PG_ADMIN = os.environ.get(
    "TICKETLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PG_NAME = "ticketline_bench_crm"
SQLITE_PATH = Path("/tmp/ticketline_bench_crm.db")


def series(backend: str, n: int) -> str:
    """A row source `s(i)` of 1..n in either dialect."""
    if backend == "postgres":
        return f"generate_series(1, {n}) AS s(i)"
    return (
        "(WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g"
        f" WHERE i < {n}) SELECT i FROM g) AS s"
    )


def fill_statements(backend: str, n: int, per_customer: int) -> list[str]:
    pg = backend == "postgres"
    cid = "lpad(i::text, 32, '0')" if pg else "printf('%032d', i)"
    pid = "lpad(i::text, 31, '0')" if pg else "printf('%031d', i)"
    tid = "lpad((i / {k})::text, 32, '0')" if pg else "printf('%032d', i / {k})"
    mobile = "'+86138' || lpad(i::text, 8, '0')" if pg else "'+86138' || printf('%08d', i)"
    land = "'+86216' || lpad(i::text, 7, '0')" if pg else "'+86216' || printf('%07d', i)"
    now = "now()" if pg else "'2026-11-22 02:00:00.000000'"
    ago = (
        "now() - (i % 5000) * interval '1 hour'"
        if pg
        else "strftime('%Y-%m-%d %H:%M:%f', '2026-11-22 02:00:00', '-' || (i % 5000) || ' hours')"
    )
    tier = "CASE WHEN i % 50 = 0 THEN 'tier-gold' WHEN i % 10 = 0 THEN 'tier-silver' END"
    false, true = ("false", "true") if pg else ("0", "1")
    return [
        "INSERT INTO vip_tier VALUES"
        f" ('tier-gold', 'gold', '金卡', 'Gold', 2, 5, {true}, 150, {now}),"
        f" ('tier-silver', 'silver', '银卡', 'Silver', 1, 2, {false}, 120, {now})",
        "INSERT INTO customer (id, name, gender, locale, preferences, tags, notes, vip_tier_id,"
        " do_not_call, status, points_balance, created_at, updated_at, last_contact_at)"
        f" SELECT {cid}, 'Customer ' || i, 'U', 'zh_CN', '{{}}', '[]', '', {tier}, {false},"
        f" 'active', i % 3000, {now}, {now}, {ago} FROM {series(backend, n)}",
        f"INSERT INTO customer_phone SELECT 'm' || {pid}, {cid}, {mobile}, 'mobile', {true}"
        f" FROM {series(backend, n)}",
        f"INSERT INTO customer_phone SELECT 'l' || {pid}, {cid}, {land}, 'home', {false}"
        f" FROM {series(backend, n)} WHERE i % 4 = 0",
        "INSERT INTO timeline_entry (customer_id, at, kind, title, detail, ref_type, ref_id,"
        f" actor_name) SELECT {tid.format(k=per_customer)}, {ago}, 'call', 'Call', '{{}}',"
        f" 'call', 'c' || i, 'agent1' FROM {series(backend, n * per_customer)}"
        f" WHERE i >= {per_customer}",
        "INSERT INTO customer_open_item (customer_id, kind, ref_id, code, state, title,"
        f" amount_fen, updated_at) SELECT {cid}, 'order', 'o' || i, 'K' || i, 'paid',"
        f" 'Shanghai - Hangzhou', 12000, {ago} FROM {series(backend, n)} WHERE i % 5 = 0",
        "INSERT INTO customer_open_item (customer_id, kind, ref_id, code, state, title,"
        f" amount_fen, updated_at) SELECT {cid}, 'work_order', 'w' || i, 'WO-' || i,"
        f" 'in_progress', 'Complaint', NULL, {ago} FROM {series(backend, n)} WHERE i % 10 = 0",
    ]


async def prepare(backend: str, n: int, per_customer: int, refill: bool) -> str:
    if backend == "postgres":
        url = make_url(PG_ADMIN)
        admin = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_NAME)
        if exists and refill:
            await admin.execute(f'DROP DATABASE "{PG_NAME}" WITH (FORCE)')
        if not exists or refill:
            await admin.execute(f'CREATE DATABASE "{PG_NAME}"')
        await admin.close()
        target = url.set(database=PG_NAME).render_as_string(hide_password=False)
        fresh = not exists or refill
    else:
        fresh = refill or not await asyncio.to_thread(SQLITE_PATH.exists)
        if refill:
            await asyncio.to_thread(SQLITE_PATH.unlink, missing_ok=True)
        target = f"sqlite+aiosqlite:///{SQLITE_PATH}"
    if fresh:
        await fill(target, backend, n, per_customer)
    return target


async def fill(url: str, backend: str, n: int, per_customer: int) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        for statement in fill_statements(backend, n, per_customer):
            await conn.execute(text(statement))
    async with db.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    print(f"filled {n:,} customers in {time.perf_counter() - started:.0f} s")
    await db.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def measure(url: str, n: int, lookups: int) -> None:
    db = Database(url)
    crm = CustomerService(db, SystemClock(), EventBus())
    rng = random.Random(7)
    numbers = [f"138{rng.randint(1, n):08d}" for _ in range(lookups)]
    numbers += [f"137{rng.randint(1, n):08d}" for _ in range(lookups // 10)]  # new callers
    rng.shuffle(numbers)
    for number in numbers[:200]:  # warm the pool and the caches
        await crm.lookup_caller(number)
    timings, known, items = [], 0, 0
    for number in numbers:
        started = time.perf_counter()
        found = await crm.lookup_caller(number)
        timings.append((time.perf_counter() - started) * 1000)
        known += found.known
        items += len(found.last_contacts) + len(found.open_orders) + len(found.open_work_orders)
    print(
        f"{len(timings)} lookups ({known} known, {items / max(known, 1):.1f} rows each): "
        f"p50 {statistics.median(timings):.2f} ms, p95 {percentile(timings, 95):.2f} ms, "
        f"p99 {percentile(timings, 99):.2f} ms, max {max(timings):.2f} ms"
    )
    await crm.close()
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--timeline-per-customer", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=5000)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    url = asyncio.run(
        prepare(args.backend, args.customers, args.timeline_per_customer, args.refill)
    )
    asyncio.run(measure(url, args.customers, args.lookups))


if __name__ == "__main__":
    main()
