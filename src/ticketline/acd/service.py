"""ACD configuration use cases: the only writer of queues, memberships and reason codes.

Every change is audited in the same transaction and then applied to the live
router at once (a supervisor moving an agent between queues takes effect for the
next decision). Agents are staff members with an extension, read through the
admin area's service; their skills are the admin area's skills.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.acd.config import AgentProfile
from ticketline.acd.errors import UnknownAgent, UnknownQueue
from ticketline.acd.events import QueueConfigChanged
from ticketline.acd.models import AcdMembership, AcdQueue, AcdReasonCode
from ticketline.acd.runtime import AcdRuntime
from ticketline.acd.schemas import (
    MembershipIn,
    MembershipOut,
    QueueIn,
    QueueOut,
    ReasonCodeIn,
    ReasonCodeOut,
)
from ticketline.acd.wrapups import WrapUps
from ticketline.admin import audit
from ticketline.admin.errors import CodeTaken
from ticketline.admin.security import Actor
from ticketline.admin.service import AdminService
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database


class AcdAdmin:
    """Queues, memberships and reason codes; keeps the live router in step."""

    def __init__(
        self, db: Database, clock: Clock, bus: EventBus, admin: AdminService, runtime: AcdRuntime
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.admin = admin
        self.runtime = runtime
        self.wrapups = WrapUps(db, clock, self._audit)

    # -- start-up --------------------------------------------------------------------

    async def load(self) -> None:
        """Put every queue, agent, membership and reason code into the router."""
        async with self.db.sessions() as session:
            queues = list(await session.scalars(select(AcdQueue).order_by(AcdQueue.code)))
            codes = {q.id: q.code for q in queues}
            members = list(await session.scalars(select(AcdMembership)))
            reasons = list(await session.scalars(select(AcdReasonCode)))
        self.runtime.reasons = {r.code for r in reasons if r.enabled}
        for row in queues:
            if row.enabled:
                self.runtime.set_queue(queue_in(row).to_config())
        agents = await self.refresh_agents()
        for member in members:
            agent = agents.get(member.staff_id)
            queue = codes.get(member.queue_id)
            if agent is not None and queue is not None and queue in self.runtime.router.queues:
                membership = membership_in(member, agent.agent_id).to_membership(queue)
                self.runtime.set_membership(membership)

    async def refresh_agents(self) -> dict[str, AgentProfile]:
        """(Re)load every agent's extension and skills; keyed by staff id."""
        skills = {s.id: s.code for s in await self.admin.list_skills()}
        extensions = {
            username: ext.number
            for ext, username in await self.admin.list_extensions()
            if username and ext.enabled
        }
        agents: dict[str, AgentProfile] = {}
        for staff in await self.admin.list_staff():
            number = extensions.get(staff.username)
            if staff.is_active and number:
                levels = {skills[s.skill_id]: s.level for s in staff.skills if s.skill_id in skills}
                profile = AgentProfile(staff.username, number, levels, staff.display_name)
                agents[staff.id] = profile
                self.runtime.set_agent(profile)
        return agents

    async def on_staff_changed(self, _event: object) -> None:
        await self.refresh_agents()

    # -- queues ----------------------------------------------------------------------

    async def list_queues(self) -> list[QueueOut]:
        async with self.db.sessions() as session:
            rows = await session.scalars(select(AcdQueue).order_by(AcdQueue.code))
            return [queue_out(row) for row in rows]

    async def get_queue(self, code: str) -> QueueOut:
        async with self.db.sessions() as session:
            return queue_out(await _queue_row(session, code))

    async def create_queue(self, actor: Actor, data: QueueIn) -> QueueOut:
        config = data.to_config()
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await session.scalar(select(AcdQueue.id).where(AcdQueue.code == data.code)):
                raise CodeTaken(f"queue {data.code!r} exists", details={"field": "code"})
            await _check_references(session, data)
            row = AcdQueue(code=data.code, created_at=now, updated_at=now, **_columns(data))
            session.add(row)
            await session.flush()
            await self._audit(session, actor, "acd.queue.create", data.code, None, _snapshot(data))
        if data.enabled:
            self.runtime.set_queue(config)
        await self.bus.publish(QueueConfigChanged(data.code))
        return queue_out(row)

    async def update_queue(self, actor: Actor, code: str, data: QueueIn) -> QueueOut:
        """Replace a queue's settings (the code stays); waiting callers keep their place."""
        if data.code != code:
            raise InvalidInput("code", "the code of a queue cannot change")
        config = data.to_config()
        async with self.db.transaction() as session:
            row = await _queue_row(session, code)
            before = _snapshot(queue_in(row))
            await _check_references(session, data)
            for key, value in _columns(data).items():
                setattr(row, key, value)
            row.updated_at = self.clock.now()
            await self._audit(session, actor, "acd.queue.update", code, before, _snapshot(data))
        if data.enabled:
            self.runtime.set_queue(config)
        await self.bus.publish(QueueConfigChanged(code))
        return queue_out(row)

    # -- memberships -------------------------------------------------------------------

    async def list_members(self, code: str) -> list[MembershipOut]:
        async with self.db.sessions() as session:
            queue = await _queue_row(session, code)
            rows = await session.scalars(
                select(AcdMembership).where(AcdMembership.queue_id == queue.id)
            )
            usernames = {s.id: s.username for s in await self.admin.list_staff()}
            return [
                MembershipOut(
                    queue=code, **membership_in(r, usernames.get(r.staff_id, "?")).model_dump()
                )
                for r in sorted(rows, key=lambda r: (r.position, usernames.get(r.staff_id, "")))
            ]

    async def set_member(self, actor: Actor, code: str, data: MembershipIn) -> MembershipOut:
        """Put an agent in a queue or change their membership, live."""
        member = data.to_membership(code)
        staff_id = await self._agent_staff_id(data.agent)
        async with self.db.transaction() as session:
            queue = await _queue_row(session, code)
            row = await session.get(AcdMembership, (queue.id, staff_id))
            before = None if row is None else membership_in(row, data.agent).model_dump()
            if row is None:
                row = AcdMembership(queue_id=queue.id, staff_id=staff_id)
                session.add(row)
            for key, value in _member_columns(data).items():
                setattr(row, key, value)
            if before != data.model_dump():  # re-applying the same values is no change
                await self._audit(
                    session,
                    actor,
                    "acd.member.set",
                    f"{code}/{data.agent}",
                    before,
                    data.model_dump(),
                )
        if code in self.runtime.router.queues:
            self.runtime.set_membership(member)
        await self.bus.publish(QueueConfigChanged(code))
        return MembershipOut(queue=code, **data.model_dump())

    async def remove_member(self, actor: Actor, code: str, agent: str) -> None:
        staff_id = await self._agent_staff_id(agent)
        async with self.db.transaction() as session:
            queue = await _queue_row(session, code)
            result = await session.execute(
                delete(AcdMembership).where(
                    AcdMembership.queue_id == queue.id, AcdMembership.staff_id == staff_id
                )
            )
            if not getattr(result, "rowcount", 0):
                raise UnknownAgent(f"{agent} is not in queue {code}", details={"field": "agent"})
            await self._audit(
                session, actor, "acd.member.remove", f"{code}/{agent}", {"agent": agent}, None
            )
        if code in self.runtime.router.queues:
            self.runtime.remove_membership(code, agent)
        await self.bus.publish(QueueConfigChanged(code))

    async def _agent_staff_id(self, username: str) -> str:
        for staff in await self.admin.list_staff():
            if staff.username == username:
                if username not in self.runtime.router.agents:
                    await self.refresh_agents()
                if username not in self.runtime.router.agents:
                    raise UnknownAgent(
                        f"{username} has no enabled extension", details={"field": "agent"}
                    )
                return staff.id
        raise UnknownAgent(f"no staff member {username!r}", details={"field": "agent"})

    # -- reason codes --------------------------------------------------------------------

    async def list_reasons(self) -> list[ReasonCodeOut]:
        async with self.db.sessions() as session:
            rows = await session.scalars(select(AcdReasonCode).order_by(AcdReasonCode.code))
            return [ReasonCodeOut.model_validate(r, from_attributes=True) for r in rows]

    async def put_reason(self, actor: Actor, data: ReasonCodeIn) -> ReasonCodeOut:
        """Create or change a not-ready reason code."""
        async with self.db.transaction() as session:
            row = await session.get(AcdReasonCode, data.code)
            before = (
                None
                if row is None
                else ReasonCodeOut.model_validate(row, from_attributes=True).model_dump()
            )
            if row is None:
                row = AcdReasonCode(code=data.code)
                session.add(row)
            row.name_zh, row.name_en, row.enabled = data.name_zh, data.name_en, data.enabled
            if before != data.model_dump():  # re-applying the same values is no change
                await self._audit(
                    session, actor, "acd.reason.put", data.code, before, data.model_dump()
                )
        if data.enabled:
            self.runtime.reasons.add(data.code)
        else:
            self.runtime.reasons.discard(data.code)
        return ReasonCodeOut(**data.model_dump())

    async def _audit(
        self,
        session: AsyncSession,
        actor: Actor,
        action: str,
        entity: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await audit.record(
            session,
            actor=actor,
            action=action,
            entity_type="acd",
            entity_id=entity,
            at=self.clock.now(),
            before=before,
            after=after,
        )


def queue_in(row: AcdQueue) -> QueueIn:
    skills = [{"skill": s, "min_level": lvl} for s, lvl in row.skills]
    return QueueIn(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        strategy=row.strategy,
        skills=skills,
        enabled=row.enabled,
        **row.settings,
    )


def queue_out(row: AcdQueue) -> QueueOut:
    return QueueOut(
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        **queue_in(row).model_dump(),
    )


def membership_in(row: AcdMembership, username: str) -> MembershipIn:
    return MembershipIn(
        agent=username,
        penalty=row.penalty,
        position=row.position,
        weight=row.weight,
        window_start=row.window_start,
        window_end=row.window_end,
        new_customers=row.new_customers,
    )


def _columns(data: QueueIn) -> dict[str, Any]:
    return {
        "name_zh": data.name_zh,
        "name_en": data.name_en,
        "strategy": data.strategy.value,
        "skills": [[s.skill, s.min_level] for s in data.skills],
        "settings": data.settings(),
        "enabled": data.enabled,
    }


def _member_columns(data: MembershipIn) -> dict[str, Any]:
    return data.model_dump(exclude={"agent"})


def _snapshot(data: QueueIn) -> dict[str, Any]:
    return data.model_dump(mode="json")


async def _queue_row(session: AsyncSession, code: str) -> AcdQueue:
    row = await session.scalar(select(AcdQueue).where(AcdQueue.code == code))
    if row is None:
        raise UnknownQueue(f"no queue {code!r}", details={"field": "queue"})
    return row


async def _check_references(session: AsyncSession, data: QueueIn) -> None:
    """Overflow targets and widening queues must exist."""
    wanted = {q for step in data.steps for q in step.extra_queues}
    if data.overflow and data.overflow.target_queue:
        wanted.add(data.overflow.target_queue)
    wanted.discard(data.code)
    if not wanted:
        return
    found = set(await session.scalars(select(AcdQueue.code).where(AcdQueue.code.in_(wanted))))
    missing = sorted(wanted - found)
    if missing:
        field = "overflow" if data.overflow and data.overflow.target_queue in missing else "steps"
        raise UnknownQueue(f"no queue {missing[0]!r}", details={"field": field})
