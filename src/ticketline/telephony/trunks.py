"""Trunk configuration: the only writer of the trunk table; every change audited."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from sqlalchemy import select

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import Conflict, NotFound
from ticketline.db.session import Database
from ticketline.telephony.models import Trunk
from ticketline.telephony.schemas import TrunkIn


class TrunkNameTaken(Conflict):
    code = "trunk_name_taken"


class TrunkNotFound(NotFound):
    code = "trunk_not_found"


@dataclass(frozen=True)
class TrunksChanged:
    """Trunk configuration changed; the SIP side reloads its trunk table."""

    name: str


def snapshot(trunk: Trunk) -> dict[str, object]:
    return {
        "name": trunk.name,
        "host": trunk.host,
        "port": trunk.port,
        "transport": trunk.transport,
        "inbound_sources": trunk.inbound_sources,
        "dids": trunk.dids,
        "caller_id": trunk.caller_id,
        "registers": trunk.registers,
        "username": trunk.username,
        "max_channels": trunk.max_channels,
        "enabled": trunk.enabled,
    }


class TrunkService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    async def create(self, actor: Actor, data: TrunkIn) -> Trunk:
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await session.scalar(select(Trunk).where(Trunk.name == data.name)):
                raise TrunkNameTaken(f"trunk {data.name!r} exists", details={"field": "name"})
            trunk = Trunk(**data.model_dump(), created_at=now)
            session.add(trunk)
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action="trunk.create",
                entity_type="trunk",
                entity_id=trunk.name,
                at=now,
                after=snapshot(trunk),
            )
        await self.bus.publish(TrunksChanged(trunk.name))
        return trunk

    async def replace(self, actor: Actor, name: str, data: TrunkIn) -> Trunk:
        async with self.db.transaction() as session:
            trunk = await session.scalar(select(Trunk).where(Trunk.name == name))
            if trunk is None:
                raise TrunkNotFound(f"no trunk {name!r}")
            before = snapshot(trunk)
            for key, value in data.model_dump().items():
                setattr(trunk, key, value)
            await audit.record(
                session,
                actor=actor,
                action="trunk.update",
                entity_type="trunk",
                entity_id=name,
                at=self.clock.now(),
                before=before,
                after=snapshot(trunk),
            )
        await self.bus.publish(TrunksChanged(trunk.name))
        return trunk

    async def list(self) -> list[Trunk]:
        async with self.db.sessions() as session:
            return list(await session.scalars(select(Trunk).order_by(Trunk.name)))


def match_inbound(trunks: list[Trunk], source_ip: str, did: str | None) -> Trunk | None:
    """The enabled trunk a request from `source_ip` belongs to.

    When several trunks share a source (one carrier, many numbers), the one that
    lists the dialled number `did` wins; a trunk with no DID list takes the rest.
    """
    address = ipaddress.ip_address(source_ip)
    candidates = [t for t in trunks if t.enabled and _source_matches(t, address)]
    for trunk in candidates:
        if did and did in trunk.dids:
            return trunk
    return next((t for t in candidates if not t.dids), None)


def _source_matches(trunk: Trunk, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in ipaddress.ip_network(net, strict=False) for net in trunk.inbound_sources)
