"""HTTP API of the ticketing area: thin handlers over TicketingService.

Reading needs ticketing.read, selling ticketing.sell, the catalog, fares and fee
rules ticketing.catalog.write; the money side is in `finance_api.py`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, StringConstraints

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.ticketing.rules import FeeRuleOut, FeeRuleSet
from ticketline.ticketing.schemas import (
    BookingIn,
    BookingOut,
    ChangeIn,
    ChangeQuote,
    ChangeQuoteIn,
    DistanceFareIn,
    FareIn,
    FareTableOut,
    LayoutIn,
    LayoutOut,
    OperatorIn,
    OperatorOut,
    OrderOut,
    PassengerTypeOut,
    PaymentIn,
    PaymentMethod,
    PickupIn,
    PromotionIn,
    PromotionOut,
    RefundIn,
    RefundQuote,
    RouteIn,
    RouteOut,
    SeatClass,
    SeatOut,
    StationIn,
    StationOut,
    StrictModel,
    TimetableIn,
    TripOption,
    TripOut,
)
from ticketline.ticketing.service import TicketingService

Reader = Annotated[Principal, Depends(require(Perm.TICKETING_READ))]
Seller = Annotated[Principal, Depends(require(Perm.TICKETING_SELL))]
Editor = Annotated[Principal, Depends(require(Perm.CATALOG_WRITE))]
StationCode = Annotated[str, Query(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
RouteCode = Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
RoutePath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class Created(BaseModel):
    code: str
    count: int = 1


class VoidIn(StrictModel):
    method: PaymentMethod
    key: Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[\w-]+$")]


def build_router(service: TicketingService) -> APIRouter:
    router = APIRouter(prefix="/api/ticketing", tags=["ticketing"])
    _search_routes(router, service)
    _catalog_routes(router, service)
    _order_routes(router, service)
    _money_routes(router, service)
    return router


def _search_routes(router: APIRouter, service: TicketingService) -> None:
    @router.get("/stations", response_model=list[StationOut])
    async def stations(
        _: Reader, q: Annotated[str | None, Query(min_length=1, max_length=32)] = None
    ) -> list[StationOut]:
        """Stations matching `q` (code, name, pinyin or initials; ten at most), or without
        `q` every station by code."""
        if q is None:
            return await service.catalog.stations()
        return await service.find_stations(q)

    @router.get("/search", response_model=list[TripOption])
    async def search(
        _: Reader,
        from_station: Annotated[StationCode, Query(alias="from")],
        to_station: Annotated[StationCode, Query(alias="to")],
        day: Annotated[date, Query(alias="date")],
    ) -> list[TripOption]:
        return await service.timetable(from_station, to_station, day)

    @router.get("/trips/{trip_id}/seats", response_model=dict[str, int])
    async def seats(
        trip_id: str,
        _: Reader,
        from_station: Annotated[StationCode, Query(alias="from")],
        to_station: Annotated[StationCode, Query(alias="to")],
    ) -> dict[str, int]:
        return await service.seats_left(trip_id, from_station, to_station)

    @router.get("/trips/{trip_id}/seat-map", response_model=list[SeatOut])
    async def seat_map(
        trip_id: str,
        _: Reader,
        from_station: Annotated[StationCode, Query(alias="from")],
        to_station: Annotated[StationCode, Query(alias="to")],
        class_code: Annotated[SeatClass, Query()],
    ) -> list[SeatOut]:
        """The seats of one class and which are free for the journey, to choose from."""
        return await service.seat_map(trip_id, from_station, to_station, class_code)

    @router.get("/trips/{trip_id}/fares", response_model=dict[str, int])
    async def fares(
        trip_id: str,
        _: Reader,
        from_station: Annotated[StationCode, Query(alias="from")],
        to_station: Annotated[StationCode, Query(alias="to")],
        passenger_type: Annotated[str, Query(max_length=16)] = "adult",
    ) -> dict[str, int]:
        return await service.fares_for(trip_id, from_station, to_station, passenger_type)


def _catalog_routes(router: APIRouter, service: TicketingService) -> None:
    catalog, fares = service.catalog, service.fares
    _catalog_reads(router, service)

    @router.post("/operators", response_model=Created, status_code=201)
    async def operator(body: OperatorIn, who: Editor) -> Created:
        return Created(code=(await catalog.create_operator(who.actor, body)).code)

    @router.post("/stations", response_model=Created, status_code=201)
    async def station(body: StationIn, who: Editor) -> Created:
        return Created(code=(await catalog.create_station(who.actor, body)).code)

    @router.post("/routes", response_model=Created, status_code=201)
    async def route(body: RouteIn, who: Editor) -> Created:
        return Created(code=(await catalog.create_route(who.actor, body)).code)

    @router.post("/layouts", response_model=Created, status_code=201)
    async def layout(body: LayoutIn, who: Editor) -> Created:
        made = await catalog.create_layout(who.actor, body)
        return Created(code=made.code, count=len(body.seats) + sum(q.places for q in body.quotas))

    @router.post("/timetables", response_model=Created, status_code=201)
    async def timetable(body: TimetableIn, who: Editor) -> Created:
        made, trips = await catalog.add_timetable(who.actor, body)
        return Created(code=made.id, count=trips)

    @router.post("/trips/{trip_id}/cancel", status_code=204)
    async def cancel_trip(trip_id: str, who: Editor) -> None:
        await catalog.cancel_trip(who.actor, trip_id)

    @router.post("/fares/distance", response_model=Created, status_code=201)
    async def distance_fares(body: DistanceFareIn, who: Editor) -> Created:
        return Created(code=body.route, count=await fares.set_distance_fares(who.actor, body))

    @router.put("/fares", response_model=Created)
    async def fare(body: FareIn, who: Editor) -> Created:
        await fares.set_fare(who.actor, body)
        return Created(code=body.route)

    @router.post("/promotions", response_model=Created, status_code=201)
    async def promotion(body: PromotionIn, who: Editor) -> Created:
        return Created(code=(await fares.create_promotion(who.actor, body)).code)

    @router.get("/fee-rules", response_model=list[FeeRuleOut])
    async def fee_rules(_: Reader) -> list[FeeRuleOut]:
        return await service.fee_rules()

    @router.put("/fee-rules", status_code=204)
    async def replace_fee_rules(body: FeeRuleSet, who: Editor) -> None:
        await service.replace_fee_rules(who.actor, body)


def _catalog_reads(router: APIRouter, service: TicketingService) -> None:
    catalog, fares = service.catalog, service.fares

    @router.get("/operators", response_model=list[OperatorOut])
    async def operators(_: Reader) -> list[OperatorOut]:
        """Every carrier and venue operator, by code."""
        return await catalog.operators()

    @router.get("/routes", response_model=list[RouteOut])
    async def routes(_: Reader) -> list[RouteOut]:
        """Every route, by code, with its stops in order."""
        return await catalog.routes()

    @router.get("/routes/{code}/fares", response_model=FareTableOut)
    async def route_fares(code: RoutePath, _: Reader) -> FareTableOut:
        """The adult fare of every class between every pair of stops of a route."""
        return await fares.fare_table(code)

    @router.get("/layouts", response_model=list[LayoutOut])
    async def layouts(_: Reader) -> list[LayoutOut]:
        """Every seat layout with its number of seats per class."""
        return await catalog.layouts()

    @router.get("/trips", response_model=list[TripOut])
    async def trips(
        _: Reader, day: Annotated[date, Query(alias="date")], route: RouteCode | None = None
    ) -> list[TripOut]:
        """The trips of a service date, cancelled ones included, optionally of one route."""
        return await catalog.trips_on(day, route)

    @router.get("/passenger-types", response_model=list[PassengerTypeOut])
    async def passenger_types(_: Reader) -> list[PassengerTypeOut]:
        """Passenger types and their percent off the adult fare."""
        return await fares.passenger_types()

    @router.get("/promotions", response_model=list[PromotionOut])
    async def promotions(_: Reader, route: RouteCode | None = None) -> list[PromotionOut]:
        """Promotions by first travel date; with `route`, those that apply to it."""
        return await fares.promotions(route)


def _order_routes(router: APIRouter, service: TicketingService) -> None:
    orders = service.orders

    @router.post("/orders", response_model=BookingOut, status_code=201)
    async def book(body: BookingIn, who: Seller) -> BookingOut:
        return await orders.book(who.actor, body)

    @router.get("/orders/{code}", response_model=OrderOut)
    async def get_order(code: str, _: Reader) -> OrderOut:
        return await orders.view(code)

    @router.post("/orders/{code}/confirm", response_model=OrderOut)
    async def confirm(code: str, who: Seller) -> OrderOut:
        return await orders.confirm(who.actor, code)

    @router.post("/orders/{code}/cancel", response_model=OrderOut)
    async def cancel(code: str, who: Seller) -> OrderOut:
        return await orders.cancel(who.actor, code)

    @router.post("/orders/{code}/issue", response_model=OrderOut)
    async def issue(code: str, who: Seller) -> OrderOut:
        return await orders.issue(who.actor, code)

    @router.post("/orders/{code}/pickup", response_model=OrderOut)
    async def pickup(code: str, body: PickupIn, who: Seller) -> OrderOut:
        return await orders.verify_pickup(who.actor, code, body.pickup_code)

    @router.post("/orders/{code}/use", response_model=OrderOut)
    async def use(code: str, who: Seller) -> OrderOut:
        """Check the tickets in at the gate or the boarding door (检票), once."""
        return await orders.use(who.actor, code)

    @router.post("/orders/{code}/resend-pickup", status_code=204)
    async def resend(code: str, who: Seller) -> None:
        await orders.resend_pickup_code(who.actor, code)


def _money_routes(router: APIRouter, service: TicketingService) -> None:
    @router.post("/orders/{code}/payments", response_model=OrderOut)
    async def pay(code: str, body: PaymentIn, who: Seller) -> OrderOut:
        return await service.payments.pay(who.actor, code, body)

    @router.get("/orders/{code}/refund-quote", response_model=RefundQuote)
    async def refund_quote(
        code: str, _: Reader, ticket: Annotated[list[str] | None, Query()] = None
    ) -> RefundQuote:
        return await service.refunds.quote(code, ticket)

    @router.post("/orders/{code}/refund", response_model=OrderOut)
    async def refund(code: str, body: RefundIn, who: Seller) -> OrderOut:
        return await service.refunds.refund(who.actor, code, body)

    @router.post("/orders/{code}/void", response_model=OrderOut)
    async def void(code: str, body: VoidIn, who: Seller) -> OrderOut:
        return await service.refunds.void(who.actor, code, body.method, body.key)

    @router.post("/orders/{code}/change-quote", response_model=ChangeQuote)
    async def change_quote(code: str, body: ChangeQuoteIn, _: Reader) -> ChangeQuote:
        return await service.changes.quote(code, body)

    @router.post("/orders/{code}/change", response_model=OrderOut)
    async def change(code: str, body: ChangeIn, who: Seller) -> OrderOut:
        return await service.changes.change(who.actor, code, body)
