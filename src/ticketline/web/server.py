"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ticketline import __version__
from ticketline.web.auth import build_auth_router, install_auth, principal_from_connection
from ticketline.web.context import WebContext
from ticketline.web.errors import install_error_handlers
from ticketline.web.finance_pages import build_finance_pages_router
from ticketline.web.pages import build_pages_router
from ticketline.web.realtime import build_realtime_router
from ticketline.web.service_pages import build_service_pages_router
from ticketline.web.ticketing_pages import build_ticketing_pages_router

STATIC_DIR = Path(__file__).parent / "static"


def create_web_app(ctx: WebContext) -> FastAPI:
    """The web server for pages, the API (OpenAPI at /docs), health and metrics."""
    app = FastAPI(
        title="Ticketline", version=__version__, docs_url="/docs", openapi_url="/openapi.json"
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    install_auth(app, ctx)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(build_auth_router(ctx))
    app.include_router(build_pages_router(ctx))
    app.include_router(build_service_pages_router(ctx))
    app.include_router(build_ticketing_pages_router(ctx))
    app.include_router(build_finance_pages_router(ctx))
    app.include_router(
        build_realtime_router(ctx.hub, lambda ws: principal_from_connection(ctx, ws))
    )
    for router in [*ctx.api_routers, *ctx.page_routers]:
        app.include_router(router)
    _add_probes(app, ctx)
    return app


def _add_probes(app: FastAPI, ctx: WebContext) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> Response:
        """Liveness and database reachability."""
        database_ok = await ctx.db.ping()
        body = {
            "status": "ok" if database_ok else "degraded",
            "database": "ok" if database_ok else "unreachable",
            "version": __version__,
        }
        return JSONResponse(body, status_code=200 if database_ok else 503)

    @app.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        """Prometheus metrics in the text exposition format."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
