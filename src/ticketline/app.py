"""The composition root: the one place that constructs services and wires them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from fastapi import FastAPI

from ticketline.admin import api as admin_api
from ticketline.admin.auth import AuthService, LoginPolicy
from ticketline.admin.service import AdminService
from ticketline.config import Settings
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock, SystemClock
from ticketline.db.session import Database
from ticketline.telephony import api as telephony_api
from ticketline.telephony.cdr import CdrRecorder
from ticketline.telephony.trunks import TrunkService
from ticketline.web.context import WebContext
from ticketline.web.server import create_web_app


@dataclass
class Application:
    """Every long-lived service of one Ticketline process."""

    settings: Settings
    clock: Clock
    bus: EventBus
    db: Database
    admin: AdminService
    auth: AuthService
    trunks: TrunkService
    cdr: CdrRecorder
    extras: dict[str, object] = field(default_factory=dict)

    def web_app(self) -> FastAPI:
        ctx = WebContext(
            settings=self.settings,
            db=self.db,
            clock=self.clock,
            bus=self.bus,
            auth=self.auth,
            admin=self.admin,
            api_routers=[
                admin_api.build_router(self.admin),
                telephony_api.build_router(self.trunks, self.db),
            ],
        )
        return create_web_app(ctx)

    async def close(self) -> None:
        await self.db.dispose()


def build_application(settings: Settings, clock: Clock | None = None) -> Application:
    """Construct the services for `settings`; nothing is started or migrated here."""
    clock = clock or SystemClock()
    bus = EventBus()
    db = Database(settings.effective_database_url)
    policy = LoginPolicy(
        max_failures=settings.login_max_failures,
        lockout=timedelta(minutes=settings.login_lockout_minutes),
        session_lifetime=timedelta(hours=settings.session_hours),
        token_lifetime=timedelta(days=settings.token_days),
    )
    return Application(
        settings=settings,
        clock=clock,
        bus=bus,
        db=db,
        admin=AdminService(db, clock, bus, settings.sip_realm),
        auth=AuthService(db, clock, policy),
        trunks=TrunkService(db, clock, bus),
        cdr=CdrRecorder(db),
    )


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    )
