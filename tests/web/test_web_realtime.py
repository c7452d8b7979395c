"""Live pushes over a real WebSocket served by uvicorn: topics, resumption, snapshots."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from websockets.exceptions import InvalidStatus

from tests.webclient import bearer
from ticketline.admin.security import Principal
from ticketline.app import Application
from ticketline.web.realtime import FLOOR, Push, RealtimeHub, staff_topic


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(demo_app: Application) -> AsyncIterator[str]:
    port = _free_port()
    config = uvicorn.Config(demo_app.web_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _token(address: str, username: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        return await bearer(client, username)


async def _frame(ws: Any) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.recv(), timeout=5)))


async def test_agent_gets_own_pushes_and_supervisor_gets_floor(
    served: str, demo_app: Application
) -> None:
    agent = await _token(served, "agent1")
    boss = await _token(served, "supervisor")
    agent_id = (await demo_app.admin.find_staff("agent1")).id
    async with (
        websockets.connect(f"ws://{served}/ws", additional_headers=agent) as agent_ws,
        websockets.connect(f"ws://{served}/ws", additional_headers=boss) as boss_ws,
    ):
        assert (await _frame(agent_ws))["type"] == "snapshot"
        assert (await _frame(boss_ws))["type"] == "snapshot"
        demo_app.hub.publish(Push(FLOOR, "queue.changed", {"queue": "booking", "waiting": 3}))
        demo_app.hub.publish(
            Push(staff_topic(agent_id), "call.offered", {"from": "+8613800000001"})
        )
        got = await _frame(agent_ws)
        assert got["kind"] == "call.offered"
        assert got["data"]["from"] == "+8613800000001"
        floor = await _frame(boss_ws)
        assert floor["kind"] == "queue.changed"
        assert floor["data"]["waiting"] == 3


async def test_reconnect_replays_what_was_missed(served: str, demo_app: Application) -> None:
    agent = await _token(served, "agent1")
    agent_id = (await demo_app.admin.find_staff("agent1")).id
    topic = staff_topic(agent_id)
    async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
        seen = (await _frame(ws))["seq"]
    demo_app.hub.publish(Push(topic, "call.offered", {"n": 1}))
    demo_app.hub.publish(Push(staff_topic("someone-else"), "call.offered", {"n": "not mine"}))
    demo_app.hub.publish(Push(topic, "call.answered", {"n": 2}))
    url = f"ws://{served}/ws?since={seen}"
    async with websockets.connect(url, additional_headers=agent) as ws:
        first, second = await _frame(ws), await _frame(ws)
    assert [first["kind"], second["kind"]] == ["call.offered", "call.answered"]


async def test_snapshot_providers_rebuild_state_on_fresh_connect(
    served: str, demo_app: Application
) -> None:
    async def current_call(principal: Principal) -> dict[str, Any]:
        return {"staff": principal.username, "call": "CALL-42"}

    demo_app.hub.add_snapshot("desk", current_call)
    agent = await _token(served, "agent1")
    async with websockets.connect(f"ws://{served}/ws", additional_headers=agent) as ws:
        frame = await _frame(ws)
    assert frame["data"]["desk"] == {"staff": "agent1", "call": "CALL-42"}


async def test_anonymous_and_cross_site_sockets_are_refused(served: str) -> None:
    with pytest.raises((InvalidStatus, websockets.ConnectionClosed)):
        async with websockets.connect(f"ws://{served}/ws") as ws:
            await _frame(ws)
    agent = await _token(served, "agent1")
    with pytest.raises((InvalidStatus, websockets.ConnectionClosed)):
        async with websockets.connect(
            f"ws://{served}/ws", additional_headers=agent, origin="http://evil.example"
        ) as ws:
            await _frame(ws)


def test_history_too_old_means_snapshot() -> None:
    hub = RealtimeHub(history=3)
    for n in range(10):
        hub.publish(Push("floor", "tick", {"n": n}))
    topics = frozenset({"floor"})
    assert hub.missed_since(2, topics) is None
    recent = hub.missed_since(8, topics)
    assert recent is not None
    assert [d.push.data["n"] for d in recent] == [8, 9]
    assert hub.missed_since(10, topics) == []
    assert hub.missed_since(99, topics) is None


def test_slow_subscriber_is_marked_not_blocking() -> None:
    hub = RealtimeHub()
    slow = hub.subscribe({"floor"})
    for n in range(600):
        hub.publish(Push("floor", "tick", {"n": n}))
    assert slow.overflowed
    assert slow.queue.qsize() == 500
