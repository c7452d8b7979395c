"""What the web layer is handed by the composition root (ticketline.app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter

from ticketline.admin.auth import AuthService
from ticketline.admin.service import AdminService
from ticketline.config import Settings
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.db.session import Database
from ticketline.web.realtime import RealtimeHub


@dataclass
class WebContext:
    settings: Settings
    db: Database
    clock: Clock
    bus: EventBus
    auth: AuthService
    admin: AdminService
    hub: RealtimeHub = field(default_factory=RealtimeHub)
    api_routers: list[APIRouter] = field(default_factory=list)
    page_routers: list[APIRouter] = field(default_factory=list)
