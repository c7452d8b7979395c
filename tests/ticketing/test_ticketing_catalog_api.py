"""Reading the catalog, fares and promotions back, as the admin pages do; who may."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.ticketing.conftest import TOMORROW
from tests.ticketing.helpers import Line, build_line
from tests.webclient import bearer, browser_login
from ticketline.app import Application

API = "/api/ticketing"


async def test_the_catalog_reads_back_what_was_built(application: Application, line: Line) -> None:
    catalog, fares = application.ticketing.catalog, application.ticketing.fares
    (route,) = await catalog.routes()
    assert (route.code, route.operator, route.product) == ("G1-line", "crh", "rail")
    assert [(s.station, s.km) for s in route.stops] == [
        ("BJP", 0), ("TJP", 130), ("JNK", 400), ("SHH", 1300)
    ]  # fmt: skip
    (layout,) = await catalog.layouts()
    assert layout.seats == {"first": 4, "second": 20}
    (trip,) = await catalog.trips_on(TOMORROW, "G1-line")
    assert (trip.service, trip.status, trip.departs_at.isoformat()) == (
        "G1", "scheduled", "2026-11-23T08:00:00+08:00"
    )  # fmt: skip
    table = await fares.fare_table("G1-line")
    second = {
        (f.from_station, f.to_station): f.amount_fen
        for f in table.fares
        if f.class_code == "second"
    }
    assert len(second) == 6
    assert second["BJP", "TJP"] == 500 + 45 * 130


async def test_an_editor_sees_a_cancelled_trip_and_a_new_fare(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    line = await build_line(demo_app.ticketing, TOMORROW)
    admin = await bearer(client, "admin")
    day = {"date": TOMORROW.isoformat(), "route": "G1-line"}
    await client.post(f"{API}/trips/{line.trips[0]}/cancel", headers=admin)
    trips = (await client.get(f"{API}/trips", headers=admin, params=day)).json()
    assert [(t["id"], t["status"]) for t in trips] == [(line.trips[0], "cancelled")]

    fare = {"route": "G1-line", "class_code": "first", "from_station": "TJP",
            "to_station": "JNK", "amount_fen": 12345}  # fmt: skip
    assert (await client.put(f"{API}/fares", headers=admin, json=fare)).status_code == 200
    table = (await client.get(f"{API}/routes/G1-line/fares", headers=admin)).json()
    assert [s["station"] for s in table["stops"]] == ["BJP", "TJP", "JNK", "SHH"]
    assert {"class_code": "first", "from_station": "TJP", "to_station": "JNK",
            "amount_fen": 12345} in table["fares"]  # fmt: skip

    stations = (await client.get(f"{API}/stations", headers=admin)).json()
    assert {"BJP", "SHH", "VNP"} <= {s["code"] for s in stations}  # ours and the demo's
    operators = (await client.get(f"{API}/operators", headers=admin)).json()
    assert {"code": "crh", "name_zh": "中国铁路", "name_en": "China Railway",
            "product": "rail"} in operators  # fmt: skip
    layouts = {
        lay["code"]: lay["seats"]
        for lay in (await client.get(f"{API}/layouts", headers=admin)).json()
    }
    assert layouts["G1-train"] == {"first": 4, "second": 20}


async def test_promotions_of_a_route_include_those_of_every_route(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    await build_line(demo_app.ticketing, TOMORROW)
    admin = await bearer(client, "admin")
    dates = {
        "travel_from": TOMORROW.isoformat(),
        "travel_to": (TOMORROW + timedelta(days=6)).isoformat(),
    }
    for code, route in (("LINE5", "G1-line"), ("ALL3", None), ("COACH8", "LLQ-SJK")):
        body = {"code": code, "name": code, "route": route, "percent_off": 5, **dates}
        assert (await client.post(f"{API}/promotions", headers=admin, json=body)).status_code == 201
    found = (
        await client.get(f"{API}/promotions", headers=admin, params={"route": "G1-line"})
    ).json()
    assert sorted((p["code"], p["route"]) for p in found) == [("ALL3", None), ("LINE5", "G1-line")]
    types = (await client.get(f"{API}/passenger-types", headers=admin)).json()
    assert {"code": "child", "name_zh": "儿童", "name_en": "Child", "percent_off": 50} in types


async def test_reads_refuse_unknown_routes_bad_dates_and_staff_without_ticketing(
    client: httpx.AsyncClient,
) -> None:
    admin = await bearer(client, "admin")
    missing = await client.get(f"{API}/routes/NOPE/fares", headers=admin)
    assert (missing.status_code, missing.json()["details"]["field"]) == (404, "route")
    unknown = await client.get(
        f"{API}/trips", headers=admin, params={"date": "2026-11-23", "route": "NOPE"}
    )
    assert unknown.status_code == 404
    bad_day = await client.get(f"{API}/trips", headers=admin, params={"date": "23/11/2026"})
    assert (bad_day.status_code, bad_day.json()["details"]["errors"][0]["field"]) == (422, "date")
    staff = {"username": "clerk1", "display_name": "文员", "password": "Clerk-pass-2026",
             "roles": ["department_staff"]}  # fmt: skip
    assert (await client.post("/api/admin/staff", json=staff, headers=admin)).status_code == 201
    clerk = await bearer(client, "clerk1", "Clerk-pass-2026")
    for path in ("/operators", "/routes", "/layouts", "/passenger-types", "/promotions"):
        refused = await client.get(API + path, headers=clerk)
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied"), path
    assert (await client.get(f"{API}/routes")).status_code == 401


async def test_agents_see_the_catalog_pages_without_editing_controls(
    client: httpx.AsyncClient,
) -> None:
    await browser_login(client, "agent1")
    assert "/admin/catalog" in (await client.get("/")).text
    for path in ("/admin/catalog", "/admin/fares", "/admin/fee-rules"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert '"canWrite": false' in page.text
    assert 'data-testid="cat-station-form"' not in (await client.get("/admin/catalog")).text
    assert 'data-testid="rules-save"' not in (await client.get("/admin/fee-rules")).text
    client.cookies.clear()
    await browser_login(client, "admin")
    assert 'data-testid="cat-station-form"' in (await client.get("/admin/catalog")).text
