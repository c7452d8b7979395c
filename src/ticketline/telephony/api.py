"""HTTP API of the telephony area: trunks and call detail records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.errors import NotFound
from ticketline.core.paging import PageRequest
from ticketline.db.session import Database
from ticketline.telephony import cdr
from ticketline.telephony.models import CallLeg, CallRecord, Trunk
from ticketline.telephony.schemas import (
    CallLegOut,
    CallRecordOut,
    CallRecordPage,
    TrunkIn,
    TrunkOut,
)
from ticketline.telephony.trunks import TrunkService

Admin = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
CdrReader = Annotated[Principal, Depends(require(Perm.CDR_READ))]
Short = Annotated[str | None, Query(max_length=64)]


def build_router(trunks: TrunkService, db: Database) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["telephony"])

    @router.get("/trunks", response_model=list[TrunkOut])
    async def list_trunks(_: Admin) -> list[TrunkOut]:
        return [trunk_out(t) for t in await trunks.list()]

    @router.post("/trunks", response_model=TrunkOut, status_code=201)
    async def create_trunk(body: TrunkIn, who: Admin) -> TrunkOut:
        return trunk_out(await trunks.create(who.actor, body))

    @router.put("/trunks/{name}", response_model=TrunkOut)
    async def replace_trunk(name: str, body: TrunkIn, who: Admin) -> TrunkOut:
        return trunk_out(await trunks.replace(who.actor, name, body))

    @router.get("/calls", response_model=CallRecordPage)
    async def search_calls(
        _: CdrReader,
        caller: Short = None,
        callee: Short = None,
        extension: Short = None,
        direction: Short = None,
        end_cause: Short = None,
        since: datetime | None = None,
        until: datetime | None = None,
        min_duration_ms: Annotated[int | None, Query(ge=0)] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> CallRecordPage:
        query = cdr.CdrQuery(
            caller, callee, extension, direction, end_cause, since, until, min_duration_ms
        )
        found = await cdr.search_calls(db, query, PageRequest(page, size))
        return CallRecordPage(
            total=found.total,
            page=found.page,
            size=found.size,
            items=[call_out(c) for c in found.items],
        )

    @router.get("/calls/{call_id}", response_model=CallRecordOut)
    async def get_call(call_id: str, _: CdrReader) -> CallRecordOut:
        async with db.sessions() as session:
            call = await session.get(CallRecord, call_id)
        if call is None:
            raise NotFound(f"no call {call_id}")
        return call_out(call, await cdr.legs_of(db, call_id))

    return router


def trunk_out(trunk: Trunk) -> TrunkOut:
    return TrunkOut.model_validate(trunk, from_attributes=True)


def call_out(call: CallRecord, legs: list[CallLeg] | None = None) -> CallRecordOut:
    out = CallRecordOut.model_validate(call, from_attributes=True)
    out.legs = [CallLegOut.model_validate(leg, from_attributes=True) for leg in legs or []]
    return out
