"""Databases and synthetic catalogs for the ticketing benchmarks (not a benchmark itself)."""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url

from ticketline.admin.security import SYSTEM
from ticketline.core.bus import EventBus
from ticketline.core.clock import FixedClock
from ticketline.db import migrate
from ticketline.db.session import Database
from ticketline.ticketing.schemas import (
    DistanceFareIn,
    LayoutIn,
    OperatorIn,
    RouteIn,
    SeatIn,
    StationIn,
    StopIn,
    TimetableIn,
)
from ticketline.ticketing.service import TicketingService

ZONE = ZoneInfo("Asia/Shanghai")
PG_ADMIN_URL = os.environ.get(
    "TICKETLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[Database]:
    """A fresh migrated database: a temporary SQLite file or a temporary PostgreSQL one."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            await migrate.upgrade(db)
            try:
                yield db
            finally:
                await db.dispose()
        return
    name = f"ticketline_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_ADMIN_URL)
    await _pg(admin, f'CREATE DATABASE "{name}"')
    db = Database(admin.set(database=name).render_as_string(hide_password=False))
    try:
        await migrate.upgrade(db)
        yield db
    finally:
        await db.dispose()
        await _pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _pg(url: object, statement: str) -> None:
    u = make_url(str(url)) if not hasattr(url, "host") else url
    conn = await asyncpg.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def service(db: Database, now: datetime) -> TicketingService:
    return TicketingService(db, FixedClock(now), EventBus(), ZONE)


def seats(count: int) -> list[SeatIn]:
    letters = (("A", "window"), ("B", "middle"), ("C", "aisle"), ("D", "aisle"), ("F", "window"))
    first = count // 10
    return [
        SeatIn(
            seat_no=f"{i // 5 + 1:02d}{letters[i % 5][0]}",
            class_code="first" if i < first else "second",
            section=str(i // 100 + 1),
            row=i // 5 + 1,
            position=letters[i % 5][1],  # type: ignore[arg-type]
        )
        for i in range(count)
    ]


async def network(
    tk: TicketingService,
    day: date,
    *,
    stations: int,
    routes: int,
    stops: int,
    departures: int,
    seats_per_trip: int,
    seed: int = 1,
) -> list[tuple[str, str]]:
    """`routes` lines over `stations` stations, `departures` trips each on `day`;
    returns station pairs that some route serves in order."""
    rng = random.Random(seed)
    await tk.install_defaults()
    await tk.catalog.create_operator(
        SYSTEM, OperatorIn(code="bench", name_zh="基准铁路", name_en="Bench Rail", product="rail")
    )
    for i in range(stations):
        await tk.catalog.create_station(
            SYSTEM,
            StationIn(
                code=f"S{i:03d}",
                name_zh=f"站{i}",
                name_en=f"Station {i}",
                city="城",
                pinyin="zhan " + "".join("abcdefghij"[int(c)] for c in f"{i:03d}"),
            ),
        )
    await tk.catalog.create_layout(
        SYSTEM, LayoutIn(code="train", name="train", seats=seats(seats_per_trip))
    )
    pairs: list[tuple[str, str]] = []
    for r in range(routes):
        chosen = rng.sample(range(stations), stops)
        codes = [f"S{i:03d}" for i in chosen]
        route_stops = [
            StopIn(station=c, arrive_min=40 * k, depart_min=40 * k + (2 if k else 0), km=60 * k)
            for k, c in enumerate(codes)
        ]
        await tk.catalog.create_route(
            SYSTEM,
            RouteIn(
                code=f"R{r}", operator="bench", name=f"R{r}", product="rail", stops=route_stops
            ),
        )
        for cls, per_km in (("second", 45), ("first", 75)):
            await tk.fares.set_distance_fares(
                SYSTEM,
                DistanceFareIn(route=f"R{r}", class_code=cls, base_fen=500, fen_per_km=per_km),
            )
        for d in range(departures):
            minute = 6 * 60 + d * (16 * 60 // departures)
            await tk.catalog.add_timetable(
                SYSTEM,
                TimetableIn(
                    route=f"R{r}",
                    layout="train",
                    service=f"R{r}D{d}",
                    departs_local=f"{minute // 60:02d}:{minute % 60:02d}",
                    valid_from=day,
                    valid_to=day,
                ),
            )
        pairs.extend((codes[a], codes[b]) for a in range(stops) for b in range(a + 1, stops))
    return pairs
