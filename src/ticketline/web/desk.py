"""What the agent desktop and the supervisor console see live.

`DeskFeed` listens to the ACD, IVR and telephony events on the bus and keeps,
per agent, the call on their screen (ringing, talking, held, wrap-up) with the
screen pop: the CRM's view of the caller and the voice-menu path they took.
Each change goes to the agent's topic at once; the console's `floor` view is
rebuilt from the ACD snapshot, coalesced so a burst of events costs one push.

The desk's and the console's own HTTP API is in web/desk_api.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ticketline.acd.agents import AgentState, AgentStateChanged
from ticketline.acd.events import CallConnected, CallOffered, QueueConfigChanged, QueueLogEntry
from ticketline.acd.runtime import AcdRuntime
from ticketline.acd.schemas import ReasonCodeOut
from ticketline.acd.service import AcdAdmin
from ticketline.acd.stats import snapshot
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal
from ticketline.admin.service import AdminService
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.crm.lookup import CallerInfo, OpenItemInfo
from ticketline.crm.service import CustomerService
from ticketline.ivr.events import IvrCallQueued
from ticketline.telephony.control_channel import Channel
from ticketline.web.realtime import FLOOR, Push, RealtimeHub, staff_topic
from ticketline.workorders.events import WorkOrderOpened, WorkOrderStateChanged

log = logging.getLogger(__name__)

FLOOR_COALESCE = 0.15
IVR_MEMORY = 5000


@dataclass
class DeskCall:
    """The call on one agent's screen."""

    call_id: str
    number: str
    queue: str
    state: str
    offered_at: datetime
    caller: CallerInfo | None
    ivr_path: tuple[str, ...] = ()
    ivr_keys: tuple[tuple[str, str], ...] = ()
    answered_at: datetime | None = None
    looked_up: bool = True
    muted: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "id": self.call_id,
            "number": self.number,
            "queue": self.queue,
            "state": self.state,
            "muted": self.muted,
            "offered_at": self.offered_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "customer": _customer_view(self.caller),
            "ivr": {"path": list(self.ivr_path), "vars": dict(self.ivr_keys)},
            "timeline": _contacts_view(self.caller),
            "orders": _open_items(self.caller, "open_orders"),
            "work_orders": _open_items(self.caller, "open_work_orders"),
        }


def _customer_view(caller: CallerInfo | None) -> dict[str, Any] | None:
    if caller is None or not caller.known:
        return None
    tier = caller.tier
    return {
        "id": caller.customer_id,
        "name": caller.name,
        "vip": f"{tier.name_zh} {tier.name_en}" if tier and tier.rank > 0 else None,
        "points": caller.points_balance,
        "do_not_call": caller.do_not_call,
        "tags": [],
    }


def _contacts_view(caller: CallerInfo | None) -> list[dict[str, Any]]:
    if caller is None:
        return []
    return [
        {"id": c.entry_id, "at": c.at.isoformat(), "summary": c.title, "kind": c.kind}
        for c in caller.last_contacts
    ]


def _open_items(caller: CallerInfo | None, name: str) -> list[dict[str, Any]]:
    if caller is None:
        return []
    items: tuple[OpenItemInfo, ...] = getattr(caller, name)
    return [{"code": i.code, "summary": f"{i.state} {i.title}", "state": i.state} for i in items]


@dataclass(frozen=True)
class Consult:
    """The third party an agent called while their caller holds."""

    channel: Channel
    target: str


@dataclass
class DeskFeed:
    """Keeps each agent's screen and the floor view up to date through the hub."""

    hub: RealtimeHub
    runtime: AcdRuntime
    acd: AcdAdmin
    crm: CustomerService
    admin: AdminService
    clock: Clock
    state_limits: dict[str, int] = field(default_factory=dict)  # seconds; alerts beyond
    calls: dict[str, DeskCall] = field(default_factory=dict)
    held: dict[str, Channel | None] = field(default_factory=dict)
    consults: dict[str, Consult] = field(default_factory=dict)
    _ivr_paths: OrderedDict[str, IvrCallQueued] = field(default_factory=OrderedDict)
    _staff_ids: dict[str, str] = field(default_factory=dict)
    _floor_pending: asyncio.Task[None] | None = None

    def install(self, bus: EventBus) -> None:
        bus.subscribe(AgentStateChanged, self.on_agent_state)
        bus.subscribe(CallOffered, self.on_offered)
        bus.subscribe(CallConnected, self.on_connected)
        bus.subscribe(QueueLogEntry, self.on_queue_log)
        bus.subscribe(QueueConfigChanged, self.on_queue_config)
        bus.subscribe(IvrCallQueued, self.on_ivr_queued)
        bus.subscribe(WorkOrderOpened, self.on_work_order_opened)
        bus.subscribe(WorkOrderStateChanged, self.on_work_order_moved)
        self.hub.add_snapshot("desk", self.desk_snapshot)
        self.hub.add_snapshot("floor", self.floor_snapshot)

    # -- snapshots ----------------------------------------------------------------------

    async def desk_snapshot(self, principal: Principal) -> dict[str, Any]:
        call = self.calls.get(principal.username)
        reasons = [
            {"code": r.code, "label": f"{r.name_zh} {r.name_en}"} for r in await self._reasons()
        ]
        return {
            "agent": self.agent_view(principal.username),
            "call": call.view() if call else None,
            "figures": self._figures(principal.username),
            "waiting": self._waiting_for(principal.username),
            "reasons": reasons,
            "dispositions": [
                {"code": d.code, "label": f"{d.name_zh} {d.name_en}"}
                for d in await self.acd.wrapups.dispositions(enabled_only=True)
            ],
            "departments": [
                {"code": d.code, "label": f"{d.name_zh} {d.name_en}"}
                for d in await self.admin.list_departments()
            ],
        }

    async def floor_snapshot(self, principal: Principal) -> dict[str, Any] | None:
        if Perm.CALLS_SUPERVISE not in principal.permissions:
            return None
        return self.floor_view()

    async def _reasons(self) -> list[ReasonCodeOut]:
        return [r for r in await self.acd.list_reasons() if r.enabled]

    # -- views --------------------------------------------------------------------------

    def _live(self) -> dict[str, Any]:
        return snapshot(self.runtime.router, self.runtime.stats, self.clock.now())

    def agent_view(self, username: str) -> dict[str, Any]:
        now = self.clock.now()
        for agent in self._live()["agents"]:
            if agent["agent"] == username:
                return _agent_row(agent, now)
        return {"agent_id": username, "state": AgentState.LOGGED_OUT.value, "since": None}

    def _figures(self, username: str) -> dict[str, Any]:
        day = self.runtime.stats.agents.get(username)
        if day is None:
            return {"calls": 0, "talk_seconds": 0, "average_seconds": 0}
        average = round(day.talk / day.completed) if day.completed else 0
        return {"calls": day.answered, "talk_seconds": round(day.talk), "average_seconds": average}

    def _waiting_for(self, username: str) -> list[dict[str, Any]]:
        queues = set(self.runtime.router.agent_queues.get(username, ()))
        return _waiting_calls(self._live(), self.clock.now(), queues)

    def floor_view(self) -> dict[str, Any]:
        live = self._live()
        now = self.clock.now()
        return {
            "queues": [_queue_row(q) for q in live["queues"]],
            "agents": [_agent_row(a, now) for a in live["agents"]],
            "waiting": _waiting_calls(live, now, None),
            "alerts": _alerts(live) + _agent_alerts(live, self.state_limits),
            "state_limits": self.state_limits,
        }

    # -- event handlers -----------------------------------------------------------------

    async def on_agent_state(self, event: AgentStateChanged) -> None:
        call = self.calls.get(event.agent_id)
        if call is not None:
            if event.after is AgentState.WRAP_UP:
                call.state = "wrap_up"
            elif event.after in (AgentState.READY, AgentState.NOT_READY, AgentState.LOGGED_OUT):
                del self.calls[event.agent_id]
                call = None
            await self._push_call(event.agent_id)
        await self._push(event.agent_id, "agent", self.agent_view(event.agent_id))
        await self._push(event.agent_id, "figures", self._figures(event.agent_id))
        self._floor_soon()

    async def on_offered(self, event: CallOffered) -> None:
        await self._pop(event.agent, event.call_id, event.caller, event.queue, "ringing")

    async def on_connected(self, event: CallConnected) -> None:
        call = self.calls.get(event.agent)
        if call is None or call.call_id != event.call_id:  # picked up: it never rang here
            await self._pop(event.agent, event.call_id, event.caller, event.queue, "talking")
            return
        call.state = "talking"
        call.answered_at = self.clock.now()
        if call.looked_up:  # else the lookup's push shows it, with the customer
            await self._push_call(event.agent)

    async def _pop(self, agent: str, call_id: str, number: str, queue: str, state: str) -> None:
        """Put the call on the agent's screen and look the caller up."""
        now = self.clock.now()
        call = DeskCall(
            call_id=call_id,
            number=number,
            queue=queue,
            state=state,
            offered_at=now,
            caller=None,
            answered_at=now if state == "talking" else None,
            looked_up=False,
        )
        menu = self._ivr_paths.get(call_id)
        if menu is not None:
            call.ivr_path, call.ivr_keys = menu.path, menu.variables
        self.calls[agent] = call  # a fast answer may come while the lookup runs
        try:
            call.caller = await self.crm.lookup_caller(number)
        except Exception:  # the pop still shows the number when CRM is unreachable
            log.exception("caller lookup failed for %s", call_id)
        call.looked_up = True
        if self.calls.get(agent) is call:
            await self._push_call(agent)

    async def on_queue_log(self, _event: QueueLogEntry) -> None:
        self._floor_soon()

    async def on_queue_config(self, _event: QueueConfigChanged) -> None:
        """An agent moved between queues: their row lists the queues they take now."""
        self._floor_soon()

    async def on_ivr_queued(self, event: IvrCallQueued) -> None:
        self._ivr_paths[event.call_id] = event
        while len(self._ivr_paths) > IVR_MEMORY:
            self._ivr_paths.popitem(last=False)

    async def on_work_order_opened(self, event: WorkOrderOpened) -> None:
        """A work order opened for the caller during the call joins their pop at once."""
        await self._refresh_callers(event.customer_id, event.phone)

    async def on_work_order_moved(self, event: WorkOrderStateChanged) -> None:
        """A work order resolved (or reopened) during the call: the pop's list follows."""
        await self._refresh_callers(event.customer_id, None)

    async def _refresh_callers(self, customer_id: str | None, phone: str | None) -> None:
        for username, call in list(self.calls.items()):
            known = call.caller.customer_id if call.caller else None
            if (customer_id is not None and customer_id == known) or (
                phone is not None and phone == call.number
            ):
                await self.refresh_caller(username, call)

    async def refresh_caller(self, username: str, call: DeskCall) -> None:
        """Look the caller up again (after they were registered) and show it."""
        call.caller = await self.crm.lookup_caller(call.number)
        if self.calls.get(username) is call:
            await self._push_call(username)

    async def set_muted(self, username: str, muted: bool) -> None:
        call = self.calls.get(username)
        if call is not None:
            call.muted = muted
            await self._push_call(username)

    async def set_call_state(self, username: str, state: str) -> None:
        call = self.calls.get(username)
        if call is not None:
            call.state = state
            await self._push_call(username)

    # -- pushing ------------------------------------------------------------------------

    async def _push_call(self, username: str) -> None:
        call = self.calls.get(username)
        await self._push(username, "call", {"call": call.view() if call else None})

    async def _push(self, username: str, kind: str, data: dict[str, Any]) -> None:
        staff_id = await self._staff_id(username)
        if staff_id is not None:
            self.hub.publish(Push(staff_topic(staff_id), kind, data))

    async def _staff_id(self, username: str) -> str | None:
        if username not in self._staff_ids:
            try:
                self._staff_ids[username] = (await self.admin.find_staff(username)).id
            except Exception:
                return None
        return self._staff_ids[username]

    def _floor_soon(self) -> None:
        if self._floor_pending is None or self._floor_pending.done():
            self._floor_pending = asyncio.get_running_loop().create_task(self._floor_later())

    async def _floor_later(self) -> None:
        await asyncio.sleep(FLOOR_COALESCE)
        self.hub.publish(Push(FLOOR, "floor", self.floor_view()))


def _waiting_calls(
    live: dict[str, Any], now: datetime, queues: set[str] | None
) -> list[dict[str, Any]]:
    """Calls waiting in `queues` (None: every queue), longest wait first."""
    calls = [
        {
            "id": call["call_id"],
            "number": call["caller"],
            "queue": queue["queue"],
            "queue_name": f"{queue['name_zh']} {queue['name_en']}",
            "since": (now - timedelta(seconds=call["wait"])).isoformat(),
            "wait": call["wait"],
        }
        for queue in live["queues"]
        if queues is None or queue["queue"] in queues
        for call in queue["waiting"]
    ]
    return sorted(calls, key=lambda call: -call["wait"])


def _agent_row(agent: dict[str, Any], now: datetime) -> dict[str, Any]:
    since = agent.get("since")
    call = agent.get("call")
    return {
        "agent_id": agent["agent"],
        "username": agent["agent"],
        "name": agent.get("name") or agent["agent"],
        "extension": agent.get("extension"),
        "state": agent["state"],
        "reason": agent.get("reason"),
        "since": (now - timedelta(seconds=since)).isoformat() if since is not None else None,
        "call": call["caller"] if call else None,
        "queues": agent.get("queues", []),
    }


def _queue_row(queue: dict[str, Any]) -> dict[str, Any]:
    today = queue["today"]
    answered = today["answered"]
    return {
        "code": queue["queue"],
        "name": f"{queue['name_zh']} {queue['name_en']}",
        "waiting": len(queue["waiting"]),
        "longest_wait": round(queue["longest_wait"]),
        "service_level": today["service_level"],
        "target": 0.8,
        "answered": answered,
        "abandoned": today["abandoned"],
        "average_wait": round(today["wait_answered"] / answered) if answered else 0,
        "average_talk": round(today["talk"] / today["completed"]) if today["completed"] else 0,
        "ready": queue["agents"].get(AgentState.READY.value, 0),
    }


def _alerts(live: dict[str, Any]) -> list[dict[str, Any]]:
    alerts = []
    for queue in live["queues"]:
        level = queue["today"]["service_level"]
        if level is not None and level < 0.8:
            alerts.append(
                {
                    "message": f"{queue['name_zh']} {queue['name_en']}: 服务水平 service level "
                    f"{round(level * 100)}%"
                }
            )
        if queue["longest_wait"] > 2 * queue["service_level_seconds"]:
            alerts.append(
                {
                    "message": f"{queue['name_zh']} {queue['name_en']}: 等待过长 waiting "
                    f"{round(queue['longest_wait'])} s"
                }
            )
    return alerts


def _agent_alerts(live: dict[str, Any], limits: dict[str, int]) -> list[dict[str, Any]]:
    """Agents in one state longer than its limit (the console recomputes these live)."""
    alerts = []
    for agent in live["agents"]:
        limit = limits.get(agent["state"])
        since = agent.get("since")
        if limit is not None and since is not None and since > limit:
            alerts.append(
                {
                    "agent": agent["agent"],
                    "message": f"{agent.get('name') or agent['agent']}: {agent['state']} "
                    f"{round(since // 60)} min",
                }
            )
    return alerts
