"""Who is calling: bearer tokens for the API, a session cookie for pages, CSRF checks."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.requests import HTTPConnection

from ticketline.admin.schemas import LoginIn, MeOut, TokenOut
from ticketline.admin.security import Principal, current_principal
from ticketline.core.errors import AccountLocked, AuthenticationFailed, RateLimited
from ticketline.core.ratelimit import RateLimiter
from ticketline.web.context import WebContext
from ticketline.web.errors import error_body
from ticketline.web.i18n import SUPPORTED, choose_locale
from ticketline.web.templating import render

SESSION_COOKIE = "tl_session"
LOGIN_CSRF_COOKIE = "tl_login_csrf"
LANG_COOKIE = "tl_lang"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def client_ip(request: HTTPConnection) -> str | None:
    return request.client.host if request.client else None


def install_auth(app: FastAPI, ctx: WebContext) -> None:
    """Resolve the principal of every request before any handler runs."""

    @app.middleware("http")
    async def authenticate(request: Request, call_next):  # type: ignore[no-untyped-def]
        principal = await principal_from_connection(ctx, request)
        request.state.principal = principal
        request.state.locale = choose_locale(
            principal.locale if principal else request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
            ctx.settings.default_locale,
        )
        if principal and not _csrf_ok(request, principal):
            return JSONResponse(
                error_body("csrf_failed", "missing or wrong X-CSRF-Token header"),
                status_code=403,
            )
        return await call_next(request)


async def principal_from_connection(ctx: WebContext, request: HTTPConnection) -> Principal | None:
    """The bearer token or session cookie of an HTTP request or a WebSocket."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return await ctx.auth.resolve(header[7:].strip(), client_ip(request))
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return await ctx.auth.resolve(cookie, client_ip(request))
    return None


def _csrf_ok(request: Request, principal: Principal) -> bool:
    """Cookie-authenticated writes must prove they come from our own pages.

    API calls send the X-CSRF-Token header; HTML forms carry a `csrf_token` field
    that the page handler checks itself (see `check_form_csrf`).
    """
    if principal.auth_kind != "session" or request.method not in UNSAFE_METHODS:
        return True
    sent = request.headers.get("x-csrf-token")
    if sent is not None:
        return secrets.compare_digest(sent, principal.csrf_token)
    return not request.url.path.startswith("/api/")


def check_form_csrf(principal: Principal, sent: str) -> None:
    if not secrets.compare_digest(sent, principal.csrf_token):
        raise AuthenticationFailed("the form is stale or forged; reload the page")


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def build_auth_router(ctx: WebContext) -> APIRouter:
    router = APIRouter()
    limiter = RateLimiter(limit=20, window=timedelta(minutes=1))

    def throttle(request: Request) -> None:
        if not limiter.allow(client_ip(request), ctx.clock.now()):
            raise RateLimited("too many login attempts from this address; wait a minute")

    @router.get("/login", include_in_schema=False)
    async def login_page(request: Request, next: str | None = None) -> Response:
        return _login_form(request, safe_next(next), error=None)

    @router.post("/login", include_in_schema=False)
    async def login_submit(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=128)],
        csrf_token: Annotated[str, Form(max_length=100)],
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            return _login_form(
                request, safe_next(next), "Your session expired; please log in again.", 400
            )
        throttle(request)
        try:
            issued = await ctx.auth.login(username, password, kind="session", ip=client_ip(request))
        except AccountLocked:
            return _login_form(
                request,
                safe_next(next),
                "Account locked after repeated failed logins; try again later.",
                423,
            )
        except AuthenticationFailed:
            return _login_form(request, safe_next(next), "Wrong username or password.", 401)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            issued.token,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.secure_cookies,
            max_age=int((issued.expires_at - ctx.clock.now()).total_seconds()),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout(
        request: Request, csrf_token: Annotated[str, Form(max_length=100)]
    ) -> Response:
        principal = current_principal(request)
        check_form_csrf(principal, csrf_token)
        await ctx.auth.logout(request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @router.post("/lang", include_in_schema=False)
    async def switch_language(
        request: Request,
        locale: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
        csrf_token: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        if locale not in SUPPORTED:
            locale = ctx.settings.default_locale
        principal = request.state.principal
        if principal is not None:
            check_form_csrf(principal, csrf_token)
            await ctx.admin.set_locale(principal.actor, principal.staff_id, locale)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(LANG_COOKIE, locale, samesite="lax", max_age=365 * 86400)
        return response

    @router.post("/api/auth/token", response_model=TokenOut, tags=["auth"])
    async def issue_token(request: Request, body: LoginIn) -> TokenOut:
        """Exchange a username and password for a bearer token."""
        throttle(request)
        issued = await ctx.auth.login(
            body.username, body.password, kind="api", ip=client_ip(request)
        )
        return TokenOut(token=issued.token, expires_at=issued.expires_at)

    @router.get("/api/auth/me", response_model=MeOut, tags=["auth"])
    async def me(principal: Annotated[Principal, Depends(current_principal)]) -> MeOut:
        return MeOut(
            id=principal.staff_id,
            username=principal.username,
            display_name=principal.display_name,
            roles=list(principal.roles),
            permissions=sorted(p.value for p in principal.permissions),
            locale=principal.locale,
        )

    @router.post("/api/auth/logout", status_code=204, tags=["auth"])
    async def api_logout(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Response:
        header = request.headers.get("authorization", "")
        token = (
            header[7:].strip()
            if header.lower().startswith("bearer ")
            else request.cookies.get(SESSION_COOKIE, "")
        )
        await ctx.auth.logout(token)
        return Response(status_code=204)

    return router


def _login_form(request: Request, next_path: str, error: str | None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status_code=status, next=next_path, error=error, login_csrf=token
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict")
    return response
