"""The one place errors become HTTP responses: JSON {code, message, details}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticketline.core.errors import AuthenticationFailed, TicketlineError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TicketlineError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(request: Request, exc: TicketlineError) -> Response:
    if isinstance(exc, AuthenticationFailed) and wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return JSONResponse(exc.as_dict(), status_code=exc.status)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [_describe(err) for err in exc.errors()]
    first = problems[0] if problems else {"field": "body", "reason": "invalid"}
    message = f"{first['field']}: {first['reason']}"
    return JSONResponse(error_body("invalid_input", message, {"errors": problems}), status_code=422)


def _describe(err: dict[str, Any]) -> dict[str, str]:
    location = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or "body"
    reason = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        reason = "unknown field"
    return {"field": field, "reason": reason}


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal_error", "internal error"), status_code=500)
