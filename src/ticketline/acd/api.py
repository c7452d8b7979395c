"""HTTP API of the ACD: queues and members, reason codes, wrap-up dispositions, agent
buttons, live view, queue log and wrap-ups.

Who may do what: administrators configure queues, reason codes and dispositions; supervisors
read the live view, move agents between queues and set other agents' states;
an agent sets their own state; taking a call ringing elsewhere or waiting in a
queue needs `calls.pickup`; the queue log and the wrap-ups are for report readers.
Agents store their wrap-up through the desk (web/desk.py), which knows the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ticketline.acd.queuelog import read_log
from ticketline.acd.runtime import AcdRuntime
from ticketline.acd.schemas import (
    DispositionIn,
    DispositionOut,
    LoginIn,
    MembershipIn,
    MembershipOut,
    PauseIn,
    QueueIn,
    QueueLogOut,
    QueueOut,
    ReasonCodeIn,
    ReasonCodeOut,
    WrapUpOut,
)
from ticketline.acd.service import AcdAdmin
from ticketline.acd.stats import snapshot
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.errors import InvalidInput

Admin = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
Supervisor = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]
Agent = Annotated[Principal, Depends(require(Perm.CALLS_HANDLE))]
Picker = Annotated[Principal, Depends(require(Perm.CALLS_PICKUP))]
Reader = Annotated[Principal, Depends(require(Perm.REPORTS_READ))]
Short = Annotated[str | None, Query(max_length=64)]
AGENT_ACTIONS = ("login", "logout", "ready", "pause")


def build_router(acd: AcdAdmin, runtime: AcdRuntime) -> APIRouter:
    router = APIRouter(prefix="/api/acd", tags=["acd"])

    @router.get("/queues", response_model=list[QueueOut])
    async def list_queues(_: Supervisor) -> list[QueueOut]:
        return await acd.list_queues()

    @router.post("/queues", response_model=QueueOut, status_code=201)
    async def create_queue(body: QueueIn, who: Admin) -> QueueOut:
        return await acd.create_queue(who.actor, body)

    @router.put("/queues/{code}", response_model=QueueOut)
    async def update_queue(code: str, body: QueueIn, who: Admin) -> QueueOut:
        return await acd.update_queue(who.actor, code, body)

    @router.get("/queues/{code}/members", response_model=list[MembershipOut])
    async def list_members(code: str, _: Supervisor) -> list[MembershipOut]:
        return await acd.list_members(code)

    @router.put("/queues/{code}/members/{agent}", response_model=MembershipOut)
    async def set_member(
        code: str, agent: str, body: MembershipIn, who: Supervisor
    ) -> MembershipOut:
        if body.agent != agent:
            raise InvalidInput("agent", "the body names another agent than the path")
        return await acd.set_member(who.actor, code, body)

    @router.delete("/queues/{code}/members/{agent}", status_code=204)
    async def remove_member(code: str, agent: str, who: Supervisor) -> None:
        await acd.remove_member(who.actor, code, agent)

    @router.get("/reasons", response_model=list[ReasonCodeOut])
    async def list_reasons(_: Agent) -> list[ReasonCodeOut]:
        return await acd.list_reasons()

    @router.put("/reasons/{code}", response_model=ReasonCodeOut)
    async def put_reason(code: str, body: ReasonCodeIn, who: Admin) -> ReasonCodeOut:
        if body.code != code:
            raise InvalidInput("code", "the body names another code than the path")
        return await acd.put_reason(who.actor, body)

    @router.get("/dispositions", response_model=list[DispositionOut])
    async def list_dispositions(_: Agent) -> list[DispositionOut]:
        return await acd.wrapups.dispositions()

    @router.put("/dispositions/{code}", response_model=DispositionOut)
    async def put_disposition(code: str, body: DispositionIn, who: Admin) -> DispositionOut:
        if body.code != code:
            raise InvalidInput("code", "the body names another code than the path")
        return await acd.wrapups.put_disposition(who.actor, body)

    @router.post("/me/login", status_code=204)
    async def login(body: LoginIn, who: Agent) -> None:
        runtime.login(who.username, body.paused_reason)

    @router.post("/me/logout", status_code=204)
    async def logout(who: Agent) -> None:
        runtime.logout(who.username)

    @router.post("/me/ready", status_code=204)
    async def ready(who: Agent) -> None:
        runtime.ready(who.username)

    @router.post("/me/pause", status_code=204)
    async def pause(body: PauseIn, who: Agent) -> None:
        runtime.pause(who.username, body.reason)

    @router.get("/me")
    async def me(who: Agent) -> dict[str, Any]:
        view = snapshot(runtime.router, runtime.stats, runtime.clock.now())
        mine = [a for a in view["agents"] if a["agent"] == who.username]
        return mine[0] if mine else {"agent": who.username, "state": "unknown"}

    @router.post("/agents/{agent}/{action}", status_code=204)
    async def act_for(agent: str, action: str, _: Supervisor, body: PauseIn | None = None) -> None:
        """A supervisor logs an agent in or out, pauses or readies them."""
        if action == "pause":
            if body is None:
                raise InvalidInput("reason", "a reason code is required")
            runtime.pause(agent, body.reason)
        elif action in ("login", "logout", "ready"):
            getattr(runtime, action)(agent)
        else:
            raise InvalidInput("action", f"one of {', '.join(AGENT_ACTIONS)}")

    @router.post("/calls/{call_id}/pickup", status_code=204)
    async def pickup(call_id: str, who: Picker) -> None:
        runtime.pickup(who.username, call_id)

    @router.get("/live")
    async def live(_: Supervisor) -> dict[str, Any]:
        return snapshot(runtime.router, runtime.stats, runtime.clock.now())

    @router.get("/log", response_model=list[QueueLogOut])
    async def queue_log(
        _: Reader,
        queue: Short = None,
        call_id: Short = None,
        agent: Short = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> list[QueueLogOut]:
        entries = await read_log(
            acd.db,
            since=since,
            until=until,
            queue=queue,
            call_id=call_id,
            agent=agent,
            limit=limit,
        )
        return [
            QueueLogOut(
                at=e.at,
                event=e.event.value,
                queue=e.queue_id,
                call_id=e.call_id,
                agent=e.agent_id,
                position=e.position,
                wait=e.wait,
                talk=e.talk,
                data=e.data,
            )
            for e in entries
        ]

    @router.get("/wrapups", response_model=list[WrapUpOut])
    async def wrap_ups(
        _: Reader,
        call_id: Short = None,
        agent: Short = None,
        customer_id: Short = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[WrapUpOut]:
        return await acd.wrapups.list(
            call_id=call_id, agent=agent, customer_id=customer_id, limit=limit
        )

    return router
