"""Pages for people: home, desk, console, customers, staff, extensions and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from ticketline.admin import audit
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, current_principal, require
from ticketline.core.paging import PageRequest
from ticketline.telephony import cdr
from ticketline.web.context import WebContext
from ticketline.web.templating import render

NAV = (
    ("/", "Home", None),
    ("/desk", "Desk", Perm.CALLS_HANDLE),
    ("/console", "Console", Perm.CALLS_SUPERVISE),
    ("/customers", "Customers", Perm.CRM_READ),
    ("/segments", "Segments", Perm.CRM_SEGMENTS),
    ("/work-orders", "Work orders", Perm.WORKORDERS_READ),
    ("/kb", "Knowledge base", Perm.KB_READ),
    ("/admin/catalog", "Catalog", Perm.TICKETING_READ),
    ("/finance", "Finance", Perm.FINANCE_READ),
    ("/admin/staff", "Staff", Perm.STAFF_READ),
    ("/admin/extensions", "Extensions", Perm.STAFF_READ),
    ("/calls", "Call detail records", Perm.CDR_READ),
    ("/admin/audit", "Audit log", Perm.AUDIT_READ),
)


def nav_for(principal: Principal) -> list[tuple[str, str]]:
    return [(path, label) for path, label, perm in NAV if perm is None or principal.can(perm)]


def build_pages_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def home(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> HTMLResponse:
        staff = await ctx.admin.list_staff()
        extensions = await ctx.admin.list_extensions()
        departments = await ctx.admin.list_departments()
        return render(
            request,
            "home.html",
            nav=nav_for(principal),
            active="/",
            counts={
                "Staff members": len(staff),
                "Extensions": len(extensions),
                "Departments": len(departments),
            },
        )

    @router.get("/desk", response_class=HTMLResponse)
    async def desk_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.CALLS_HANDLE))]
    ) -> HTMLResponse:
        return render(request, "desk.html", nav=nav_for(principal), active="/desk")

    @router.get("/console", response_class=HTMLResponse)
    async def console_page(
        request: Request,
        principal: Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))],
    ) -> HTMLResponse:
        return render(request, "console.html", nav=nav_for(principal), active="/console")

    @router.get("/customers", response_class=HTMLResponse)
    async def customers_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.CRM_READ))]
    ) -> HTMLResponse:
        return render(
            request,
            "customers.html",
            nav=nav_for(principal),
            active="/customers",
            can_dial=principal.can(Perm.CALLS_HANDLE),
            can_write=principal.can(Perm.CRM_WRITE),
        )

    @router.get("/admin/staff", response_class=HTMLResponse)
    async def staff_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.STAFF_READ))]
    ) -> HTMLResponse:
        departments = {d.id: d for d in await ctx.admin.list_departments()}
        return render(
            request,
            "staff.html",
            nav=nav_for(principal),
            active="/admin/staff",
            staff=await ctx.admin.list_staff(),
            departments=departments,
            now=ctx.clock.now(),
        )

    @router.get("/admin/extensions", response_class=HTMLResponse)
    async def extensions_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.STAFF_READ))]
    ) -> HTMLResponse:
        return render(
            request,
            "extensions.html",
            nav=nav_for(principal),
            active="/admin/extensions",
            extensions=await ctx.admin.list_extensions(),
        )

    @router.get("/admin/audit", response_class=HTMLResponse)
    async def audit_page(
        request: Request,
        principal: Annotated[Principal, Depends(require(Perm.AUDIT_READ))],
        actor: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        entity_type: Annotated[str | None, Query(max_length=64)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> HTMLResponse:
        query = audit.AuditQuery(
            actor or None, action or None, entity_type or None, None, since, until
        )
        async with ctx.db.sessions() as session:
            found = await audit.search(session, query, PageRequest(page, 50))
        pages = max(1, -(-found.total // found.size))
        return render(
            request,
            "audit.html",
            nav=nav_for(principal),
            active="/admin/audit",
            entries=found.items,
            page=found.page,
            pages=pages,
            query=query,
            zone=ctx.settings.zone,
        )

    @router.get("/calls", response_class=HTMLResponse)
    async def calls_page(
        request: Request,
        principal: Annotated[Principal, Depends(require(Perm.CDR_READ))],
        caller: Annotated[str | None, Query(max_length=64)] = None,
        callee: Annotated[str | None, Query(max_length=64)] = None,
        extension: Annotated[str | None, Query(max_length=16)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
    ) -> HTMLResponse:
        query = cdr.CdrQuery(
            caller=caller or None,
            callee=callee or None,
            extension=extension or None,
            since=since,
            until=until,
        )
        found = await cdr.search_calls(ctx.db, query, PageRequest(page, 50))
        pages = max(1, -(-found.total // found.size))
        return render(
            request,
            "calls.html",
            nav=nav_for(principal),
            active="/calls",
            calls=found.items,
            total=found.total,
            page=found.page,
            pages=pages,
            query=query,
            zone=ctx.settings.zone,
            filters=urlencode({k: v for k, v in request.query_params.items() if k != "page"}),
        )

    return router
