"""Work orders over HTTP: agents open and move them; customers check status by code
and phone without logging in; wrong moves and wrong phones are refused."""

from __future__ import annotations

import httpx

from tests.webclient import bearer


async def test_open_move_and_check_status_as_the_customer(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    opened = await client.post(
        "/api/workorders",
        json={"type": "lost_property", "title": "遗失黑色背包", "department": "customer-care",
              "phone": "13800138000", "assignee": "agent2"},
        headers=agent,
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    order = opened.json()
    assert order["state"] == "assigned"
    assert [e["kind"] for e in order["log"]] == ["opened", "transition", "assign"]
    wrong = await client.post(
        f"/api/workorders/{order['id']}/transitions", json={"action": "close"}, headers=agent
    )
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "illegal_transition"
    reply = await client.post(
        f"/api/workorders/{order['id']}/notes",
        json={"text": "已在南站找到，请携带身份证领取。", "public": True},
        headers=agent,
    )
    assert reply.status_code == 201
    status = await client.get(
        "/api/public/workorders/status", params={"code": order["code"], "phone": "13800138000"}
    )
    assert status.status_code == 200
    assert status.json()["last_reply"] == "已在南站找到，请携带身份证领取。"
    stranger = await client.get(
        "/api/public/workorders/status", params={"code": order["code"], "phone": "13900139000"}
    )
    assert stranger.status_code == 404
    queue = await client.get("/api/workorders/queue/customer-care", headers=agent)
    assert [o["code"] for o in queue.json()["items"]] == [order["code"]]


async def test_bad_input_names_the_field(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    bad = await client.post(
        "/api/workorders",
        json={"type": "complaint", "title": "x", "department": "nowhere"},
        headers=agent,
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "department"
    calendar = await client.put(
        "/api/workorders/sla/calendars/office",
        json={"code": "office", "name": "Office", "week": {"0": [["18:00", "09:00"]]}},
        headers=await bearer(client, "admin"),
    )
    assert calendar.status_code == 422
    assert calendar.json()["details"]["field"] == "week.0"
