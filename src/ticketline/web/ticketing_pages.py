"""Admin pages for the ticketing catalog, fares and fee rules.

The pages are thin: they hand the browser the choices it needs (seat classes, products,
today's date, whether the user may edit) and the browser talks to the documented REST API
under /api/ticketing. Whoever may read ticketing sees the pages; only catalog editors
get the forms and buttons.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.ticketing.schemas import SEAT_CLASSES
from ticketline.web.context import WebContext
from ticketline.web.pages import nav_for
from ticketline.web.templating import render, request_locale

PRODUCTS = ("rail", "coach", "event")
Reader = Annotated[Principal, Depends(require(Perm.TICKETING_READ))]


def build_ticketing_pages_router(ctx: WebContext) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, principal: Principal, template: str) -> HTMLResponse:
        choices = {
            "canWrite": principal.can(Perm.CATALOG_WRITE),
            "classes": seat_classes(request_locale(request)),
            "products": list(PRODUCTS),
            "today": ctx.clock.now().astimezone(ctx.settings.zone).date().isoformat(),
        }
        return render(
            request,
            template,
            nav=nav_for(principal),
            active="/admin/catalog",
            choices=choices,
            can_write=choices["canWrite"],
        )

    @router.get("/admin/catalog", response_class=HTMLResponse)
    async def catalog_page(request: Request, principal: Reader) -> HTMLResponse:
        return page(request, principal, "catalog.html")

    @router.get("/admin/fares", response_class=HTMLResponse)
    async def fares_page(request: Request, principal: Reader) -> HTMLResponse:
        return page(request, principal, "fares.html")

    @router.get("/admin/fee-rules", response_class=HTMLResponse)
    async def fee_rules_page(request: Request, principal: Reader) -> HTMLResponse:
        return page(request, principal, "fee_rules.html")

    return router


def seat_classes(locale: str) -> list[dict[str, Any]]:
    """Seat class codes with their name in the page's language, in the catalog's order."""
    return [
        {"code": code, "name": zh if locale == "zh_CN" else en}
        for code, (zh, en) in SEAT_CLASSES.items()
    ]
