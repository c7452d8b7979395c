"""Timetable search latency with seats left; run: uv run python bench/bench_ticketing_search.py

Builds a rail network with 2,000 trips on the searched day (100 routes of 8 stops
over 40 stations, 20 departures each, 100 seats per trip = 200,000 seat rows),
sells a share of the seats on random segments, analyzes the tables (as autovacuum
would), then times timetable searches
between random station pairs that some route serves (the query the IVR and the
desktop make: trips, times, fares and seats left by class). Prints p50/p99/max
and the trips found per search, on SQLite and PostgreSQL. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime

from sqlalchemy import text, update

from ticketing_fixtures import database, network, service
from ticketline.db.session import Database
from ticketline.ticketing.models import TripSeat

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)


async def analyze(db: Database) -> None:
    """Table statistics, as autovacuum (or a nightly ANALYZE) keeps them in production:
    without them the planner guesses on a just-filled table and scans it whole."""
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE"))


async def run(kind: str, searches: int) -> None:
    async with database(kind) as db:
        tk = service(db, NOW)
        started = time.perf_counter()
        pairs = await network(
            tk, DAY, stations=40, routes=100, stops=8, departures=20, seats_per_trip=100
        )
        async with db.transaction() as session:  # a third of the seats sold on some legs
            await session.execute(
                update(TripSeat).where(TripSeat.id % 3 == 0).values(legs=TripSeat.id % 127)
            )
        await analyze(db)
        built = time.perf_counter() - started
        rng = random.Random(3)
        for a, b in rng.sample(pairs, 20):  # warm caches and connections
            await tk.timetable(a, b, DAY)
        timings, found = [], []
        for _ in range(searches):
            a, b = rng.choice(pairs)
            t0 = time.perf_counter()
            trips = await tk.timetable(a, b, DAY)
            timings.append((time.perf_counter() - t0) * 1000)
            found.append(len(trips))
        timings.sort()
        p99 = timings[int(len(timings) * 0.99) - 1]
        print(
            f"{kind:8s} 2000 trips/day, {searches} searches (catalog built in {built:.0f} s): "
            f"p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms, max {timings[-1]:.1f} ms; "
            f"trips per answer avg {statistics.mean(found):.1f}, max {max(found)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--searches", type=int, default=1000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        asyncio.run(run(kind, args.searches))


if __name__ == "__main__":
    main()
