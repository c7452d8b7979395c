"""HTTP API of the work orders area: thin handlers over the services.

`/api/public/workorders/...` needs no login (the customer's status page and rating
link); it answers only to a code plus the matching phone, and is rate limited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.errors import InvalidInput, RateLimited
from ticketline.core.paging import PageRequest
from ticketline.core.ratelimit import RateLimiter
from ticketline.core.uploads import MultipartReader, declared_too_large, upload_doc
from ticketline.workorders import reports
from ticketline.workorders.attachments import AttachmentService, AttachmentTooLarge
from ticketline.workorders.models import WorkOrder, WorkOrderLog
from ticketline.workorders.schemas import (
    AssignIn,
    AttachmentOut,
    CalendarIn,
    EscalateIn,
    HolidayIn,
    LogOut,
    NoteIn,
    PolicyIn,
    PolicyOut,
    PublicStatus,
    RatingIn,
    ReportOut,
    TransferIn,
    TransitionIn,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderOut,
    WorkOrderPage,
)
from ticketline.workorders.service import WorkOrderFilter, WorkOrderService
from ticketline.workorders.sla import SlaService

Reader = Annotated[Principal, Depends(require(Perm.WORKORDERS_READ))]
Writer = Annotated[Principal, Depends(require(Perm.WORKORDERS_WRITE))]
Supervisor = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]
Operator = Annotated[Principal, Depends(require(Perm.SETTINGS_WRITE))]
Analyst = Annotated[Principal, Depends(require(Perm.REPORTS_READ))]
PageNo = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=500)]
Short = Annotated[str | None, Query(max_length=64)]


def build_router(
    service: WorkOrderService, sla: SlaService, attachments: AttachmentService
) -> APIRouter:
    router = APIRouter(prefix="/api/workorders", tags=["workorders"])

    async def page_out(where: WorkOrderFilter, page: int, size: int) -> WorkOrderPage:
        found = await service.search(where, PageRequest(page, size))
        codes = await service.department_codes()
        return WorkOrderPage(
            items=[work_order_out(o, codes) for o in found.items],
            total=found.total,
            page=found.page,
            size=found.size,
        )

    async def detail(order: WorkOrder) -> WorkOrderDetail:
        base = work_order_out(order, await service.department_codes())
        log = [log_out(e) for e in await service.log(order.id)]
        return WorkOrderDetail(**base.model_dump(), log=log)

    @router.post("", response_model=WorkOrderDetail, status_code=201)
    async def create(body: WorkOrderCreate, who: Writer) -> WorkOrderDetail:
        return await detail(await service.open(who.actor, body))

    @router.get("", response_model=WorkOrderPage)
    async def search(
        _: Reader,
        state: Short = None,
        type: Short = None,
        priority: Short = None,
        department: Short = None,
        assignee_id: Short = None,
        customer_id: Short = None,
        open_only: bool = False,
        page: PageNo = 1,
        size: PageSize = 50,
    ) -> WorkOrderPage:
        where = WorkOrderFilter(
            state, type, priority, department, assignee_id, customer_id, open_only
        )
        return await page_out(where, page, size)

    @router.get("/overdue", response_model=WorkOrderPage)
    async def overdue(_: Reader, page: PageNo = 1, size: PageSize = 50) -> WorkOrderPage:
        """Open work orders past their resolution target, most overdue first."""
        where = WorkOrderFilter(overdue_at=service.clock.now())
        return await page_out(where, page, size)

    @router.get("/queue/{department}", response_model=WorkOrderPage)
    async def queue(
        department: str, _: Reader, page: PageNo = 1, size: PageSize = 50
    ) -> WorkOrderPage:
        """A department's open work orders."""
        return await page_out(WorkOrderFilter(department=department, open_only=True), page, size)

    @router.get("/reports/summary", response_model=ReportOut)
    async def summary(_: Analyst, since: datetime, until: datetime) -> ReportOut:
        if until <= since:
            raise InvalidInput("until", "must be after since")
        report = await reports.summary(service.db, since, until)
        return ReportOut(**report.__dict__)

    @router.get("/by-code/{code}", response_model=WorkOrderDetail)
    async def by_code(code: str, _: Reader) -> WorkOrderDetail:
        return await detail(await service.by_code(code))

    @router.get("/{work_order_id}", response_model=WorkOrderDetail)
    async def get(work_order_id: str, _: Reader) -> WorkOrderDetail:
        return await detail(await service.get(work_order_id))

    @router.post("/{work_order_id}/transitions", response_model=WorkOrderDetail)
    async def act(work_order_id: str, body: TransitionIn, who: Writer) -> WorkOrderDetail:
        return await detail(await service.act(who.actor, work_order_id, body.action, body.comment))

    @router.post("/{work_order_id}/assign", response_model=WorkOrderDetail)
    async def assign(work_order_id: str, body: AssignIn, who: Writer) -> WorkOrderDetail:
        return await detail(await service.assign(who.actor, work_order_id, body))

    @router.post("/{work_order_id}/transfer", response_model=WorkOrderDetail)
    async def transfer(work_order_id: str, body: TransferIn, who: Writer) -> WorkOrderDetail:
        return await detail(await service.transfer(who.actor, work_order_id, body))

    @router.post("/{work_order_id}/escalate", response_model=WorkOrderDetail)
    async def escalate(work_order_id: str, body: EscalateIn, who: Writer) -> WorkOrderDetail:
        return await detail(await service.escalate(who.actor, work_order_id, body.reason))

    @router.post("/{work_order_id}/notes", response_model=LogOut, status_code=201)
    async def note(work_order_id: str, body: NoteIn, who: Writer) -> LogOut:
        """An internal note, or with `public: true` a reply the customer sees."""
        return log_out(await service.add_note(who.actor, work_order_id, body.text, body.public))

    @router.post(
        "/{work_order_id}/attachments",
        response_model=AttachmentOut,
        status_code=201,
        openapi_extra=upload_doc(),
    )
    async def attach(
        work_order_id: str, request: Request, who: Writer, internal: bool = True
    ) -> AttachmentOut:
        """Upload one file (multipart field `file`), streamed and checked as it arrives."""
        if declared_too_large(request.headers.get("content-length"), attachments.max_bytes):
            raise AttachmentTooLarge(
                f"the upload is larger than the limit of {attachments.max_bytes} bytes",
                details={"field": "file", "max_bytes": attachments.max_bytes},
            )
        reader = MultipartReader(request.headers.get("content-type", ""), request.stream())
        filename = await reader.file("file")
        row = await attachments.store(
            who.actor, work_order_id, filename, reader.chunks(), internal=internal
        )
        return AttachmentOut.model_validate(row, from_attributes=True)

    @router.get("/{work_order_id}/attachments", response_model=list[AttachmentOut])
    async def attached(work_order_id: str, _: Reader) -> list[AttachmentOut]:
        rows = await attachments.kept(work_order_id)
        return [AttachmentOut.model_validate(row, from_attributes=True) for row in rows]

    @router.get("/{work_order_id}/attachments/{attachment_id}")
    async def download(work_order_id: str, attachment_id: str, _: Reader) -> FileResponse:
        row, path = await attachments.open(work_order_id, attachment_id)
        return FileResponse(
            path,
            media_type=row.content_type,
            filename=row.filename,
            headers={"X-Content-Type-Options": "nosniff"},
        )

    @router.delete("/{work_order_id}/attachments/{attachment_id}", status_code=204)
    async def detach(work_order_id: str, attachment_id: str, who: Writer) -> None:
        await attachments.remove(who.actor, work_order_id, attachment_id)

    @router.get("/sla/policies", response_model=list[PolicyOut])
    async def policies(_: Reader) -> list[PolicyOut]:
        return [PolicyOut.model_validate(p, from_attributes=True) for p in await sla.policies()]

    @router.put("/sla/policies", status_code=204)
    async def save_policy(body: PolicyIn, who: Operator) -> None:
        await sla.save_policy(who.actor, body)

    @router.put("/sla/calendars/{code}", status_code=204)
    async def save_calendar(code: str, body: CalendarIn, who: Operator) -> None:
        if body.code != code:
            raise InvalidInput("code", "must match the code in the path")
        await sla.save_calendar(who.actor, body)

    @router.put("/sla/calendars/{code}/holidays", status_code=204)
    async def set_holiday(code: str, body: HolidayIn, who: Operator) -> None:
        await sla.set_holiday(who.actor, code, body)

    return router


def build_public_router(service: WorkOrderService) -> APIRouter:
    router = APIRouter(prefix="/api/public/workorders", tags=["public"])
    limiter = RateLimiter(limit=20, window=timedelta(minutes=1))

    def check_rate(request: Request) -> None:
        key = request.client.host if request.client else "unknown"
        if not limiter.allow(key, service.clock.now()):
            raise RateLimited("too many look-ups; try again in a minute")

    limited = [Depends(check_rate)]

    @router.get("/status", response_model=PublicStatus, dependencies=limited)
    async def status(
        code: Annotated[str, Query(max_length=16)],
        phone: Annotated[str, Query(max_length=40)],
    ) -> PublicStatus:
        """State and last reply of a work order, for its customer (code + phone)."""
        view = await service.public_status(code, phone)
        return PublicStatus(**view.__dict__)

    @router.post("/rating", status_code=204, dependencies=limited)
    async def rate(body: RatingIn) -> None:
        """Satisfaction 1-5 after resolution (the link in the SMS)."""
        await service.rate(body.code, body.phone, body.score, body.comment)

    return router


def work_order_out(order: WorkOrder, departments: dict[str, str]) -> WorkOrderOut:
    return WorkOrderOut(
        id=order.id,
        code=order.code,
        type=order.type,
        priority=order.priority,
        title=order.title,
        description=order.description,
        source=order.source,
        customer_id=order.customer_id,
        phone=order.phone,
        order_ref=order.order_ref,
        department=departments.get(order.department_id, order.department_id),
        assignee_id=order.assignee_id,
        state=order.state,
        escalation_level=order.escalation_level,
        reopen_count=order.reopen_count,
        created_by=order.created_by,
        created_at=order.created_at,
        updated_at=order.updated_at,
        first_response_due=order.first_response_due,
        resolution_due=order.resolution_due,
        first_response_at=order.first_response_at,
        resolved_at=order.resolved_at,
        response_breached=order.response_breached,
        resolution_breached=order.resolution_breached,
        satisfaction=order.satisfaction,
    )


def log_out(entry: WorkOrderLog) -> LogOut:
    return LogOut(
        at=entry.at,
        actor=entry.actor_name,
        kind=entry.kind,
        from_state=entry.from_state,
        to_state=entry.to_state,
        comment=entry.comment,
        public=entry.public,
        detail=entry.detail,
    )
