"""Pages for after-call service: work orders, the knowledge base and the public status page.

The pages are thin: they hand the browser the choices it needs (departments, staff, the
moves each state allows) and the browser talks to the documented REST API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ticketline.admin.models import Department, Staff
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.web.context import WebContext
from ticketline.web.pages import nav_for
from ticketline.web.templating import render, request_locale
from ticketline.workorders.schemas import TYPES
from ticketline.workorders.states import TABLE, State

PRIORITIES = ("low", "normal", "high", "urgent")
PAGE_ACTIONS = ("start", "wait", "resume", "resolve", "close", "reopen")


def build_service_pages_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/work-orders", response_class=HTMLResponse)
    async def work_orders_page(
        request: Request,
        principal: Annotated[Principal, Depends(require(Perm.WORKORDERS_READ))],
    ) -> HTMLResponse:
        departments = await ctx.admin.list_departments()
        staff = await ctx.admin.list_staff()
        return render(
            request,
            "work_orders.html",
            nav=nav_for(principal),
            active="/work-orders",
            choices={
                "departments": [_department(d, request_locale(request)) for d in departments],
                "staff": [_person(s) for s in staff if s.is_active],
                "types": list(TYPES),
                "priorities": list(PRIORITIES),
                "states": [s.value for s in State],
                "moves": allowed_moves(),
                "me": principal.staff_id,
                "myDepartment": _department_code(departments, staff, principal.staff_id),
                "canWrite": principal.can(Perm.WORKORDERS_WRITE),
                "attachmentMaxBytes": ctx.settings.attachment_max_bytes,
            },
        )

    @router.get("/segments", response_class=HTMLResponse)
    async def segments_page(
        request: Request,
        principal: Annotated[Principal, Depends(require(Perm.CRM_SEGMENTS))],
    ) -> HTMLResponse:
        return render(
            request,
            "segments.html",
            nav=nav_for(principal),
            active="/segments",
            choices={"canImport": principal.can(Perm.CRM_WRITE)},
        )

    @router.get("/kb", response_class=HTMLResponse)
    async def kb_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.KB_READ))]
    ) -> HTMLResponse:
        return render(
            request,
            "kb.html",
            nav=nav_for(principal),
            active="/kb",
            choices={"canWrite": principal.can(Perm.KB_WRITE), "types": list(TYPES)},
        )

    @router.get("/status", response_class=HTMLResponse)
    async def public_status_page(request: Request) -> HTMLResponse:
        """For customers, no login: a work order's state by its code and their phone."""
        return render(request, "status.html", nav=[], active="")

    return router


def allowed_moves() -> dict[str, list[str]]:
    """The page's buttons per state, taken from the one state machine."""
    moves: dict[str, list[str]] = {s.value: [] for s in State}
    for state, action in TABLE:
        if action.value in PAGE_ACTIONS:
            moves[state.value].append(action.value)
    return moves


def _department(department: Department, locale: str) -> dict[str, str]:
    name = department.name_zh if locale == "zh_CN" else department.name_en
    return {"id": department.id, "code": department.code, "name": name}


def _person(staff: Staff) -> dict[str, Any]:
    return {"id": staff.id, "username": staff.username, "name": staff.display_name}


def _department_code(
    departments: list[Department], staff: list[Staff], staff_id: str | None
) -> str | None:
    me = next((s for s in staff if s.id == staff_id), None)
    found = next((d for d in departments if me and d.id == me.department_id), None)
    return found.code if found else None
