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
from ticketline.crm import api as crm_api
from ticketline.crm.service import CustomerService
from ticketline.crm.timeline import TimelineRecorder
from ticketline.db.session import Database
from ticketline.notify import api as notify_api
from ticketline.notify.events import SmsFailed, SmsSent
from ticketline.notify.gateways import KannelGateway, KannelSettings, LogGateway, SmsGateway
from ticketline.notify.service import NotifyService
from ticketline.notify.smpp import SmppGateway, SmppSettings
from ticketline.notify.worker import OutboxWorker
from ticketline.telephony import api as telephony_api
from ticketline.telephony.cdr import CdrRecorder
from ticketline.telephony.trunks import TrunkService
from ticketline.web.context import WebContext
from ticketline.web.realtime import RealtimeHub
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
    notify: NotifyService
    outbox: OutboxWorker
    crm: CustomerService
    timeline: TimelineRecorder
    hub: RealtimeHub = field(default_factory=RealtimeHub)
    extras: dict[str, object] = field(default_factory=dict)

    def web_app(self) -> FastAPI:
        ctx = WebContext(
            settings=self.settings,
            db=self.db,
            clock=self.clock,
            bus=self.bus,
            auth=self.auth,
            admin=self.admin,
            hub=self.hub,
            api_routers=[
                admin_api.build_router(self.admin),
                telephony_api.build_router(self.trunks, self.db),
                notify_api.build_router(self.notify),
                crm_api.build_router(self.crm, self.timeline),
            ],
        )
        return create_web_app(ctx)

    async def start_workers(self) -> None:
        """Start the background work of a serving process."""
        await self.notify.install_default_templates()
        await self.cdr.start(self.clock.now())
        await self.outbox.start()

    async def stop_workers(self) -> None:
        await self.outbox.stop()
        await self.cdr.stop()

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
    notify = NotifyService(db, clock)
    outbox = OutboxWorker(db, sms_gateway(settings), clock, bus)
    notify.on_queued.append(outbox.wake)
    timeline = TimelineRecorder(db, clock)
    subscribe_timeline(bus, timeline)
    return Application(
        settings=settings,
        clock=clock,
        bus=bus,
        db=db,
        admin=AdminService(db, clock, bus, settings.sip_realm),
        auth=AuthService(db, clock, policy),
        trunks=TrunkService(db, clock, bus),
        cdr=CdrRecorder(db),
        notify=notify,
        outbox=outbox,
        crm=CustomerService(db, clock, bus),
        timeline=timeline,
    )


def subscribe_timeline(bus: EventBus, timeline: TimelineRecorder) -> None:
    """Every event that belongs on a customer's timeline (orders, SMS, work orders...)."""
    for event_type in (SmsSent, SmsFailed):
        bus.subscribe(event_type, timeline.record)


def sms_gateway(settings: Settings) -> SmsGateway:
    """The gateway the settings name: the log (embedded default), Kannel or SMPP."""
    if settings.sms_gateway == "kannel":
        return KannelGateway(
            KannelSettings(
                settings.kannel_url,
                settings.kannel_username,
                settings.kannel_password,
                settings.sms_sender,
            )
        )
    if settings.sms_gateway == "smpp":
        return SmppGateway(
            SmppSettings(
                settings.smpp_host,
                settings.smpp_port,
                settings.smpp_system_id,
                settings.smpp_password,
                settings.sms_sender,
            )
        )
    return LogGateway()


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
