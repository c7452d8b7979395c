"""Pages for the money side: the finance page and an order's printable receipt.

Thin like the other pages: the browser reads the documented API (/api/ticketing/finance
and /api/ticketing/orders/{code}).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.web.context import WebContext
from ticketline.web.pages import nav_for
from ticketline.web.templating import render

BookingCode = Annotated[str, Path(min_length=4, max_length=12, pattern=r"^[A-Za-z0-9]+$")]


def build_finance_pages_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def today() -> str:
        return ctx.clock.now().astimezone(ctx.settings.zone).date().isoformat()

    @router.get("/finance", response_class=HTMLResponse)
    async def finance_page(
        request: Request, principal: Annotated[Principal, Depends(require(Perm.FINANCE_READ))]
    ) -> HTMLResponse:
        return render(
            request,
            "finance.html",
            nav=nav_for(principal),
            active="/finance",
            choices={"today": today()},
            can_write=principal.can(Perm.FINANCE_WRITE),
        )

    @router.get("/orders/{code}/receipt", response_class=HTMLResponse)
    async def receipt_page(
        request: Request,
        code: BookingCode,
        principal: Annotated[Principal, Depends(require(Perm.TICKETING_READ))],
    ) -> HTMLResponse:
        """A receipt of everything paid and given back on an order, to print or hand over."""
        return render(
            request,
            "receipt.html",
            choices={"code": code.upper(), "company": ctx.settings.company_name},
            printed_by=principal.display_name,
            printed_on=today(),
        )

    return router
