"""The desk feed over a real server: agent state from the ACD, the screen pop from CRM,
wrap-up, and the supervisor's floor view — each seen through the agent's WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from tests.web.test_web_realtime import _free_port
from tests.webclient import bearer
from ticketline.acd.events import CallConnected, CallOffered
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.crm.schemas import CustomerCreate, PhoneIn

CALLER = "+8613912345678"


@pytest.fixture
async def served(demo_app: Application) -> AsyncIterator[str]:
    await demo_app.start_acd()
    port = _free_port()
    config = uvicorn.Config(demo_app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
    await demo_app.acd_runtime.stop()


async def _until(ws: Any, kind: str, test: Any = lambda data: True) -> dict[str, Any]:
    """The next push of `kind` whose data passes `test` (earlier ones are skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        if frame.get("kind") == kind and test(frame["data"]):
            return dict(frame["data"])


async def test_agent_sees_state_screen_pop_and_wrap_up(served: str, demo_app: Application) -> None:
    await demo_app.crm.create(
        SYSTEM, CustomerCreate(name="王芳", phones=[PhoneIn(number=CALLER, primary=True)])
    )
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent1")
        async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            desk = first["data"]["desk"]
            assert desk["agent"]["state"] == "logged_out"
            assert "lunch" in {r["code"] for r in desk["reasons"]}

            assert (await http.post("/api/acd/me/login", json={}, headers=agent)).status_code == 204
            assert (await http.post("/api/acd/me/ready", headers=agent)).status_code == 204
            state = await _until(ws, "agent", lambda d: d["state"] == "ready")
            assert state["extension"] == "1001"

            await demo_app.bus.publish(CallOffered("call-1", "booking", "agent1", CALLER))
            pop = (await _until(ws, "call", lambda d: d["call"] is not None))["call"]
            assert pop["number"] == CALLER
            assert pop["state"] == "ringing"
            assert pop["customer"]["name"] == "王芳"

            await demo_app.bus.publish(CallConnected("call-1", "booking", "agent1", CALLER, 3.0))
            talking = (await _until(ws, "call", lambda d: d["call"]["state"] == "talking"))["call"]
            assert talking["answered_at"] is not None

            stale = await http.post(
                "/api/desk/call/hold", json={"call_id": "call-other"}, headers=agent
            )
            assert stale.status_code == 409, stale.text
            assert stale.json()["code"] == "call_gone"

            bad = await http.post(
                "/api/desk/wrapup", json={"disposition": "nonsense", "next": "ready"}, headers=agent
            )
            assert bad.status_code == 422
            assert "disposition" in bad.text
            bad_link = await http.post(
                "/api/desk/wrapup",
                json={"disposition": "booked", "work_order": "42", "next": "ready"},
                headers=agent,
            )
            assert bad_link.status_code == 422
            assert bad_link.json()["details"]["field"] == "work_order"

            wrap = {"disposition": "booked", "notes": "两张 two seats", "order": "k7m2pq"}
            done = await http.post(
                "/api/desk/wrapup", json={**wrap, "call_id": "call-1", "next": "ready"},
                headers=agent,
            )  # fmt: skip
            assert done.status_code == 204, done.text
            twice = await http.post(
                "/api/desk/wrapup", json={**wrap, "call_id": "call-1", "next": "ready"},
                headers=agent,
            )  # fmt: skip
            assert twice.status_code == 409  # a double click stores nothing twice
            assert twice.json()["code"] == "already_wrapped_up"

        boss = await bearer(http, "supervisor")
        stored = (await http.get("/api/acd/wrapups?call_id=call-1", headers=boss)).json()
        assert [(w["agent"], w["disposition"], w["order_code"]) for w in stored] == [
            ("agent1", "booked", "K7M2PQ")
        ]
        assert stored[0]["number"] == CALLER
        assert stored[0]["queue"] == "booking"
        assert stored[0]["customer_id"] is not None  # the popped customer is linked


async def test_unknown_caller_pops_as_new_caller(served: str, demo_app: Application) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent2")
        async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
            await ws.recv()
            await demo_app.bus.publish(CallOffered("call-2", "booking", "agent2", "+8613700000000"))
            pop = (await _until(ws, "call", lambda d: d["call"] is not None))["call"]
    assert pop["customer"] is None
    assert pop["number"] == "+8613700000000"


async def test_a_withheld_number_cannot_be_registered(served: str, demo_app: Application) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent3")
        async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
            await ws.recv()
            await demo_app.bus.publish(CallOffered("call-3", "booking", "agent3", "anonymous"))
            await _until(ws, "call", lambda d: d["call"] is not None)
            body = {"call_id": "call-3", "name": "无名"}
            refused = await http.post("/api/desk/register", json=body, headers=agent)
            stale = await http.post(
                "/api/desk/register", json={**body, "call_id": "call-9"}, headers=agent
            )
    assert refused.status_code == 422
    assert refused.json()["details"]["field"] == "number"
    assert stale.status_code == 409


async def test_supervisor_floor_follows_agent_states(served: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        boss = await bearer(http, "supervisor")
        agent = await bearer(http, "agent3")
        async with websockets.connect(f"ws://{served}/ws", additional_headers=boss) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))["data"]["floor"]
            assert {q["code"] for q in snapshot["queues"]} >= {"booking", "refund"}
            await http.post("/api/acd/me/login", json={"paused_reason": "lunch"}, headers=agent)

            def agent3_paused(floor: dict[str, Any]) -> bool:
                rows = {a["username"]: a for a in floor["agents"]}
                return rows.get("agent3", {}).get("state") == "not_ready"

            floor = await _until(ws, "floor", agent3_paused)
    row = next(a for a in floor["agents"] if a["username"] == "agent3")
    assert row["reason"] == "lunch"
    assert row["since"] is not None


async def test_an_agent_gets_no_floor_view(served: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent1")
        async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert frame["data"]["floor"] is None


async def test_console_actions_need_a_supervisor_and_a_live_call(served: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent1")
        boss = await bearer(http, "supervisor")
        body = {"agent_id": "agent2", "mode": "whisper"}
        refused = await http.post("/api/console/snoop", json=body, headers=agent)
        assert refused.status_code == 403
        idle = await http.post("/api/console/snoop", json=body, headers=boss)
        assert idle.status_code == 409
        assert idle.json()["code"] == "call_gone"
        wrong = await http.post(
            "/api/console/snoop", json={"agent_id": "agent2", "mode": "shout"}, headers=boss
        )
        assert wrong.status_code == 422
        assert "mode" in wrong.text
        hung = await http.post("/api/console/hangup", json={"agent_id": "agent2"}, headers=boss)
        assert hung.status_code == 409


async def test_a_hand_over_of_a_call_names_what_is_wrong(served: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent1")
        boss = await bearer(http, "supervisor")
        body = {"call_id": "no-such-call", "agent_id": "agent1"}
        refused = await http.post("/api/console/pickup", json=body, headers=agent)
        assert refused.status_code == 403
        gone = await http.post("/api/console/pickup", json=body, headers=boss)
        assert gone.status_code == 404
        assert "no-such-call" in gone.json()["message"]
        empty = await http.post("/api/console/pickup", json={"call_id": "c1"}, headers=boss)
        assert empty.status_code == 422
        assert "agent_id" in empty.text


async def test_a_second_desk_of_the_same_agent_takes_over(
    served: str, demo_app: Application
) -> None:
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent2")
    desk_url = f"ws://{served}/ws?desk=1"
    async with websockets.connect(desk_url, additional_headers=agent) as first:
        await first.recv()  # its snapshot
        async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as other_tab:
            await other_tab.recv()  # a non-desk page of the same person is left alone
            async with websockets.connect(desk_url, additional_headers=agent) as second:
                assert json.loads(await second.recv())["type"] == "snapshot"
                told = json.loads(await asyncio.wait_for(first.recv(), timeout=5))
                assert told == {"type": "taken_over"}
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(first.recv(), timeout=5)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 4409

                await demo_app.bus.publish(CallOffered("call-5", "booking", "agent2", CALLER))
                pop = (await _until(second, "call", lambda d: d["call"] is not None))["call"]
                assert pop["id"] == "call-5"  # the new desk serves the call
                await _until(other_tab, "call", lambda d: d["call"] is not None)


async def test_saved_travellers_are_checked_like_passengers(
    served: str, demo_app: Application
) -> None:
    created = await demo_app.crm.create(
        SYSTEM, CustomerCreate(name="钱伟", phones=[PhoneIn(number="+8613800138021")])
    )
    path = f"/api/desk/travellers/{created.id}"
    good = {"name": "钱伟", "id_number": "11010519491231002x"}
    bad = {"name": "孙丽", "id_number": "110105194912310021"}
    async with httpx.AsyncClient(base_url=f"http://{served}") as http:
        agent = await bearer(http, "agent1")
        refused = await http.post(path, json={"travellers": [good, bad]}, headers=agent)
        after_refusal = await http.get(path, headers=agent)
        saved = await http.post(path, json={"travellers": [good]}, headers=agent)
        unknown = await http.get("/api/desk/travellers/nobody", headers=agent)
    assert refused.status_code == 422
    assert refused.json()["details"]["field"] == "travellers.1.id_number"
    assert after_refusal.json() == []  # nothing half-saved
    assert saved.status_code == 200
    assert [(t["name"], t["id_number"]) for t in saved.json()] == [("钱伟", "11010519491231002X")]
    assert unknown.status_code == 404
