"""What the agent desktop and the supervisor console see live, and the desk's actions.

`DeskFeed` listens to the ACD, IVR and telephony events on the bus and keeps,
per agent, the call on their screen (ringing, talking, held, wrap-up) with the
screen pop: the CRM's view of the caller and the voice-menu path they took.
Each change goes to the agent's topic at once; the console's `floor` view is
rebuilt from the ACD snapshot, coalesced so a burst of events costs one push.

The desk's own API covers what is not already another area's API: controls on
the current call (hold, resume, hang up, transfer, keys) through the
call-control API, and finishing wrap-up with a disposition.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ticketline.acd.agents import AgentState, AgentStateChanged
from ticketline.acd.events import CallConnected, CallOffered, QueueLogEntry
from ticketline.acd.runtime import AcdRuntime
from ticketline.acd.schemas import ReasonCodeOut
from ticketline.acd.schemas import WrapUpIn as AcdWrapUpIn
from ticketline.acd.service import AcdAdmin
from ticketline.acd.stats import snapshot
from ticketline.acd.wrapups import CallFacts
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.admin.service import AdminService
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import Conflict, InvalidInput
from ticketline.crm.lookup import CallerInfo, OpenItemInfo
from ticketline.crm.service import CustomerService
from ticketline.ivr.events import IvrCallQueued
from ticketline.telephony.control import CallControl, TransferFailed
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.web.realtime import FLOOR, Push, RealtimeHub, staff_topic

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


@dataclass
class DeskFeed:
    """Keeps each agent's screen and the floor view up to date through the hub."""

    hub: RealtimeHub
    runtime: AcdRuntime
    acd: AcdAdmin
    crm: CustomerService
    admin: AdminService
    clock: Clock
    calls: dict[str, DeskCall] = field(default_factory=dict)
    held: dict[str, Channel | None] = field(default_factory=dict)
    _ivr_paths: OrderedDict[str, IvrCallQueued] = field(default_factory=OrderedDict)
    _staff_ids: dict[str, str] = field(default_factory=dict)
    _floor_pending: asyncio.Task[None] | None = None

    def install(self, bus: EventBus) -> None:
        bus.subscribe(AgentStateChanged, self.on_agent_state)
        bus.subscribe(CallOffered, self.on_offered)
        bus.subscribe(CallConnected, self.on_connected)
        bus.subscribe(QueueLogEntry, self.on_queue_log)
        bus.subscribe(IvrCallQueued, self.on_ivr_queued)
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
            return {"calls": 0, "talk_seconds": 0}
        return {"calls": day.answered, "talk_seconds": round(day.talk)}

    def _waiting_for(self, username: str) -> list[dict[str, Any]]:
        queues = set(self.runtime.router.agent_queues.get(username, ()))
        now = self.clock.now()
        return [
            {
                "id": call["call_id"],
                "number": call["caller"],
                "queue": queue["queue"],
                "since": (now - timedelta(seconds=call["wait"])).isoformat(),
            }
            for queue in self._live()["queues"]
            if queue["queue"] in queues
            for call in queue["waiting"]
        ]

    def floor_view(self) -> dict[str, Any]:
        live = self._live()
        now = self.clock.now()
        return {
            "queues": [_queue_row(q) for q in live["queues"]],
            "agents": [_agent_row(a, now) for a in live["agents"]],
            "alerts": _alerts(live),
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
        call = DeskCall(
            call_id=event.call_id,
            number=event.caller,
            queue=event.queue,
            state="ringing",
            offered_at=self.clock.now(),
            caller=None,
            looked_up=False,
        )
        menu = self._ivr_paths.get(event.call_id)
        if menu is not None:
            call.ivr_path, call.ivr_keys = menu.path, menu.variables
        self.calls[event.agent] = call  # a fast answer may come while the lookup runs
        try:
            call.caller = await self.crm.lookup_caller(event.caller)
        except Exception:  # the pop still shows the number when CRM is unreachable
            log.exception("caller lookup failed for %s", event.call_id)
        call.looked_up = True
        if self.calls.get(event.agent) is call:
            await self._push_call(event.agent)

    async def on_connected(self, event: CallConnected) -> None:
        call = self.calls.get(event.agent)
        if call is not None and call.call_id == event.call_id:
            call.state = "talking"
            call.answered_at = self.clock.now()
            if call.looked_up:  # else the lookup's push shows it, with the customer
                await self._push_call(event.agent)

    async def on_queue_log(self, _event: QueueLogEntry) -> None:
        self._floor_soon()

    async def on_ivr_queued(self, event: IvrCallQueued) -> None:
        self._ivr_paths[event.call_id] = event
        while len(self._ivr_paths) > IVR_MEMORY:
            self._ivr_paths.popitem(last=False)

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


# -- the desk's API ---------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallGone(Conflict):
    code = "call_gone"


class CallActionFailed(Conflict):
    code = "call_action_failed"


class CallActionIn(_In):
    call_id: str = Field(min_length=1, max_length=64)
    target: str | None = Field(default=None, min_length=1, max_length=64)
    digits: str | None = Field(default=None, pattern=r"^[0-9*#A-D]{1,32}$")


class WrapUpIn(_In):
    call_id: str | None = Field(default=None, min_length=1, max_length=64)
    disposition: str = Field(min_length=1, max_length=32)
    notes: str = Field(default="", max_length=2000)
    order: str = Field(default="", max_length=16)
    work_order: str = Field(default="", max_length=20)
    next: str = Field(pattern=r"^(ready|not_ready)$")
    reason: str | None = Field(default=None, max_length=32)


CALL_ACTIONS = ("hold", "resume", "mute", "unmute", "hangup", "transfer", "dtmf")
Agent = Annotated[Principal, Depends(require(Perm.CALLS_HANDLE))]


def build_desk_router(feed: DeskFeed, control: CallControl) -> APIRouter:
    router = APIRouter(prefix="/api/desk", tags=["desk"])

    @router.post("/call/{action}", status_code=204)
    async def call_action(action: str, body: CallActionIn, who: Agent) -> None:
        """Hold, resume, hang up, transfer or send keys on the agent's current call."""
        if action not in CALL_ACTIONS:
            raise InvalidInput("action", f"one of {', '.join(CALL_ACTIONS)}")
        call = feed.calls.get(who.username)
        if call is None or call.call_id != body.call_id or call.state == "wrap_up":
            raise CallGone("this call has ended or is no longer yours")
        caller = _caller_channel(control, body.call_id)
        try:
            await _carry_out(action, body, caller, control, feed, who.username)
        except (ChannelError, TransferFailed) as failure:
            raise CallActionFailed(str(failure)) from failure

    @router.post("/wrapup", status_code=204)
    async def wrap_up(body: WrapUpIn, who: Agent) -> None:
        """Store the wrap-up (disposition, notes, links), then ready or not ready.

        The page sends the call it showed, so a wrap-up typed while the wrap-up
        time ran out is still stored; nothing changes when it cannot be stored.
        """
        call = feed.calls.get(who.username)
        if call is not None and body.call_id not in (None, call.call_id):
            raise CallGone("this call is no longer on your screen")
        call_id = call.call_id if call is not None else body.call_id
        if call_id is None:
            raise InvalidInput("call_id", "there is no call to wrap up")
        await feed.acd.wrapups.record(who.username, _acd_wrap_up(call_id, body), _facts(call))
        if feed.calls.get(who.username) is call:
            feed.calls.pop(who.username, None)
        if body.next == "ready":
            feed.runtime.ready(who.username)
        else:
            feed.runtime.pause(who.username, body.reason or "after_call")
        await feed._push_call(who.username)

    return router


def _acd_wrap_up(call_id: str, body: WrapUpIn) -> AcdWrapUpIn:
    try:
        return AcdWrapUpIn(
            call_id=call_id,
            disposition=body.disposition,
            notes=body.notes,
            order=body.order,
            work_order=body.work_order.strip().upper(),
        )
    except ValidationError as bad:
        first = bad.errors()[0]
        field_name = str(first["loc"][0]) if first["loc"] else "body"
        hint = "like WO-2612-0042" if field_name == "work_order" else first["msg"]
        raise InvalidInput(field_name, hint) from bad


def _facts(call: DeskCall | None) -> CallFacts:
    if call is None:
        return CallFacts()
    customer = call.caller.customer_id if call.caller is not None else None
    return CallFacts(call.number, call.queue, customer)


def _caller_channel(control: CallControl, call_id: str) -> Channel:
    """The customer's side of `call_id`: its inbound leg (agents' legs share the call id)."""
    legs = [c for c in control.channels.values() if call_id in (c.call_id, c.id) and not c.ended]
    for channel in legs:
        if channel.leg.direction == "inbound":
            return channel
    if legs:
        return legs[0]
    raise CallGone("this call has ended")


async def _carry_out(
    action: str,
    body: CallActionIn,
    caller: Channel,
    control: CallControl,
    feed: DeskFeed,
    username: str,
) -> None:
    if action == "hangup":
        agent = control.bridged_to(caller) or feed.held.pop(username, None)
        await (agent if agent is not None and not agent.ended else caller).hangup("normal_clearing")
    elif action == "hold":
        agent = control.bridged_to(caller)
        control.unbridge(caller)
        caller.start_moh()
        feed.held[username] = agent
        await feed.set_call_state(username, "held")
    elif action == "resume":
        agent = feed.held.pop(username, None)
        caller.stop_moh()
        if agent is None or agent.ended:
            raise CallGone("your phone is no longer on this call")
        control.bridge(caller, agent)
        await feed.set_call_state(username, "talking")
    elif action in ("mute", "unmute"):
        agent = control.bridged_to(caller) or feed.held.get(username)
        if agent is None or agent.ended:
            raise CallGone("your phone is no longer on this call")
        agent.mute() if action == "mute" else agent.unmute()
        await feed.set_muted(username, action == "mute")
    elif action == "transfer":
        if not body.target:
            raise InvalidInput("target", "a queue, an extension or a number to transfer to")
        await _transfer(caller, body.target, control, feed.runtime)
    elif action == "dtmf":
        if not body.digits:
            raise InvalidInput("digits", "the keys to send")
        await caller.send_dtmf(body.digits)


async def _transfer(
    caller: Channel, target: str, control: CallControl, runtime: AcdRuntime
) -> None:
    """To a queue: the caller waits there again. Elsewhere: a blind transfer that, if
    nobody answers, puts the caller back in the queue they came from."""
    if target in runtime.router.queues:
        await runtime.transfer_to_queue(caller, target)
        return
    call = runtime.router.calls.get(caller.call_id)
    if call is None:
        await control.blind_transfer(caller, target)
        return
    queue, request = call.queue_id, runtime.transferred(caller.call_id, target)
    if runtime.phones is not None:
        await runtime.phones.release_agent(caller.call_id, "transferred")
    try:
        await control.blind_transfer(caller, target)
    except TransferFailed:
        if not caller.ended:
            await runtime.requeue(caller, queue, request)
        raise


# -- the supervisor's actions -----------------------------------------------------------

SNOOP_ANSWER_SECONDS = 30.0
Supervisor = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]


class NoExtension(Conflict):
    code = "no_extension"


class ConsoleIn(_In):
    agent_id: str = Field(min_length=1, max_length=64)
    mode: str = Field(default="listen", pattern=r"^(listen|whisper|barge)$")


def build_console_router(feed: DeskFeed, control: CallControl) -> APIRouter:
    router = APIRouter(prefix="/api/console", tags=["console"])

    @router.post("/hangup", status_code=204)
    async def hang_up(body: ConsoleIn, _: Supervisor) -> None:
        """End the call an agent is on (both sides)."""
        await _agent_call(feed, control, body.agent_id).hangup("normal_clearing")

    @router.post("/snoop", status_code=204)
    async def snoop(body: ConsoleIn, who: Supervisor) -> None:
        """Ring the supervisor's phone and join it to an agent's call: listen, whisper, barge."""
        caller = _agent_call(feed, control, body.agent_id)
        agent = control.bridged_to(caller)
        if agent is None:
            raise CallGone("the agent is not talking to the caller right now")
        extension = await _extension_of(feed.admin, who.username)
        supervisor = await control.dial(extension, caller_id=f"snoop-{body.agent_id}")
        try:
            await asyncio.wait_for(supervisor.wait_answered(), SNOOP_ANSWER_SECONDS)
            control.snoop(supervisor, agent, body.mode)
        except (TimeoutError, ChannelError) as failure:
            await supervisor.hangup("no_answer")
            raise CallActionFailed(f"your phone did not join the call: {failure}") from failure

    return router


def _agent_call(feed: DeskFeed, control: CallControl, agent_id: str) -> Channel:
    call = feed.calls.get(agent_id)
    if call is None or call.state == "wrap_up":
        raise CallGone(f"{agent_id} is not on a call")
    return _caller_channel(control, call.call_id)


async def _extension_of(admin: AdminService, username: str) -> str:
    for extension, owner in await admin.list_extensions():
        if owner == username and extension.enabled:
            return extension.number
    raise NoExtension("you have no phone extension to listen with; ask an administrator")
