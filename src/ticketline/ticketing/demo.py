"""Demo catalog: the Beijing-Shanghai rail line (8 stations), a coach operator with
three routes, a theatre with a seat map and a standing (general-admission) section,
trips for the next 30 days, some orders.

Running it again changes nothing: existing codes are skipped, and trips and
orders are only made when the catalog was new.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable
from datetime import date, timedelta

from ticketline.admin.security import SYSTEM
from ticketline.ticketing.errors import CodeTaken
from ticketline.ticketing.schemas import (
    BookingIn,
    DistanceFareIn,
    FareIn,
    LayoutIn,
    OperatorIn,
    PaymentIn,
    PromotionIn,
    QuotaIn,
    RouteIn,
    SeatIn,
    StationIn,
    StopIn,
    TimetableIn,
)
from ticketline.ticketing.service import TicketingService

OPERATORS = (
    ("cr", "中国铁路", "China Railway", "rail"),
    ("jjkd", "京津冀客运", "Jing-Jin-Ji Coach", "coach"),
    ("ncpa", "国家大剧院", "National Centre for the Performing Arts", "event"),
)
# code, Chinese, English, city, pinyin
STATIONS = (
    ("VNP", "北京南", "Beijing South", "北京", "bei jing nan"),
    ("LJP", "廊坊", "Langfang", "廊坊", "lang fang"),
    ("TIP", "天津南", "Tianjin South", "天津", "tian jin nan"),
    ("CBP", "沧州西", "Cangzhou West", "沧州", "cang zhou xi"),
    ("DIP", "德州东", "Dezhou East", "德州", "de zhou dong"),
    ("JGK", "济南西", "Jinan West", "济南", "ji nan xi"),
    ("NKH", "南京南", "Nanjing South", "南京", "nan jing nan"),
    ("AOH", "上海虹桥", "Shanghai Hongqiao", "上海", "shang hai hong qiao"),
    ("LLQ", "六里桥客运站", "Liuliqiao Coach Station", "北京", "liu li qiao ke yun zhan"),
    ("SHK", "四惠客运站", "Sihui Coach Station", "北京", "si hui ke yun zhan"),
    ("BDK", "保定客运站", "Baoding Coach Station", "保定", "bao ding ke yun zhan"),
    ("SJK", "石家庄客运站", "Shijiazhuang Coach Station", "石家庄", "shi jia zhuang ke yun zhan"),
    ("TJK", "天津通莎客运站", "Tianjin Tongsha Coach Station", "天津", "tian jin tong sha"),
    ("CDK", "承德客运站", "Chengde Coach Station", "承德", "cheng de ke yun zhan"),
    ("NCA", "国家大剧院·入场", "NCPA doors open", "北京", "guo jia da ju yuan"),
    ("NCE", "国家大剧院·散场", "NCPA show ends", "北京", "guo jia da ju yuan san chang"),
)
# route, operator, name, product, stops as (station, arrive, depart, km)
ROUTES = (
    (
        "JH-HSR",
        "cr",
        "京沪高铁",
        "rail",
        (
            ("VNP", 0, 0, 0),
            ("LJP", 21, 23, 60),
            ("TIP", 36, 38, 122),
            ("CBP", 62, 64, 219),
            ("DIP", 90, 92, 314),
            ("JGK", 118, 121, 406),
            ("NKH", 225, 228, 1023),
            ("AOH", 275, 275, 1318),
        ),
    ),
    (
        "LLQ-SJK",
        "jjkd",
        "北京—保定—石家庄",
        "coach",
        (
            ("LLQ", 0, 0, 0),
            ("BDK", 130, 140, 150),
            ("SJK", 230, 230, 290),
        ),
    ),
    ("SHK-TJK", "jjkd", "北京—天津", "coach", (("SHK", 0, 0, 0), ("TJK", 120, 120, 140))),
    ("LLQ-CDK", "jjkd", "北京—承德", "coach", (("LLQ", 0, 0, 0), ("CDK", 200, 200, 230))),
    ("NCPA-OPERA", "ncpa", "歌剧院", "event", (("NCA", 0, 0, 0), ("NCE", 180, 180, 0))),
)
TIMETABLES = (
    ("JH-HSR", "crh380", "G1", "07:00", (1, 2, 3, 4, 5, 6, 7)),
    ("JH-HSR", "crh380", "G5", "12:00", (1, 2, 3, 4, 5, 6, 7)),
    ("JH-HSR", "crh380", "G9", "17:00", (1, 2, 3, 4, 5, 6, 7)),
    ("LLQ-SJK", "coach45", "K101", "08:30", (1, 2, 3, 4, 5, 6, 7)),
    ("LLQ-SJK", "coach45", "K103", "14:30", (1, 2, 3, 4, 5, 6, 7)),
    ("SHK-TJK", "coach45", "K201", "09:00", (1, 2, 3, 4, 5, 6, 7)),
    ("SHK-TJK", "coach45", "K203", "16:00", (1, 2, 3, 4, 5, 6, 7)),
    ("LLQ-CDK", "coach45", "K301", "10:00", (1, 2, 3, 4, 5, 6, 7)),
    ("NCPA-OPERA", "opera-hall", "TURANDOT", "19:30", (5, 6, 7)),
)


def train_seats() -> list[SeatIn]:
    seats: list[SeatIn] = []
    cars: tuple[tuple[str, str, int, str], ...] = (
        ("01", "business", 2, "ACF"),
        ("02", "first", 7, "ACDF"),
    )
    cars += tuple((f"0{n}", "second", 17, "ABCDF") for n in (3, 4, 5))
    for car, cls, rows, letters in cars:
        for row in range(1, rows + 1):
            for letter in letters:
                position = "window" if letter in "AF" else "aisle" if letter in "CD" else "middle"
                seats.append(
                    SeatIn(
                        seat_no=f"{car}{row:02d}{letter}",
                        class_code=cls,
                        section=car,
                        row=row,
                        position=position,
                    )
                )
    return seats


def coach_seats() -> list[SeatIn]:
    return [
        SeatIn(
            seat_no=f"{row:02d}{letter}",
            class_code="coach",
            section="1",
            row=row,
            position="window" if letter in "AD" else "aisle",
        )
        for row in range(1, 12)
        for letter in "ABCD"
    ]


def hall_seats() -> list[SeatIn]:
    seats = []
    for section, cls, rows in (("stalls", "stalls", 12), ("balcony", "balcony", 6)):
        for row in range(1, rows + 1):
            vip = section == "stalls" and row <= 2
            for number in range(1, 21):
                seats.append(
                    SeatIn(
                        seat_no=f"{section[0].upper()}{row:02d}{number:02d}",
                        class_code="vip" if vip else cls,
                        section=section,
                        row=row,
                        position="none",
                    )
                )
    return seats


LAYOUTS = (
    ("crh380", "CRH380A 8节编组", train_seats),
    ("coach45", "宇通45座大巴", coach_seats),
    ("opera-hall", "国家大剧院歌剧院座位图", hall_seats),
)
# layout, class, section, places: sold without seat numbers
QUOTAS = (("opera-hall", "ga", "standing", 60),)
DISTANCE_FARES = (
    ("JH-HSR", "business", 500, 140),
    ("JH-HSR", "first", 500, 75),
    ("JH-HSR", "second", 500, 45),
    ("LLQ-SJK", "coach", 1000, 35),
    ("SHK-TJK", "coach", 1000, 35),
    ("LLQ-CDK", "coach", 1000, 35),
)
SHOW_FARES = (("vip", 88000), ("stalls", 48000), ("balcony", 18000), ("ga", 8000))


async def seed_ticketing(tk: TicketingService, today: date) -> bool:
    """Load the demo catalog; returns False when it was there already."""
    await tk.install_defaults()
    new = False
    for code, zh, en, product in OPERATORS:
        new |= await _made(
            tk.catalog.create_operator(
                SYSTEM, OperatorIn(code=code, name_zh=zh, name_en=en, product=product)
            )
        )
    if not new:
        return False
    for code, zh, en, city, pinyin in STATIONS:
        await tk.catalog.create_station(
            SYSTEM, StationIn(code=code, name_zh=zh, name_en=en, city=city, pinyin=pinyin)
        )
    for code, operator, name, product, stops in ROUTES:
        await tk.catalog.create_route(
            SYSTEM,
            RouteIn(
                code=code,
                operator=operator,
                name=name,
                product=product,
                stops=[StopIn(station=s, arrive_min=a, depart_min=d, km=k) for s, a, d, k in stops],
            ),
        )
    for code, name, make in LAYOUTS:
        quotas = [
            QuotaIn(class_code=cls, section=section, places=places)
            for layout, cls, section, places in QUOTAS
            if layout == code
        ]
        await tk.catalog.create_layout(
            SYSTEM, LayoutIn(code=code, name=name, seats=make(), quotas=quotas)
        )
    await _fares(tk, today)
    await _finance(tk)
    for route, layout, service, departs, weekdays in TIMETABLES:
        await tk.catalog.add_timetable(
            SYSTEM,
            TimetableIn(
                route=route,
                layout=layout,
                service=service,
                departs_local=departs,
                weekdays=list(weekdays),
                valid_from=today,
                valid_to=today + timedelta(days=29),
            ),
        )
    await _orders(tk, today)
    return True


async def _fares(tk: TicketingService, today: date) -> None:
    for route, cls, base, per_km in DISTANCE_FARES:
        await tk.fares.set_distance_fares(
            SYSTEM, DistanceFareIn(route=route, class_code=cls, base_fen=base, fen_per_km=per_km)
        )
    for cls, amount in SHOW_FARES:
        await tk.fares.set_fare(
            SYSTEM,
            FareIn(
                route="NCPA-OPERA",
                class_code=cls,
                from_station="NCA",
                to_station="NCE",
                amount_fen=amount,
            ),
        )
    await tk.fares.create_promotion(
        SYSTEM,
        PromotionIn(
            code="WINTER10",
            name="冬季九折 Winter 10% off",
            route="JH-HSR",
            travel_from=today + timedelta(days=20),
            travel_to=today + timedelta(days=29),
            percent_off=10,
        ),
    )


def resident_id(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


async def _finance(tk: TicketingService) -> None:
    """Commission on rail and coach tickets and insurance, the railway on deposit, and
    blank ticket and insurance stock (insurance forms low, to show the alert)."""
    await tk.finance.set_policy(SYSTEM, None, "rail", 10, 0)
    await tk.finance.set_policy(SYSTEM, None, "coach", 50, 0)
    await tk.finance.set_policy(SYSTEM, "cr", "rail", 15, 100)
    await tk.finance.set_policy(SYSTEM, None, "insurance", 300, 0)
    await tk.deposits.open_or_set(SYSTEM, "cr", alert_below_fen=5_000_000)
    await tk.deposits.top_up(SYSTEM, "cr", 20_000_000, "DEMO-TT-0001")
    await tk.stock.create(SYSTEM, "cr-blank", "blank_ticket", "cr", "铁路空白车票", 50)
    await tk.stock.receive(SYSTEM, "cr-blank", 500, "A00000001", "A00000500")
    await tk.stock.create(SYSTEM, "insurance", "insurance", None, "乘意险保单", 50)
    await tk.stock.receive(SYSTEM, "insurance", 40, "P0000001", "P0000040")


async def _orders(tk: TicketingService, today: date) -> None:
    """A few orders in different states on tomorrow's trips."""
    day = today + timedelta(days=1)
    g1 = next((t for t in await tk.timetable("VNP", "AOH", day) if t.service == "G1"), None)
    if g1 is None:
        return
    people = (
        ("王芳", "11010519880512", "VNP", "AOH", "second", "issued"),
        ("刘洋", "31011519920303", "TIP", "NKH", "first", "paid"),
        ("陈静", "44030419750808", "VNP", "JGK", "second", "booked"),
        ("赵磊", "32010219990101", "JGK", "AOH", "business", "held"),
    )
    for i, (name, body, a, b, cls, state) in enumerate(people):
        booked = await tk.orders.book(
            SYSTEM,
            BookingIn(
                trip_id=g1.trip_id,
                from_station=a,
                to_station=b,
                class_code=cls,
                passengers=[{"name": name, "id_number": resident_id(f"{body}{i:03d}")}],
                contact_name=name,
                contact_phone=f"1581234000{i + 1}",
                hold_only=state == "held",
            ),
        )
        if state in ("paid", "issued"):
            await tk.payments.pay(
                SYSTEM,
                booked.order.code,
                PaymentIn(
                    amount_fen=booked.order.total_fen, method="cash", key=f"demo-pay-{i:04d}"
                ),
            )
        if state == "issued":
            await tk.orders.issue(SYSTEM, booked.order.code)


async def _made(creation: Awaitable[object]) -> bool:
    with contextlib.suppress(CodeTaken):
        await creation
        return True
    return False
