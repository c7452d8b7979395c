"""HTTP API of the IVR: flows (list, reload), announcements, recordings, statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.errors import InvalidInput, NotFound
from ticketline.ivr.prompts import PromptCache
from ticketline.ivr.schemas import (
    AnnouncementIn,
    AnnouncementOut,
    FlowOut,
    FlowStatsOut,
    NodeStatsOut,
    ReloadOut,
)
from ticketline.ivr.service import AnnouncementService, IvrService
from ticketline.ivr.stats import FlowStats

Admin = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
Reader = Annotated[Principal, Depends(require(Perm.REPORTS_READ))]
MAX_UPLOAD = 20 * 1024 * 1024


def build_router(ivr: IvrService) -> APIRouter:
    router = APIRouter(prefix="/api/ivr", tags=["ivr"])

    @router.get("/flows", response_model=list[FlowOut])
    async def list_flows(_: Admin) -> list[FlowOut]:
        return [_flow_out(ivr, name) for name in ivr.flows.names()]

    @router.post("/flows/reload", response_model=ReloadOut)
    async def reload_flows(_: Admin) -> ReloadOut:
        report = await ivr.flows.reload_and_announce()
        return ReloadOut(
            loaded=list(report.loaded),
            removed=list(report.removed),
            problems=[str(p) for p in report.rejected],
        )

    @router.get("/announcements", response_model=list[AnnouncementOut])
    async def list_announcements(_: Admin, current: bool = True) -> list[AnnouncementOut]:
        notices = await _announcements(ivr).search(current_only=current)
        return [AnnouncementOut.model_validate(n) for n in notices]

    @router.post("/announcements", response_model=AnnouncementOut, status_code=201)
    async def create_announcement(body: AnnouncementIn, who: Admin) -> AnnouncementOut:
        return AnnouncementOut.model_validate(await _announcements(ivr).create(who.actor, body))

    @router.delete("/announcements/{announcement_id}", status_code=204)
    async def delete_announcement(announcement_id: str, who: Admin) -> Response:
        await _announcements(ivr).delete(who.actor, announcement_id)
        return Response(status_code=204)

    @router.put("/prompts/{key}/{lang}", status_code=204)
    async def upload_recording(key: str, lang: str, request: Request, _: Admin) -> Response:
        body = await request.body()
        if not body or len(body) > MAX_UPLOAD:
            raise InvalidInput("file", f"send a WAV file of 1 byte to {MAX_UPLOAD} bytes")
        _cache(ivr).set_override(key, lang, body)
        return Response(status_code=204)

    @router.delete("/prompts/{key}/{lang}", status_code=204)
    async def delete_recording(key: str, lang: str, _: Admin) -> Response:
        if not _cache(ivr).remove_override(key, lang):
            raise NotFound(f"no recording for {key} in {lang}")
        return Response(status_code=204)

    @router.get("/stats/{flow}", response_model=FlowStatsOut)
    async def flow_stats(
        flow: str,
        _: Reader,
        since: datetime | None = None,
        until: datetime | None = None,
        days: Annotated[int, Query(ge=1, le=366)] = 1,
    ) -> FlowStatsOut:
        if ivr.call_log is None:
            raise NotFound("no IVR call log in this installation")
        end = until or ivr.clock.now()
        start = since or end - timedelta(days=days)
        return stats_out(await ivr.call_log.stats(flow, start, end))

    return router


def _flow_out(ivr: IvrService, name: str) -> FlowOut:
    flow = ivr.flows.get(name)
    return FlowOut(
        name=flow.name,
        title=flow.definition.title,
        version=flow.version,
        path=flow.path,
        numbers=list(flow.definition.numbers),
        warnings=list(flow.warnings),
    )


def _announcements(ivr: IvrService) -> AnnouncementService:
    if ivr.announcements is None:
        raise NotFound("announcements are not enabled")
    return ivr.announcements


def _cache(ivr: IvrService) -> PromptCache:
    if not isinstance(ivr.prompts, PromptCache):
        raise NotFound("recorded prompts need the prompt cache")
    return ivr.prompts


def stats_out(stats: FlowStats) -> FlowStatsOut:
    return FlowStatsOut(
        flow=stats.flow,
        calls=stats.calls,
        contained=stats.contained,
        containment_rate=round(stats.containment_rate, 4),
        outcomes=dict(stats.outcomes),
        nodes=[
            NodeStatsOut(
                node=name,
                entries=n.entries,
                exits=dict(n.exits),
                timeouts=n.timeouts,
                invalid=n.invalid,
                hangups=n.hangups,
                errors=n.errors,
            )
            for name, n in sorted(stats.nodes.items())
        ],
    )
