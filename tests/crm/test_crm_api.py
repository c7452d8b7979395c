"""The CRM HTTP API: permission-checked, errors naming the field, the screen pop."""

from __future__ import annotations

import httpx

from tests.webclient import bearer


async def test_agent_creates_a_customer_and_pops_it_by_number(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    created = await client.post(
        "/api/crm/customers",
        json={"name": "李雷", "phones": [{"number": "138 0013 8000"}], "tags": ["学生"]},
        headers=agent,
    )
    assert created.status_code == 201, created.text
    assert created.json()["phones"] == [
        {"number": "+8613800138000", "label": "mobile", "primary": True}
    ]
    popped = await client.get("/api/crm/lookup", params={"number": "13800138000"}, headers=agent)
    assert popped.status_code == 200
    assert popped.json()["known"] is True
    assert popped.json()["name"] == "李雷"
    note = await client.post(
        f"/api/crm/customers/{created.json()['id']}/notes", json={"text": "想要靠窗"}, headers=agent
    )
    assert note.status_code == 201
    timeline = await client.get(
        f"/api/crm/customers/{created.json()['id']}/timeline", headers=agent
    )
    assert [e["title"] for e in timeline.json()] == ["想要靠窗"]


async def test_bad_input_names_the_field(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    bad = await client.post(
        "/api/crm/customers", json={"name": "x", "phones": [{"number": "12"}]}, headers=agent
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "phones.0.number"
    unknown = await client.post("/api/crm/customers", json={"nmae": "x"}, headers=agent)
    assert unknown.status_code == 422
    missing = await client.get("/api/crm/lookup", headers=agent)
    assert missing.json()["details"]["field"] == "number"


async def test_duplicates_offer_a_merge(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    first = await client.post(
        "/api/crm/customers",
        json={"name": "A", "phones": [{"number": "13800138000"}]},
        headers=agent,
    )
    second = await client.post(
        "/api/crm/customers",
        json={"name": "B", "phones": [{"number": "+8613800138000"}]},
        headers=agent,
    )
    assert second.status_code == 409
    assert second.json()["details"]["existing_customer_id"] == first.json()["id"]


async def test_tiers_need_the_settings_permission(client: httpx.AsyncClient) -> None:
    tier = {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "rank": 1, "queue_priority": 5}
    agent = await bearer(client, "agent1")
    assert (await client.put("/api/crm/tiers/gold", json=tier, headers=agent)).status_code == 403
    admin = await bearer(client, "admin")
    assert (await client.put("/api/crm/tiers/gold", json=tier, headers=admin)).status_code == 200
    assert [t["code"] for t in (await client.get("/api/crm/tiers", headers=agent)).json()] == [
        "gold"
    ]
    assert (await client.get("/api/crm/lookup?number=1")).status_code == 401
