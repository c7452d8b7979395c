"""HTTP API of the notify area: templates an operator edits, the outbox to inspect."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.notify.inbound import InboundSms
from ticketline.notify.schemas import OutboxOut, TemplateIn, TemplateOut
from ticketline.notify.service import NotifyService

Operator = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
Watcher = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]
TemplateKey = Annotated[str, Query(pattern=r"^[a-z0-9_.-]{1,64}$")]


def build_router(service: NotifyService) -> APIRouter:
    router = APIRouter(prefix="/api/notify", tags=["notify"])

    @router.get("/templates", response_model=list[TemplateOut])
    async def list_templates(_: Operator) -> list[TemplateOut]:
        return [
            TemplateOut.model_validate(t, from_attributes=True)
            for t in await service.list_templates()
        ]

    @router.put("/templates/{key}/{locale}", response_model=TemplateOut)
    async def set_template(
        key: str, locale: Literal["zh_CN", "en"], body: TemplateIn, who: Operator
    ) -> TemplateOut:
        template = await service.set_template(who.actor, key, locale, body.body)
        return TemplateOut.model_validate(template, from_attributes=True)

    @router.get("/outbox", response_model=list[OutboxOut])
    async def outbox(
        _: Watcher,
        ref: Annotated[str | None, Query(max_length=64)] = None,
        to: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[OutboxOut]:
        return [
            OutboxOut.model_validate(m, from_attributes=True)
            for m in await service.outbox(ref=ref, to=to, limit=limit)
        ]

    return router


def build_inbound_router(inbound: InboundSms) -> APIRouter:
    router = APIRouter(prefix="/api/public/sms", tags=["public"])

    @router.get("/inbound", status_code=202, response_class=Response)
    async def receive(
        token: Annotated[str, Query(max_length=200)],
        sender: Annotated[str, Query(alias="from", max_length=40)],
        receiver: Annotated[str, Query(alias="to", max_length=40)],
        text: Annotated[str, Query(max_length=4000)],
    ) -> Response:
        """One message from the gateway (Kannel get-url: from=%p&to=%P&text=%a).

        The answer is empty so that the gateway sends nothing back by itself."""
        await inbound.receive(token, sender, receiver, text)
        return Response(status_code=202)

    return router
