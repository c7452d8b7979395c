"""The ACD's HTTP API with the demo staff: who may do what, and what they see."""

from __future__ import annotations

import httpx

from tests.acd.phones import CallRef
from tests.webclient import bearer
from ticketline.acd.ports import CallerInfo
from ticketline.app import Application


async def test_admin_configures_a_queue_and_bad_input_names_the_field(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    admin = await bearer(client, "admin")
    body = {"code": "vip", "name_zh": "贵宾", "name_en": "VIP", "strategy": "ring_all"}
    created = await client.post("/api/acd/queues", json=body, headers=admin)
    assert created.status_code == 201, created.text
    bad = await client.post(
        "/api/acd/queues", json={**body, "code": "vip2", "ring_timeout": 0}, headers=admin
    )
    assert bad.status_code == 422
    assert "ring_timeout" in bad.text
    loop = await client.post(
        "/api/acd/queues",
        json={**body, "code": "vip3", "overflow": {"kind": "queue", "target_queue": "vip3"}},
        headers=admin,
    )
    assert loop.status_code == 422
    assert loop.json()["details"]["field"] == "overflow"
    agent = await bearer(client, "agent1")
    denied = await client.post("/api/acd/queues", json={**body, "code": "x1"}, headers=agent)
    assert denied.status_code == 403


async def test_agent_buttons_supervisor_view_and_live_moves(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    await demo_app.acd.load()
    agent = await bearer(client, "agent1")
    supervisor = await bearer(client, "supervisor")
    assert (await client.post("/api/acd/me/login", json={}, headers=agent)).status_code == 204
    unknown = await client.post("/api/acd/me/pause", json={"reason": "karaoke"}, headers=agent)
    assert unknown.status_code == 422
    await client.post("/api/acd/me/pause", json={"reason": "lunch"}, headers=agent)
    me = (await client.get("/api/acd/me", headers=agent)).json()
    assert (me["state"], me["reason"]) == ("not_ready", "lunch")
    assert (await client.get("/api/acd/live", headers=agent)).status_code == 403
    moved = await client.put(
        "/api/acd/queues/complaint/members/agent1",
        json={"agent": "agent1", "penalty": 1},
        headers=supervisor,
    )
    assert moved.status_code == 200, moved.text
    live = (await client.get("/api/acd/live", headers=supervisor)).json()
    complaint = next(q for q in live["queues"] if q["queue"] == "complaint")
    assert complaint["agents"]["not_ready"] == 1
    assert {q["queue"] for q in live["queues"]} == {
        "booking",
        "refund",
        "complaint",
        "english",
        "box_office",
    }
    await client.post("/api/acd/agents/agent1/ready", headers=supervisor)
    assert demo_app.acd_runtime.router.agents["agent1"].state.value == "ready"


async def test_pickup_needs_the_permission_and_the_log_is_readable(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    await demo_app.acd.load()
    await demo_app.acd_runtime.writer.start()
    runtime = demo_app.acd_runtime
    await runtime.enqueue(CallRef("c1"), "booking", [], 0, CallerInfo(number="+8613800000001"))
    agent = await bearer(client, "agent2")
    assert (await client.post("/api/acd/calls/c1/pickup", headers=agent)).status_code == 403
    supervisor = await bearer(client, "supervisor")
    # the demo supervisor has no extension, so is no agent of the ACD
    refused = await client.post("/api/acd/calls/c1/pickup", headers=supervisor)
    assert refused.status_code == 404
    await runtime.writer.drain()
    log = await client.get("/api/acd/log", params={"call_id": "c1"}, headers=supervisor)
    # nobody logged in to booking: the demo overflow keeps the caller's place as a callback
    assert [e["event"] for e in log.json()] == ["enter", "overflow", "callback_requested"]
    await runtime.writer.stop()
