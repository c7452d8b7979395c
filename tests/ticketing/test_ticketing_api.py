"""The ticketing HTTP API as the desktop uses it: search, book, pay, issue, refund."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from tests.ticketing.conftest import TOMORROW
from tests.ticketing.helpers import PASSENGERS, build_line
from tests.webclient import bearer
from ticketline.app import Application
from ticketline.ticketing.models import Trip


async def test_an_agent_sells_a_ticket_end_to_end(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    line = await build_line(demo_app.ticketing, TOMORROW)
    await demo_app.notify.install_default_templates()
    agent = await bearer(client, "agent1")
    found = await client.get(
        "/api/ticketing/search",
        headers=agent,
        params={"from": "TJP", "to": "SHH", "date": TOMORROW.isoformat()},
    )
    assert found.status_code == 200, found.text
    trip = found.json()[0]
    assert trip["trip_id"] == line.trips[0]
    body = {
        "trip_id": trip["trip_id"],
        "from_station": "TJP",
        "to_station": "SHH",
        "class_code": "second",
        "passengers": [{"name": PASSENGERS[0][0], "id_number": PASSENGERS[0][1]}],
        "contact_name": "张三",
        "contact_phone": "138 0013 8000",
        "preference": "window",
    }
    booked = await client.post("/api/ticketing/orders", headers=agent, json=body)
    assert booked.status_code == 201, booked.text
    order = booked.json()["order"]
    assert order["tickets"][0]["seat_no"][-1] in "AF"  # a window seat
    code = order["code"]
    pay = {"amount_fen": order["total_fen"], "method": "cash", "key": "desk-pay-0001"}
    paid = await client.post(f"/api/ticketing/orders/{code}/payments", headers=agent, json=pay)
    assert paid.json()["state"] == "paid"
    issued = await client.post(f"/api/ticketing/orders/{code}/issue", headers=agent)
    assert issued.json()["state"] == "issued"
    quote = await client.get(f"/api/ticketing/orders/{code}/refund-quote", headers=agent)
    assert quote.json()["allowed"] is True
    history = [
        e["action"]
        for e in (await client.get(f"/api/ticketing/orders/{code}", headers=agent)).json()["log"]
    ]
    assert history == ["create", "pay", "issue"]
    admin = await bearer(client, "admin")
    audit = await client.get(
        "/api/admin/audit", headers=admin, params={"entity_type": "tk_order", "entity_id": code}
    )
    assert {e["action"] for e in audit.json()["items"]} == {
        "order.create",
        "order.pay",
        "order.issue",
    }


async def test_bad_bookings_get_a_clear_error_and_write_nothing(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    line = await build_line(demo_app.ticketing, TOMORROW)
    agent = await bearer(client, "agent1")
    body = {
        "trip_id": line.trips[0],
        "from_station": "BJP",
        "to_station": "SHH",
        "class_code": "second",
        "passengers": [{"name": "李四", "id_number": "110105199003071230"}],
        "contact_name": "李四",
        "contact_phone": "13800138000",
    }
    bad_id = await client.post("/api/ticketing/orders", headers=agent, json=body)
    assert bad_id.status_code == 422
    assert bad_id.json()["details"]["field"] == "passengers.0.id_number"
    body["passengers"] = [{"name": "李四", "id_number": PASSENGERS[1][1]}]
    body["class_code"] = "rocket"
    bad_class = await client.post("/api/ticketing/orders", headers=agent, json=body)
    assert bad_class.status_code == 422
    assert bad_class.json()["details"]["errors"][0]["field"] == "class_code"
    past = await client.get(
        "/api/ticketing/search",
        headers=agent,
        params={"from": "BJP", "to": "SHH", "date": (TOMORROW - timedelta(days=2)).isoformat()},
    )
    assert past.status_code == 422
    assert past.json()["details"]["field"] == "date"
    missing = await client.get("/api/ticketing/orders/ZZZZZZ", headers=agent)
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")


async def test_permissions_follow_the_roles(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    station = {
        "code": "XYZ",
        "name_zh": "测试",
        "name_en": "Test",
        "city": "测试",
        "pinyin": "ce shi",
    }
    assert (
        await client.post("/api/ticketing/stations", headers=agent, json=station)
    ).status_code == 403
    assert (await client.get("/api/ticketing/finance/credit", headers=agent)).status_code == 403
    admin = await bearer(client, "admin")
    created = await client.post("/api/ticketing/stations", headers=admin, json=station)
    assert created.status_code == 201
    found = await client.get("/api/ticketing/stations", headers=agent, params={"q": "cs"})
    assert [s["code"] for s in found.json()] == ["XYZ"]
    assert (await client.get("/api/ticketing/fee-rules")).status_code == 401


async def test_the_demo_catalog_answers_the_questions_callers_ask(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    async with demo_app.db.sessions() as session:  # seeded on the day the suite runs
        first = await session.scalar(select(func.min(Trip.service_date)))
    assert first is not None
    day = (first + timedelta(days=1)).isoformat()
    agent = await bearer(client, "agent1")
    found = await client.get("/api/ticketing/stations", headers=agent, params={"q": "shanghai"})
    assert [s["code"] for s in found.json()] == ["AOH"]
    trains = await client.get(
        "/api/ticketing/search",
        headers=agent,
        params={"from": "VNP", "to": "AOH", "date": day},
    )
    assert [t["service"] for t in trains.json()] == ["G1", "G5", "G9"]
    coaches = await client.get(
        "/api/ticketing/search",
        headers=agent,
        params={"from": "BDK", "to": "SJK", "date": day},
    )
    assert [t["product"] for t in coaches.json()] == ["coach", "coach"]
