"""Fares, passenger types and promotions; the price of a journey is computed here.

Fares are stored per route, class and pair of stops. An operator either types one
(`set_fare`) or has a whole class computed from distance (`set_distance_fares`).
A price is the adult fare, less the passenger type's discount, less the best
promotion for the travel date, rounded half up to 0.5 yuan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.core.money import percent_of, round_to_step
from ticketline.db.session import Database
from ticketline.ticketing.catalog import by_code, refuse_taken, route_stops
from ticketline.ticketing.errors import CatalogNotFound
from ticketline.ticketing.models import Fare, PassengerType, Promotion, Route, RouteStop, Station
from ticketline.ticketing.schemas import (
    DistanceFareIn,
    FareIn,
    FareOut,
    FareTableOut,
    PassengerTypeOut,
    PromotionIn,
    PromotionOut,
)

PRICE_STEP_FEN = 50

DEFAULT_PASSENGER_TYPES = (
    ("adult", "成人", "Adult", 0),
    ("child", "儿童", "Child", 50),
    ("student", "学生", "Student", 25),
    ("senior", "老人", "Senior", 10),
    ("military", "军人", "Military", 50),
    ("disabled", "残疾人", "Disabled", 50),
)


@dataclass(frozen=True)
class Price:
    """How one ticket's price was reached, in fen."""

    fare_fen: int
    type_discount_fen: int
    promotion_fen: int
    promotion: str | None
    price_fen: int


class FareService:
    """The only writer of fares, passenger types and promotions."""

    def __init__(
        self, db: Database, clock: Clock, changed: Callable[[], None] = lambda: None
    ) -> None:
        self.db = db
        self.clock = clock
        self.changed = changed  # told after fares change

    async def install_default_passenger_types(self) -> int:
        async with self.db.transaction() as session:
            known = set(await session.scalars(select(PassengerType.code)))
            missing = [t for t in DEFAULT_PASSENGER_TYPES if t[0] not in known]
            for code, zh, en, off in missing:
                session.add(PassengerType(code=code, name_zh=zh, name_en=en, percent_off=off))
        return len(missing)

    async def set_distance_fares(self, actor: Actor, data: DistanceFareIn) -> int:
        """Compute and store the fare of every pair of stops of a route for one class."""
        async with self.db.transaction() as session:
            route = await by_code(session, Route, data.route, "route")
            stops = await _stops(session, route.id)
            await session.execute(
                delete(Fare).where(Fare.route_id == route.id, Fare.class_code == data.class_code)
            )
            rows = [
                {
                    "route_id": route.id,
                    "class_code": data.class_code,
                    "from_seq": a.seq,
                    "to_seq": b.seq,
                    "amount_fen": round_to_step(
                        data.base_fen + data.fen_per_km * (b.km - a.km), data.round_fen
                    ),
                }
                for a in stops
                for b in stops
                if a.seq < b.seq
            ]
            await session.execute(insert(Fare), rows)
            await self._audit(session, actor, "fares.distance", route.code, data.model_dump())
        self.changed()
        return len(rows)

    async def set_fare(self, actor: Actor, data: FareIn) -> Fare:
        async with self.db.transaction() as session:
            route = await by_code(session, Route, data.route, "route")
            seqs = await _seqsby_code(session, route.id)
            from_seq = _seq(seqs, data.from_station, "from_station")
            to_seq = _seq(seqs, data.to_station, "to_station")
            if from_seq >= to_seq:
                raise InvalidInput("to_station", "must come after from_station on the route")
            fare = await session.scalar(
                select(Fare).where(
                    Fare.route_id == route.id,
                    Fare.class_code == data.class_code,
                    Fare.from_seq == from_seq,
                    Fare.to_seq == to_seq,
                )
            )
            before: dict[str, object] | None = {"amount_fen": fare.amount_fen} if fare else None
            if fare is None:
                fare = Fare(
                    route_id=route.id,
                    class_code=data.class_code,
                    from_seq=from_seq,
                    to_seq=to_seq,
                    amount_fen=data.amount_fen,
                )
                session.add(fare)
            fare.amount_fen = data.amount_fen
            await self._audit(session, actor, "fare.set", route.code, data.model_dump(), before)
        self.changed()
        return fare

    async def create_promotion(self, actor: Actor, data: PromotionIn) -> Promotion:
        if data.travel_to < data.travel_from:
            raise InvalidInput("travel_to", "is before travel_from")
        async with self.db.transaction() as session:
            await refuse_taken(session, Promotion, data.code)
            route_id = None
            if data.route:
                route_id = (await by_code(session, Route, data.route, "route")).id
            promotion = Promotion(
                **data.model_dump(exclude={"route"}), route_id=route_id, active=True
            )
            session.add(promotion)
            await self._audit(
                session, actor, "promotion.create", data.code, data.model_dump(mode="json")
            )
        return promotion

    async def fare_table(self, route_code: str) -> FareTableOut:
        """Every fare of a route by class and pair of stops, with the stops in order."""
        async with self.db.sessions() as session:
            route = await by_code(session, Route, route_code, "route")
            stops = (await route_stops(session, [route.id])).get(route.id, [])
            fares = await session.scalars(
                select(Fare)
                .where(Fare.route_id == route.id)
                .order_by(Fare.class_code, Fare.from_seq, Fare.to_seq)
            )
            station_at = {stop.seq: stop.station for stop in stops}
            lines = [
                FareOut(
                    class_code=fare.class_code,
                    from_station=station_at[fare.from_seq],
                    to_station=station_at[fare.to_seq],
                    amount_fen=fare.amount_fen,
                )
                for fare in fares
            ]
        return FareTableOut(route=route.code, stops=stops, fares=lines)

    async def passenger_types(self) -> list[PassengerTypeOut]:
        async with self.db.sessions() as session:
            found = await session.scalars(select(PassengerType).order_by(PassengerType.percent_off))
            return [PassengerTypeOut.model_validate(t, from_attributes=True) for t in found]

    async def promotions(self, route_code: str | None = None) -> list[PromotionOut]:
        """Promotions by first travel date; for a route, those that apply to it."""
        query = (
            select(Promotion, Route.code)
            .outerjoin(Route, Route.id == Promotion.route_id)
            .order_by(Promotion.travel_from, Promotion.code)
        )
        async with self.db.sessions() as session:
            if route_code is not None:
                route = await by_code(session, Route, route_code, "route")
                query = query.where(
                    or_(Promotion.route_id.is_(None), Promotion.route_id == route.id)
                )
            rows = (await session.execute(query)).all()
        return [_promotion_out(promotion, route) for promotion, route in rows]

    async def _audit(
        self,
        session: AsyncSession,
        actor: Actor,
        action: str,
        entity: str,
        after: dict[str, object],
        before: dict[str, object] | None = None,
    ) -> None:
        await audit.record(
            session,
            actor=actor,
            action=f"ticketing.{action}",
            entity_type="ticketing",
            entity_id=entity,
            at=self.clock.now(),
            before=before,
            after=after,
        )


async def price_ticket(
    session: AsyncSession,
    *,
    route_id: str,
    class_code: str,
    from_seq: int,
    to_seq: int,
    passenger_type: str,
    travel_date: date,
) -> Price:
    """The computed price of one ticket; an unknown fare or type is an error."""
    fare = await session.scalar(
        select(Fare.amount_fen).where(
            Fare.route_id == route_id,
            Fare.class_code == class_code,
            Fare.from_seq == from_seq,
            Fare.to_seq == to_seq,
        )
    )
    if fare is None:
        raise CatalogNotFound(
            f"no {class_code} fare for this journey", details={"field": "class_code"}
        )
    ptype = await session.get(PassengerType, passenger_type)
    if ptype is None:
        raise CatalogNotFound(
            f"no passenger type {passenger_type!r}", details={"field": "passenger_type"}
        )
    promotion = await _best_promotion(session, route_id, class_code, travel_date)
    type_off = percent_of(fare, ptype.percent_off)
    promo_off = percent_of(fare - type_off, promotion.percent_off) if promotion else 0
    final = round_to_step(fare - type_off - promo_off, PRICE_STEP_FEN)
    return Price(fare, type_off, promo_off, promotion.code if promotion else None, final)


async def _best_promotion(
    session: AsyncSession, route_id: str, class_code: str, travel_date: date
) -> Promotion | None:
    return await session.scalar(
        select(Promotion)
        .where(
            Promotion.active.is_(True),
            Promotion.travel_from <= travel_date,
            Promotion.travel_to >= travel_date,
            or_(Promotion.route_id.is_(None), Promotion.route_id == route_id),
            or_(Promotion.class_code.is_(None), Promotion.class_code == class_code),
        )
        .order_by(Promotion.percent_off.desc())
        .limit(1)
    )


def _promotion_out(promotion: Promotion, route: str | None) -> PromotionOut:
    return PromotionOut(
        code=promotion.code,
        name=promotion.name,
        route=route,
        class_code=promotion.class_code,
        travel_from=promotion.travel_from,
        travel_to=promotion.travel_to,
        percent_off=promotion.percent_off,
        active=promotion.active,
    )


async def _stops(session: AsyncSession, route_id: str) -> list[RouteStop]:
    return list(
        await session.scalars(
            select(RouteStop).where(RouteStop.route_id == route_id).order_by(RouteStop.seq)
        )
    )


async def _seqsby_code(session: AsyncSession, route_id: str) -> dict[str, int]:
    rows = await session.execute(
        select(Station.code, RouteStop.seq)
        .join(RouteStop, RouteStop.station_id == Station.id)
        .where(RouteStop.route_id == route_id)
    )
    return {code: seq for code, seq in rows}


def _seq(seqs: dict[str, int], code: str, field: str) -> int:
    if code not in seqs:
        raise InvalidInput(field, f"{code!r} is not a stop of this route")
    return seqs[code]
