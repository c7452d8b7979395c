"""IVR use cases: operator announcements, the call log and its statistics, and the
`IvrService` that gathers what a call needs (flows, prompts, actions, ports)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import NotFound
from ticketline.db.session import Database
from ticketline.ivr.actions import ActionRegistry
from ticketline.ivr.engine import IvrDeps, run_call
from ticketline.ivr.events import IvrCallEnded
from ticketline.ivr.models import Announcement, IvrCall
from ticketline.ivr.registry import FlowRegistry
from ticketline.ivr.schemas import AnnouncementIn
from ticketline.ivr.session import CallSession, PromptSource, QueuePort, SmsSender
from ticketline.ivr.speech import Recognizer
from ticketline.ivr.stats import CallTrace, FlowStats, Step

MAX_ACTIVE = 5  # at most this many notices before the menu, newest first


class AnnouncementService:
    """The only writer of announcements; also the engine's source of active ones."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(self, actor: Actor, data: AnnouncementIn) -> Announcement:
        now = self.clock.now()
        async with self.db.transaction() as session:
            notice = Announcement(**data.model_dump(), created_at=now, created_by=actor.name)
            session.add(notice)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="ivr.announcement.create",
                entity_type="ivr_announcement",
                entity_id=notice.id,
                at=now,
                after=data.model_dump(mode="json"),
            )
        return notice

    async def delete(self, actor: Actor, announcement_id: str) -> None:
        async with self.db.transaction() as session:
            notice = await session.get(Announcement, announcement_id)
            if notice is None:
                raise NotFound(f"no announcement {announcement_id}")
            before = {"text_zh": notice.text_zh, "text_en": notice.text_en, "flow": notice.flow}
            await session.delete(notice)
            await audit.record(
                session,
                actor=actor,
                action="ivr.announcement.delete",
                entity_type="ivr_announcement",
                entity_id=announcement_id,
                at=self.clock.now(),
                before=before,
            )

    async def search(self, *, current_only: bool = False) -> list[Announcement]:
        query = select(Announcement).order_by(Announcement.starts_at.desc())
        if current_only:
            query = query.where(Announcement.ends_at > self.clock.now())
        async with self.db.sessions() as session:
            return list(await session.scalars(query))

    async def active(self, flow: str, now: datetime) -> list[Mapping[str, str]]:
        query = (
            select(Announcement)
            .where(Announcement.starts_at <= now, Announcement.ends_at > now)
            .where(or_(Announcement.flow.is_(None), Announcement.flow == flow))
            .order_by(Announcement.starts_at.desc())
            .limit(MAX_ACTIVE)
        )
        async with self.db.sessions() as session:
            found = await session.scalars(query)
            return [{"zh": a.text_zh, "en": a.text_en} for a in found]


class CallLog:
    """Keeps every call's path (from `IvrCallEnded`) and adds them up per flow."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, event: IvrCallEnded) -> None:
        async with self.db.transaction() as session:
            session.add(
                IvrCall(
                    call_id=event.call_id,
                    flow=event.flow,
                    version=event.version,
                    caller=event.caller,
                    outcome=event.outcome,
                    contained=event.contained,
                    steps=[list(step) for step in event.steps],
                    started_at=event.started_at,
                    ended_at=event.ended_at,
                )
            )

    async def stats(self, flow: str, since: datetime, until: datetime) -> FlowStats:
        """Per-node figures and containment over calls that started in [since, until)."""
        query = select(IvrCall).where(
            IvrCall.flow == flow, IvrCall.started_at >= since, IvrCall.started_at < until
        )
        stats = FlowStats(flow)
        async with self.db.sessions() as session:
            for call in await session.scalars(query):
                stats.add(_trace_of(call))
        return stats

    async def purge_before(self, before: datetime) -> int:
        async with self.db.transaction() as session:
            result = await session.execute(delete(IvrCall).where(IvrCall.started_at < before))
            return int(getattr(result, "rowcount", 0) or 0)


def _trace_of(call: IvrCall) -> CallTrace:
    trace = CallTrace(call.call_id, call.flow, call.version, call.caller, call.started_at)
    trace.steps = [Step(node, event, label) for node, event, label in call.steps]  # type: ignore[arg-type]
    trace.outcome = call.outcome  # type: ignore[assignment]
    trace.served = call.contained
    return trace


@dataclass
class IvrService:
    """Everything a call through the IVR needs, built once by the composition root."""

    flows: FlowRegistry
    prompts: PromptSource
    actions: ActionRegistry
    clock: Clock
    zone: ZoneInfo
    voicemail_dir: Path
    announcements: AnnouncementService | None = None
    call_log: CallLog | None = None
    sms: SmsSender | None = None
    queue: QueuePort | None = None
    recognizer: Recognizer | None = None
    publish: Callable[[object], Awaitable[object]] | None = None
    active_calls: set[str] = field(default_factory=set)

    def deps(self, clock: Clock | None = None) -> IvrDeps:
        return IvrDeps(
            prompts=self.prompts,
            actions=self.actions,
            clock=clock or self.clock,
            zone=self.zone,
            queue=self.queue,
            sms=self.sms,
            announcements=self.announcements,
            recognizer=self.recognizer,
            publish=self.publish,
            flows=self.flows.get,
            voicemail_dir=self.voicemail_dir,
        )

    async def handle_call(self, session: CallSession) -> CallTrace:
        """Walk an answered-or-ringing call through the flow for its dialled number."""
        flow = self.flows.for_number(session.called)
        self.active_calls.add(session.call_id)
        try:
            return await run_call(flow, session, self.deps())
        finally:
            self.active_calls.discard(session.call_id)
