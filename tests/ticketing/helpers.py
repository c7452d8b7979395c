"""A small real catalog for ticketing tests: one rail line A-B-C-D and its trips, and a
hall with numbered stalls and a standing (general-admission) section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from ticketline.admin.security import SYSTEM
from ticketline.ticketing.models import Route, Trip
from ticketline.ticketing.schemas import (
    BookingIn,
    DistanceFareIn,
    FareIn,
    LayoutIn,
    OperatorIn,
    QuotaIn,
    RouteIn,
    SeatIn,
    StationIn,
    StopIn,
    TimetableIn,
)
from ticketline.ticketing.service import TicketingService

STATIONS = (
    ("BJP", "北京南", "Beijing South", "北京", "bei jing nan"),
    ("TJP", "天津西", "Tianjin West", "天津", "tian jin xi"),
    ("JNK", "济南西", "Jinan West", "济南", "ji nan xi"),
    ("SHH", "上海虹桥", "Shanghai Hongqiao", "上海", "shang hai hong qiao"),
)
KMS = (0, 130, 400, 1300)
MINUTES = (0, 35, 90, 280)


def seats(rows: int, class_code: str = "second", section: str = "05") -> list[SeatIn]:
    """Rows of A (window), C (aisle), D (aisle), F (window)."""
    places = (("A", "window"), ("C", "aisle"), ("D", "aisle"), ("F", "window"))
    return [
        SeatIn(
            seat_no=f"{section}{row:02d}{letter}",
            class_code=class_code,
            section=section,
            row=row,
            position=position,
        )
        for row in range(1, rows + 1)
        for letter, position in places
    ]


@dataclass(frozen=True)
class Line:
    trips: list[str]
    first_day: date


async def build_line(
    service: TicketingService,
    first_day: date,
    *,
    days: int = 3,
    second_rows: int = 5,
    first_rows: int = 1,
    code: str = "G1",
) -> Line:
    """Operator, stations, route BJP-TJP-JNK-SHH, a train, one departure a day at 08:00."""
    actor = SYSTEM
    await service.install_defaults()
    await service.catalog.create_operator(
        actor, OperatorIn(code="crh", name_zh="中国铁路", name_en="China Railway", product="rail")
    )
    for station, zh, en, city, pinyin in STATIONS:
        await service.catalog.create_station(
            actor, StationIn(code=station, name_zh=zh, name_en=en, city=city, pinyin=pinyin)
        )
    stops = [
        StopIn(station=s[0], arrive_min=m, depart_min=m + (2 if 0 < i < 3 else 0), km=k)
        for i, (s, m, k) in enumerate(zip(STATIONS, MINUTES, KMS, strict=True))
    ]
    await service.catalog.create_route(
        actor,
        RouteIn(code=f"{code}-line", operator="crh", name="京沪", product="rail", stops=stops),
    )
    layout = seats(second_rows) + seats(first_rows, "first", "01")
    await service.catalog.create_layout(
        actor, LayoutIn(code=f"{code}-train", name="CRH380", seats=layout)
    )
    for class_code, per_km in (("second", 45), ("first", 75)):
        await service.fares.set_distance_fares(
            actor,
            DistanceFareIn(
                route=f"{code}-line", class_code=class_code, base_fen=500, fen_per_km=per_km
            ),
        )
    await service.catalog.add_timetable(
        actor,
        TimetableIn(
            route=f"{code}-line",
            layout=f"{code}-train",
            service=code,
            departs_local="08:00",
            valid_from=first_day,
            valid_to=first_day + timedelta(days=days - 1),
        ),
    )
    async with service.db.sessions() as session:
        trips = list(
            await session.scalars(
                select(Trip.id)
                .join(Route, Route.id == Trip.route_id)
                .where(Route.code == f"{code}-line")
                .order_by(Trip.service_date)
            )
        )
    return Line(trips, first_day)


VENUE_PRICES = {"stalls": 48000, "ga": 8000}


async def build_venue(
    service: TicketingService, first_day: date, *, standing: int = 5, days: int = 2
) -> Line:
    """A hall (doors DOR, end END): 8 numbered stalls seats and `standing` general-admission
    places; a show at 19:30 every day from `first_day`."""
    await service.install_defaults()
    await service.catalog.create_operator(
        SYSTEM, OperatorIn(code="hall", name_zh="音乐厅", name_en="Concert Hall", product="event")
    )
    for code, zh, en in (("DOR", "音乐厅·入场", "doors"), ("END", "音乐厅·散场", "end")):
        await service.catalog.create_station(
            SYSTEM, StationIn(code=code, name_zh=zh, name_en=en, city="北京", pinyin="yin yue ting")
        )
    stops = [StopIn(station="DOR", arrive_min=0, depart_min=0, km=0)]
    stops.append(StopIn(station="END", arrive_min=120, depart_min=120, km=0))
    await service.catalog.create_route(
        SYSTEM, RouteIn(code="HALL", operator="hall", name="音乐厅", product="event", stops=stops)
    )
    quota = QuotaIn(class_code="ga", section="standing", places=standing)
    layout = LayoutIn(code="hall", name="音乐厅", seats=seats(2, "stalls", "S"), quotas=[quota])
    await service.catalog.create_layout(SYSTEM, layout)
    for class_code, amount in VENUE_PRICES.items():
        fare = FareIn(route="HALL", class_code=class_code, from_station="DOR", to_station="END",
                      amount_fen=amount)  # fmt: skip
        await service.fares.set_fare(SYSTEM, fare)
    await service.catalog.add_timetable(
        SYSTEM,
        TimetableIn(route="HALL", layout="hall", service="GALA", departs_local="19:30",
                    valid_from=first_day, valid_to=first_day + timedelta(days=days - 1)),
    )  # fmt: skip
    async with service.db.sessions() as session:
        trips = list(
            await session.scalars(
                select(Trip.id)
                .join(Route, Route.id == Trip.route_id)
                .where(Route.code == "HALL")
                .order_by(Trip.service_date)
            )
        )
    return Line(trips, first_day)


def resident_id(body17: str) -> str:
    """A resident ID with the right check digit, for test passengers."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


PASSENGERS = (
    ("张三", resident_id("11010519900307123")),
    ("李四", resident_id("31010419851120456")),
    ("王五", resident_id("44030520100101789")),
)


def standing(trip_id: str, count: int = 1, **changes: object) -> BookingIn:
    """A booking of general-admission places at the hall of `build_venue`."""
    hall = {"from_station": "DOR", "to_station": "END", "class_code": "ga"}
    return booking(trip_id, count, **(hall | changes))


def booking(trip_id: str, count: int = 1, **changes: object) -> BookingIn:
    data: dict[str, object] = {
        "trip_id": trip_id,
        "from_station": "BJP",
        "to_station": "SHH",
        "class_code": "second",
        "passengers": [
            {"name": name, "id_type": "id_card", "id_number": number}
            for name, number in PASSENGERS[:count]
        ],
        "contact_name": "张三",
        "contact_phone": "13800138000",
    }
    data.update(changes)
    return BookingIn.model_validate(data)
