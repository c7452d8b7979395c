"""Jinja2 pages with the user's language and the CSRF token at hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ticketline.web.i18n import translations

TEMPLATES_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def request_locale(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh_CN"))


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render template `name` in the request's language."""
    locale = request_locale(request)
    catalog = translations(locale)

    def gettext(message: str, **values: Any) -> str:
        text = catalog.gettext(message)
        return text % values if values else text

    principal = getattr(request.state, "principal", None)
    html = _env.get_template(name).render(
        request=request,
        _=gettext,
        locale=locale,
        principal=principal,
        csrf_token=principal.csrf_token if principal else "",
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
