"""The composition root: the one place that constructs services and wires them."""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import structlog
from fastapi import FastAPI

from ticketline.acd import api as acd_api
from ticketline.acd.runtime import AcdRuntime, build_runtime
from ticketline.acd.service import AcdAdmin
from ticketline.acd.telephony_port import ControlPhones, Speaker
from ticketline.admin import api as admin_api
from ticketline.admin.auth import AuthService, LoginPolicy
from ticketline.admin.events import ExtensionChanged, StaffChanged
from ticketline.admin.security import SYSTEM
from ticketline.admin.service import AdminService
from ticketline.config import Settings
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock, SystemClock
from ticketline.core.errors import TicketlineError
from ticketline.core.gc_tuning import tune_gc
from ticketline.crm import api as crm_api
from ticketline.crm import phones
from ticketline.crm.events import CustomersMerged, PointsChanged
from ticketline.crm.jobs import Job, PeriodicJobs
from ticketline.crm.loyalty import LoyaltyService
from ticketline.crm.purchases import PurchaseProjection
from ticketline.crm.segments import SegmentService
from ticketline.crm.service import CustomerService
from ticketline.crm.timeline import TimelineRecorder
from ticketline.db.session import Database
from ticketline.ivr import api as ivr_api
from ticketline.ivr.acd_port import AcdQueuePort
from ticketline.ivr.actions import ActionRegistry
from ticketline.ivr.events import IvrCallEnded, VoicemailLeft
from ticketline.ivr.lookups import declare_actions
from ticketline.ivr.lookups_crm import CrmLookups
from ticketline.ivr.lookups_orders import OrderLookups
from ticketline.ivr.lookups_shows import ShowLookups
from ticketline.ivr.lookups_ticketing import TicketingLookups
from ticketline.ivr.lookups_workorders import WorkOrderLookups
from ticketline.ivr.prompts import PromptCache, prerender
from ticketline.ivr.registry import DEFAULT_FLOWS_DIR, FlowRegistry
from ticketline.ivr.service import AnnouncementService, CallLog, IvrService
from ticketline.ivr.session import QueuePort
from ticketline.ivr.speech_sphinx import SphinxRecognizer
from ticketline.ivr.telephony_adapter import install as install_ivr
from ticketline.kb import api as kb_api
from ticketline.kb.service import KnowledgeBase
from ticketline.notify import api as notify_api
from ticketline.notify.events import SmsFailed, SmsReceived, SmsSent
from ticketline.notify.gateways import KannelGateway, KannelSettings, LogGateway, SmsGateway
from ticketline.notify.inbound import InboundSms
from ticketline.notify.service import NotifyService
from ticketline.notify.smpp import SmppGateway, SmppSettings
from ticketline.notify.worker import OutboxWorker
from ticketline.telephony import api as telephony_api
from ticketline.telephony.b2bua import B2bua
from ticketline.telephony.cdr import CdrRecorder
from ticketline.telephony.control import CallControl
from ticketline.telephony.media_client import RemoteMedia
from ticketline.telephony.media_engine import MediaEngine
from ticketline.telephony.media_plane import MediaPlane
from ticketline.telephony.media_ports import PortRange
from ticketline.telephony.recordings import RecordingStore
from ticketline.telephony.registrar import CachedCredentials, Credentials
from ticketline.telephony.server import SipConfig, SipServer
from ticketline.telephony.trunks import TrunksChanged, TrunkService
from ticketline.ticketing import api as ticketing_api
from ticketline.ticketing import events as ticketing_events
from ticketline.ticketing import finance_api
from ticketline.ticketing.orders import OrderPolicy
from ticketline.ticketing.service import TicketingService
from ticketline.ticketing.worker import ExpiryWorker
from ticketline.web.context import WebContext
from ticketline.web.desk import DeskFeed
from ticketline.web.desk_api import build_console_router, build_desk_router
from ticketline.web.realtime import RealtimeHub
from ticketline.web.server import create_web_app
from ticketline.workorders import api as workorders_api
from ticketline.workorders import events as wo_events
from ticketline.workorders.attachments import AttachmentService
from ticketline.workorders.schemas import WorkOrderCreate
from ticketline.workorders.service import WorkOrderService
from ticketline.workorders.sla import SlaService


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
    media: MediaPlane
    recordings: RecordingStore
    sip: SipServer
    control: CallControl
    ticketing: TicketingService
    ivr: IvrService
    expiry: ExpiryWorker
    crm: CustomerService
    timeline: TimelineRecorder
    acd: AcdAdmin
    acd_runtime: AcdRuntime
    hub: RealtimeHub
    desk: DeskFeed
    loyalty: LoyaltyService
    segments: SegmentService
    workorders: WorkOrderService
    sla: SlaService
    attachments: AttachmentService
    care_jobs: PeriodicJobs
    kb: KnowledgeBase
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
                notify_api.build_inbound_router(
                    InboundSms(self.bus, self.clock, self.settings.sms_inbound_token)
                ),
                ivr_api.build_router(self.ivr),
                ticketing_api.build_router(self.ticketing),
                finance_api.build_finance_router(self.ticketing),
                crm_api.build_router(self.crm, self.timeline, self.loyalty, self.segments),
                workorders_api.build_router(self.workorders, self.sla, self.attachments),
                workorders_api.build_public_router(self.workorders),
                kb_api.build_router(self.kb),
                acd_api.build_router(self.acd, self.acd_runtime),
                build_desk_router(self.desk, self.control),
                build_console_router(self.desk, self.control),
            ],
        )
        return create_web_app(ctx)

    async def start_workers(self) -> None:
        """Start the background work of a serving process."""
        await self.notify.install_default_templates()
        await self.ticketing.install_defaults()
        await self.cdr.start(self.clock.now())
        await self.outbox.start()
        await self.expiry.start()
        await self.care_jobs.start()
        await self.media.start()
        await self.start_ivr()
        await self.start_sip()
        await self.start_acd()
        self.extras["kb_warm_up"] = asyncio.create_task(self.kb.warm_up(), name="kb-warm-up")
        # Objects alive after startup never need collecting: keep them out of GC passes,
        # which would otherwise stall the 20 ms media clock.
        gc.freeze()
        tune_gc()

    async def start_sip(self) -> None:
        """Bind SIP on the configured address; trunk and extension changes reach it."""
        credentials = self.sip.auth.lookup
        if isinstance(credentials, CachedCredentials):
            cache = credentials

            async def forget(event: ExtensionChanged) -> None:
                cache.forget(event.number)

            self.bus.subscribe(ExtensionChanged, forget)

        async def reload(_: TrunksChanged) -> None:
            await self.sip.reload_trunks()

        self.bus.subscribe(TrunksChanged, reload)
        await self.sip.start()

    async def start_acd(self) -> None:
        """Load queues and agents into the router; agent changes in admin reach it."""
        self.bus.subscribe(StaffChanged, self.acd.on_staff_changed)
        self.bus.subscribe(ExtensionChanged, self.acd.on_staff_changed)
        await self.acd.wrapups.install_defaults()
        await self.acd.load()
        await self.acd_runtime.start()

    async def start_ivr(self) -> None:
        """Load the flows, answer inbound calls with them, keep every call's path."""
        await self.ivr.flows.reload_and_announce()
        if self.settings.ivr_watch_flows:
            self.ivr.flows.start_watching()
        if self.ivr.call_log is not None:
            self.bus.subscribe(IvrCallEnded, self.ivr.call_log.record)
        self.extras["ivr_router"] = install_ivr(self.control, self.ivr)
        if isinstance(self.ivr.recognizer, SphinxRecognizer):
            self.extras["ivr_speech"] = asyncio.create_task(
                asyncio.to_thread(self.ivr.recognizer.warm_up), name="ivr-speech-model"
            )
        if isinstance(self.ivr.prompts, PromptCache):
            self.extras["ivr_prerender"] = asyncio.create_task(
                prerender(self.ivr.prompts, self.ivr.flows), name="ivr-prerender"
            )

    async def stop_workers(self) -> None:
        await self.ivr.flows.stop_watching()
        await self.acd_runtime.stop()
        await self.control.close()
        if isinstance(self.acd_runtime.phones, ControlPhones):
            await self.acd_runtime.phones.close()
        await self.sip.stop()
        await self.media.close()
        await self.outbox.stop()
        await self.expiry.stop()
        await self.care_jobs.stop()
        await self.cdr.stop()

    async def close(self) -> None:
        await self.media.close()
        await self.crm.close()
        await self.db.dispose()


def build_media(settings: Settings) -> MediaPlane:
    """The media plane: a supervised process of its own, or this process's engine."""
    ports = PortRange(settings.rtp_port_first, settings.rtp_port_last)
    if settings.media_process:
        return RemoteMedia(
            settings.sip_host, ports, settings.effective_moh_dir, realtime=settings.media_realtime
        )
    return MediaEngine(settings.sip_host, ports, settings.effective_moh_dir)


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
    admin = AdminService(db, clock, bus, settings.sip_realm)
    trunks = TrunkService(db, clock, bus)
    cdr = CdrRecorder(db)
    sip = build_sip_server(settings, clock, admin, trunks, cdr)
    order_policy = OrderPolicy(
        hold_minutes=settings.ticket_hold_minutes,
        pay_hours=settings.ticket_pay_hours,
        pickup_place=settings.ticket_pickup_place,
        company=settings.company_name,
        credit_reminder_days=settings.credit_reminder_days,
    )
    ticketing = TicketingService(db, clock, bus, settings.zone, order_policy)
    wire_ticketing_sms(bus, notify, order_policy)
    media = build_media(settings)
    recordings = RecordingStore(db, clock, settings.effective_recordings_dir, settings.zone)
    timeline = TimelineRecorder(db, clock)
    subscribe_timeline(bus, timeline)
    acd_runtime = build_runtime(db, clock, bus, settings.zone)
    acd = AcdAdmin(db, clock, bus, admin, acd_runtime)
    crm = CustomerService(db, clock, bus)
    hub = RealtimeHub()
    desk = DeskFeed(hub, acd_runtime, acd, crm, admin, clock, settings.state_alert_seconds)
    desk.install(bus)
    reminders: dict[str, Job] = {"ticketing.credit_reminders": ticketing.payments.remind_credit_due}
    care = build_care(settings, db, clock, bus, reminders)
    wire_work_order_sms(bus, notify, care.workorders, crm, settings)
    wire_sms_replies(bus, notify, care.workorders, crm, settings)
    control = CallControl(media, sip, bus, recordings, clock)
    ivr = build_ivr(settings, clock, bus, db, notify, ticketing, crm, AcdQueuePort(acd_runtime),
                    care.workorders)  # fmt: skip
    acd_runtime.phones = ControlPhones(
        control,
        acd_runtime,
        clock,
        speak=prompt_speaker(ivr.prompts),
        voicemail_dir=settings.var_dir / "voicemail" / "queues",
    )
    return Application(
        settings=settings,
        clock=clock,
        bus=bus,
        db=db,
        admin=admin,
        auth=AuthService(db, clock, policy),
        trunks=trunks,
        cdr=cdr,
        notify=notify,
        outbox=outbox,
        media=media,
        recordings=recordings,
        sip=sip,
        control=control,
        ticketing=ticketing,
        expiry=ExpiryWorker(ticketing.expire_due),
        crm=crm,
        timeline=timeline,
        acd=acd,
        acd_runtime=acd_runtime,
        hub=hub,
        desk=desk,
        ivr=ivr,
        loyalty=care.loyalty,
        segments=SegmentService(db, clock, settings.zone, ticketing.route_codes),
        workorders=care.workorders,
        sla=care.sla,
        attachments=AttachmentService(
            db, clock, settings.effective_attachments_dir, settings.attachment_max_bytes
        ),
        care_jobs=care.jobs,
        kb=KnowledgeBase(db, clock, settings.zone),
    )


def build_ivr(
    settings: Settings,
    clock: Clock,
    bus: EventBus,
    db: Database,
    notify: NotifyService,
    ticketing: TicketingService,
    crm: CustomerService,
    queue: QueuePort | None = None,
    workorders: WorkOrderService | None = None,
) -> IvrService:
    """The IVR: flows from their folder, spoken prompts, business actions, the call log."""
    actions = declare_actions(ActionRegistry())
    TicketingLookups(ticketing).bind(actions)
    ShowLookups(ticketing).bind(actions)
    customers = CrmLookups(crm)
    customers.bind(actions)
    OrderLookups(ticketing, customers.orders_of_caller, customers.identify_number).bind(actions)
    if workorders is not None:
        WorkOrderLookups(workorders).bind(actions)
    flows = FlowRegistry(
        settings.ivr_flows_dir or DEFAULT_FLOWS_DIR,
        actions=actions.names,
        publish=bus.publish,
        default_flow=settings.ivr_default_flow,
    )
    return IvrService(
        flows=flows,
        prompts=PromptCache(settings.var_dir / "prompts"),
        actions=actions,
        clock=clock,
        zone=settings.zone,
        voicemail_dir=settings.var_dir / "voicemail",
        announcements=AnnouncementService(db, clock),
        call_log=CallLog(db),
        sms=notify,
        recognizer=SphinxRecognizer() if settings.ivr_speech else None,
        queue=queue,
        publish=bus.publish,
    )


def prompt_speaker(prompts: object) -> Speaker | None:
    """How the ACD speaks its announcements: through the IVR's prompt cache."""
    if not isinstance(prompts, PromptCache):
        return None
    cache = prompts

    async def speak(key: str, text: str, lang: str) -> Path:
        prompt = await cache.prompt(key, text, lang)
        assert prompt.path is not None
        return prompt.path

    return speak


def wire_ticketing_sms(bus: EventBus, notify: NotifyService, policy: OrderPolicy) -> None:
    """After booking, issue or a resend, the customer gets the codes by SMS; an order on
    credit due soon, a reminder; an order on a cancelled trip, a notice."""

    async def booked(event: ticketing_events.OrderBooked | ticketing_events.OrderIssued) -> None:
        key = "order.issued" if isinstance(event, ticketing_events.OrderIssued) else "order.booked"
        values = {
            "company": policy.company,
            "trip": event.trip,
            "booking_code": event.code,
            "pickup_code": event.pickup_code,
            "pickup_place": policy.pickup_place,
            "pickup_deadline": event.pickup_deadline,
        }
        await notify.queue_sms(event.phone, key, values, locale=event.locale, ref=event.code)

    async def resent(event: ticketing_events.PickupCodeResent) -> None:
        values = {"company": policy.company, "booking_code": event.code}
        values["pickup_code"] = event.pickup_code
        await notify.queue_sms(
            event.phone, "pickup.resend", values, locale=event.locale, ref=event.code
        )

    async def credit_due(event: ticketing_events.CreditDueSoon) -> None:
        values = {"company": policy.company, "booking_code": event.code, "due": event.due,
                  "owed": f"{event.owed_fen / 100:.2f}"}  # fmt: skip
        await notify.queue_sms(
            event.phone, "credit.reminder", values, locale=event.locale, ref=event.code
        )

    bus.subscribe(ticketing_events.OrderBooked, booked)
    bus.subscribe(ticketing_events.OrderIssued, booked)
    bus.subscribe(ticketing_events.PickupCodeResent, resent)

    async def trip_cancelled(event: ticketing_events.OrderTripCancelled) -> None:
        values = {"company": policy.company, "booking_code": event.code, "trip": event.trip}
        await notify.queue_sms(
            event.phone, "trip.cancelled", values, locale=event.locale, ref=event.code
        )

    bus.subscribe(ticketing_events.CreditDueSoon, credit_due)
    bus.subscribe(ticketing_events.OrderTripCancelled, trip_cancelled)


def wire_work_order_sms(
    bus: EventBus,
    notify: NotifyService,
    workorders: WorkOrderService,
    crm: CustomerService,
    settings: Settings,
) -> None:
    """A resolved work order texts its customer the status page, to read the answer and rate."""

    async def resolved(event: wo_events.WorkOrderStateChanged) -> None:
        if event.to_state != "resolved":
            return
        order = await workorders.get(event.work_order_id)
        if not order.phone:
            return
        locale = (await crm.get(order.customer_id)).locale if order.customer_id else "zh_CN"
        link = f"{settings.effective_public_url}/status?{urlencode({'code': order.code})}"
        values = {"company": settings.company_name, "code": order.code, "link": link}
        try:
            await notify.queue_sms(order.phone, "workorder.resolved", values, locale=locale,
                                   ref=order.code)  # fmt: skip
        except TicketlineError:
            logging.getLogger(__name__).exception("no SMS for resolved %s", order.code)

    bus.subscribe(wo_events.WorkOrderStateChanged, resolved)


def wire_sms_replies(
    bus: EventBus,
    notify: NotifyService,
    workorders: WorkOrderService,
    crm: CustomerService,
    settings: Settings,
) -> None:
    """A customer's text rates or answers their work order; a rating is thanked by SMS."""

    async def received(event: SmsReceived) -> None:
        outcome = await workorders.sms_reply(event.from_number, event.text)
        if outcome is None or outcome.action != "rated":
            return
        order = await workorders.by_code(outcome.code)
        locale = (await crm.get(order.customer_id)).locale if order.customer_id else "zh_CN"
        values = {"company": settings.company_name, "code": order.code, "score": outcome.score}
        try:
            await notify.queue_sms(event.from_number, "workorder.rated", values, locale=locale,
                                   ref=order.code)  # fmt: skip
        except TicketlineError:
            logging.getLogger(__name__).exception("no thanks SMS for %s", order.code)

    bus.subscribe(SmsReceived, received)


def wire_voicemail_work_orders(
    bus: EventBus, workorders: WorkOrderService, department: str
) -> None:
    """Every voicemail becomes a work order, so someone calls back and it cannot be lost."""

    async def opened(event: VoicemailLeft) -> None:
        number = event.caller if phones.try_normalize(event.caller) else None
        data = WorkOrderCreate(
            type="information",
            title=f"语音留言 Voicemail: {event.caller or 'unknown'}"[:200],
            description=(
                f"Voicemail box {event.box}, {event.seconds:.0f} s, call {event.call_id}.\n"
                f"Recording: {event.path}"
            ),
            source="voicemail",
            phone=number,
            department=department,
        )
        try:
            await workorders.open(SYSTEM, data)
        except TicketlineError:
            logging.getLogger(__name__).exception("voicemail %s left no work order", event.path)

    bus.subscribe(VoicemailLeft, opened)


def subscribe_timeline(bus: EventBus, timeline: TimelineRecorder) -> None:
    """Every event that belongs on a customer's timeline (orders, SMS, work orders...)."""
    for event_type in (
        ticketing_events.OrderEvent,
        SmsSent,
        SmsFailed,
        SmsReceived,
        PointsChanged,
        wo_events.WorkOrderOpened,
        wo_events.WorkOrderStateChanged,
        wo_events.WorkOrderReplied,
    ):
        bus.subscribe(event_type, timeline.record)


@dataclass(frozen=True)
class Care:
    loyalty: LoyaltyService
    workorders: WorkOrderService
    sla: SlaService
    jobs: PeriodicJobs


def build_care(
    settings: Settings, db: Database, clock: Clock, bus: EventBus, more_jobs: dict[str, Job]
) -> Care:
    """Loyalty, work orders and SLA, their event subscriptions and periodic jobs (with
    `more_jobs` of other areas, such as credit reminders)."""
    loyalty = LoyaltyService(db, clock, bus)
    workorders = WorkOrderService(db, clock, bus, settings.zone)
    sla = SlaService(db, clock, bus)
    bus.subscribe(ticketing_events.OrderPaid, loyalty.earn_for_paid_order)
    bus.subscribe(ticketing_events.OrderRefunded, loyalty.reverse_for_refunded_order)
    purchases = PurchaseProjection(db, clock)  # the history segments filter on
    bus.subscribe(ticketing_events.OrderPaid, purchases.record_paid)
    bus.subscribe(ticketing_events.OrderRefunded, purchases.record_refunded)
    bus.subscribe(CustomersMerged, workorders.follow_merge)
    bus.subscribe(wo_events.WorkOrderBreached, workorders.escalate_breached)
    wire_voicemail_work_orders(bus, workorders, settings.voicemail_department)
    jobs = PeriodicJobs(
        {"loyalty.expire": loyalty.expire_due, "workorders.sla": sla.check, **more_jobs},
        timedelta(seconds=60),
    )
    return Care(loyalty, workorders, sla, jobs)


def build_sip_server(
    settings: Settings, clock: Clock, admin: AdminService, trunks: TrunkService, cdr: CdrRecorder
) -> SipServer:
    """The SIP side: registrar on the extensions' HA1s, trunks, CDRs, the default B2BUA."""

    async def lookup(number: str) -> Credentials | None:
        ext = await admin.sip_credentials(number)
        return None if ext is None else Credentials(ext.ha1_md5, ext.ha1_sha256)

    config = SipConfig(settings.sip_host, settings.sip_port, settings.sip_realm,
                       settings.sip_advertised_host or None)  # fmt: skip
    sip = SipServer(config, CachedCredentials(lookup, clock.now), clock, trunks=trunks.list,
                    cdr=cdr)  # fmt: skip
    sip.fallback_handler = B2bua(sip)
    return sip


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
