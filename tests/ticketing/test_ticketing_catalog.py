"""Catalog and timetable search: what an agent or the IVR sees for a journey."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from tests.ticketing.conftest import TOMORROW
from tests.ticketing.helpers import Line, booking
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.errors import InvalidInput, TicketlineError
from ticketline.ticketing.errors import CatalogNotFound, CodeTaken
from ticketline.ticketing.models import Station
from ticketline.ticketing.schemas import (
    FareIn,
    RouteIn,
    StationIn,
    StopIn,
    TimetableIn,
    TripOption,
)
from ticketline.ticketing.search import CatalogSnapshots


async def test_search_lists_trips_with_times_fares_and_seats(
    application: Application, line: Line
) -> None:
    found = await application.ticketing.timetable("TJP", "JNK", TOMORROW)
    assert len(found) == 1
    trip = found[0]
    assert trip.service == "G1"
    assert trip.from_station == "天津西"
    assert trip.to_station == "济南西"
    # 08:00 Shanghai is 00:00 UTC; Tianjin West departs 37 minutes later.
    assert trip.departs_at.isoformat() == "2026-11-23T00:37:00+00:00"
    assert trip.duration_min == 90 - 37
    classes = {c.class_code: c for c in trip.classes}
    assert classes["second"].seats_left == 20
    assert classes["first"].seats_left == 4
    # 5 yuan + 0.45 yuan/km x 270 km = 126.5 yuan.
    assert classes["second"].fare_fen == 12650
    assert [c.class_code for c in trip.classes] == ["first", "second"]


async def test_search_goes_one_way_and_refuses_bad_dates(
    application: Application, line: Line
) -> None:
    assert await application.ticketing.timetable("JNK", "TJP", TOMORROW) == []
    assert await application.ticketing.timetable("BJP", "SHH", TOMORROW + timedelta(days=5)) == []
    with pytest.raises(InvalidInput) as past:
        await application.ticketing.timetable("BJP", "SHH", date(2026, 11, 21))
    assert past.value.details["field"] == "date"
    with pytest.raises(CatalogNotFound) as unknown:
        await application.ticketing.timetable("BJP", "XXX", TOMORROW)
    assert unknown.value.details["field"] == "to"


async def test_cancelled_trips_leave_the_search(application: Application, line: Line) -> None:
    await application.ticketing.catalog.cancel_trip(SYSTEM, line.trips[0])
    assert await application.ticketing.timetable("BJP", "SHH", TOMORROW) == []
    later = await application.ticketing.timetable("BJP", "SHH", TOMORROW + timedelta(days=1))
    assert len(later) == 1


async def test_customers_of_a_cancelled_trip_are_texted_once(
    application: Application, line: Line
) -> None:
    await application.notify.install_default_templates()
    orders = application.ticketing.orders
    on_it = (await orders.book(SYSTEM, booking(line.trips[0], 2))).order.code
    other = (await orders.book(SYSTEM, booking(line.trips[1], 1))).order.code

    async def notices(code: str) -> list[str]:
        return [sms.body for sms in await application.notify.outbox(ref=code) if "取消" in sms.body]

    await application.ticketing.catalog.cancel_trip(SYSTEM, line.trips[0])
    [notice] = await notices(on_it)
    assert on_it in notice
    assert "免手续费" in notice
    assert await notices(other) == []
    await application.ticketing.catalog.cancel_trip(SYSTEM, line.trips[0])
    assert len(await notices(on_it)) == 1


async def test_stations_are_found_by_pinyin_initials_and_name(
    application: Application, line: Line
) -> None:
    async def codes(text: str) -> list[str]:
        return [s.code for s in await application.ticketing.find_stations(text)]

    assert await codes("bjn") == ["BJP"]
    assert await codes("shanghai") == ["SHH"]
    assert await codes("Shang Hai") == ["SHH"]
    assert await codes("济南") == ["JNK"]
    assert await codes("tianjin east") == []
    assert await codes("Tianjin") == ["TJP"]
    assert await codes("%") == []


async def test_bad_catalog_input_names_the_field(application: Application, line: Line) -> None:
    catalog = application.ticketing.catalog
    with pytest.raises(CodeTaken):
        await catalog.create_station(
            SYSTEM,
            StationIn(
                code="BJP", name_zh="北京", name_en="Beijing", city="北京", pinyin="bei jing"
            ),
        )
    stops = [
        StopIn(station="BJP", arrive_min=0, depart_min=0, km=0),
        StopIn(station="TJP", arrive_min=30, depart_min=30, km=100),
    ]
    with pytest.raises(CatalogNotFound) as no_operator:
        await catalog.create_route(
            SYSTEM, RouteIn(code="X", operator="nobody", name="x", product="rail", stops=stops)
        )
    assert no_operator.value.details["field"] == "operator"
    backwards = [stops[1], stops[0]]
    with pytest.raises(TicketlineError) as bad_times:
        await catalog.create_route(
            SYSTEM, RouteIn(code="Y", operator="crh", name="y", product="rail", stops=backwards)
        )
    assert "stops" in bad_times.value.message


async def test_search_costs_the_same_queries_however_many_trips(
    application: Application, line: Line
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async def queries_for_search() -> int:
        statements.clear()
        event.listen(application.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            await application.ticketing.timetable("BJP", "SHH", TOMORROW)
        finally:
            event.remove(application.db.engine.sync_engine, "before_cursor_execute", count)
        return len(statements)

    first = await queries_for_search()  # also reads the catalog snapshot
    few = await queries_for_search()
    assert few < first
    for hour in range(9, 21):
        await application.ticketing.catalog.add_timetable(
            SYSTEM,
            TimetableIn(
                route="G1-line",
                layout="G1-train",
                service=f"G{hour}",
                departs_local=f"{hour:02d}:00",
                valid_from=TOMORROW,
                valid_to=TOMORROW,
            ),
        )
    assert len(await application.ticketing.timetable("BJP", "SHH", TOMORROW)) == 13
    assert await queries_for_search() == few <= 2  # the day's trips, their seats left


async def test_a_catalog_edit_shows_in_the_next_search(
    application: Application, line: Line
) -> None:
    def fare_of(found: list[TripOption]) -> int | None:
        return {c.class_code: c.fare_fen for c in found[0].classes}["second"]

    assert fare_of(await application.ticketing.timetable("TJP", "JNK", TOMORROW)) == 12650
    await application.ticketing.fares.set_fare(
        SYSTEM,
        FareIn(
            route="G1-line", class_code="second", from_station="TJP", to_station="JNK",
            amount_fen=9900,
        ),
    )  # fmt: skip
    assert fare_of(await application.ticketing.timetable("TJP", "JNK", TOMORROW)) == 9900
    with pytest.raises(CatalogNotFound):
        await application.ticketing.timetable("XZD", "SHH", TOMORROW)
    await application.ticketing.catalog.create_station(
        SYSTEM,
        StationIn(code="XZD", name_zh="徐州东", name_en="Xuzhou East", city="徐州",
                  pinyin="xu zhou dong"),
    )  # fmt: skip
    assert await application.ticketing.timetable("XZD", "SHH", TOMORROW) == []  # known now


async def test_an_edit_made_elsewhere_shows_after_the_snapshot_ages(
    application: Application, line: Line
) -> None:
    snapshots = CatalogSnapshots(application.db, ttl=0.0)
    assert "XZD" not in (await snapshots.current()).stations
    async with application.db.transaction() as session:  # another process's write
        session.add(Station(code="XZD", name_zh="徐州东", name_en="Xuzhou East", city="徐州",
                            pinyin="xuzhoudong", initials="xzd"))  # fmt: skip
    stale = await snapshots.current()  # served at once, while a fresh one loads
    assert "XZD" not in stale.stations
    for _ in range(100):
        if "XZD" in (await snapshots.current()).stations:
            break
        await asyncio.sleep(0.01)
    assert "XZD" in (await snapshots.current()).stations
