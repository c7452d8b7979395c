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


async def _issued_order(client: httpx.AsyncClient, agent: dict[str, str], trip: str, n: int) -> str:
    body = {
        "trip_id": trip,
        "from_station": "BJP",
        "to_station": "SHH",
        "class_code": "second",
        "passengers": [{"name": PASSENGERS[0][0], "id_number": PASSENGERS[0][1]}],
        "contact_name": "张三",
        "contact_phone": "13800138000",
    }
    order = (await client.post("/api/ticketing/orders", headers=agent, json=body)).json()["order"]
    code = order["code"]
    pay = {"amount_fen": order["total_fen"], "method": "cash", "key": f"gate-pay-{n:04d}"}
    assert (await client.post(f"/api/ticketing/orders/{code}/payments", headers=agent,
                              json=pay)).status_code == 200  # fmt: skip
    assert (await client.post(f"/api/ticketing/orders/{code}/issue", headers=agent)).json()[
        "state"
    ] == "issued"
    return code


async def test_the_gate_checks_tickets_in_once(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    line = await build_line(demo_app.ticketing, TOMORROW)
    agent, admin = await bearer(client, "agent1"), await bearer(client, "admin")
    staff = {"username": "auditor1", "display_name": "审计", "password": "Audit-pass-2026",
             "roles": ["auditor"]}  # fmt: skip
    assert (await client.post("/api/admin/staff", json=staff, headers=admin)).status_code == 201
    auditor = await bearer(client, "auditor1", "Audit-pass-2026")
    code = await _issued_order(client, agent, line.trips[0], 1)
    refused = await client.post(f"/api/ticketing/orders/{code}/use", headers=auditor)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    used = await client.post(f"/api/ticketing/orders/{code}/use", headers=agent)
    assert used.status_code == 200, used.text
    assert used.json()["state"] == "used"
    last = used.json()["log"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == ("use", "issued", "used")
    assert last["details"]["trip"].startswith("G1 11-23 08:00")
    again = await client.post(f"/api/ticketing/orders/{code}/use", headers=agent)
    assert (again.status_code, again.json()["code"]) == (409, "ticket_not_usable")
    assert again.json()["details"]["reason"] == "already_used"
    quote = await client.get(f"/api/ticketing/orders/{code}/refund-quote", headers=agent)
    assert quote.json()["allowed"] is False
    assert "the order is used" in quote.json()["reason"]
    body = {"expected_refund_fen": 0, "method": "cash", "key": "gate-refund-0"}
    refund = await client.post(f"/api/ticketing/orders/{code}/refund", headers=agent, json=body)
    assert (refund.status_code, refund.json()["code"]) == (409, "not_allowed_by_rules")
    audit = await client.get(
        "/api/admin/audit", headers=admin, params={"entity_type": "tk_order", "entity_id": code}
    )
    assert "order.use" in {e["action"] for e in audit.json()["items"]}


async def test_the_gate_admits_picked_up_tickets_and_refuses_the_rest(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    line = await build_line(demo_app.ticketing, TOMORROW)
    agent, admin = await bearer(client, "agent1"), await bearer(client, "admin")
    api = "/api/ticketing/orders"

    picked = await _issued_order(client, agent, line.trips[0], 1)
    (sms,) = [
        m for m in await demo_app.notify.outbox(ref=picked) if m.template_key == "order.issued"
    ]
    pickup = {"pickup_code": sms.body.split("取票密码")[1][:8]}
    assert (await client.post(f"{api}/{picked}/pickup", headers=agent, json=pickup)).json()[
        "state"
    ] == "picked_up"
    assert (await client.post(f"{api}/{picked}/use", headers=agent)).json()["state"] == "used"

    unpaid = await client.post(api, headers=agent, json={
        "trip_id": line.trips[0], "from_station": "BJP", "to_station": "TJP",
        "class_code": "second", "contact_name": "李四", "contact_phone": "13800138001",
        "passengers": [{"name": PASSENGERS[1][0], "id_number": PASSENGERS[1][1]}],
    })  # fmt: skip
    refunded = await _issued_order(client, agent, line.trips[0], 2)
    quote = (await client.get(f"{api}/{refunded}/refund-quote", headers=agent)).json()
    body = {"expected_refund_fen": quote["refund_fen"], "method": "cash", "key": "gate-refund-1"}
    assert (await client.post(f"{api}/{refunded}/refund", headers=agent, json=body)).json()[
        "state"
    ] == "refunded"
    cancelled_trip = await _issued_order(client, agent, line.trips[1], 3)
    cancel = await client.post(f"/api/ticketing/trips/{line.trips[1]}/cancel", headers=admin)
    assert cancel.status_code == 204
    for code, reason in (
        (unpaid.json()["order"]["code"], "not_issued"),
        (refunded, "refunded"),
        (cancelled_trip, "trip_cancelled"),
    ):
        refused = await client.post(f"{api}/{code}/use", headers=agent)
        assert (refused.status_code, refused.json()["code"]) == (409, "ticket_not_usable"), code
        assert refused.json()["details"]["reason"] == reason
        state = (await client.get(f"{api}/{code}", headers=agent)).json()["state"]
        assert state != "used"
