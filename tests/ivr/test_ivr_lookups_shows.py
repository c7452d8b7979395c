"""The theatre's look-ups (what is on, seats left for a performance) on the real catalog."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

import pytest

from tests.ticketing.helpers import PASSENGERS, seats
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.lookups_shows import next_day_of, performance_number
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script
from ticketline.ticketing.schemas import (
    BookingIn,
    FareIn,
    LayoutIn,
    OperatorIn,
    RouteIn,
    StationIn,
    StopIn,
    TimetableIn,
)
from ticketline.ticketing.service import TicketingService

SUNDAY = date(2026, 11, 22)  # the application's clock: 10:00 in Shanghai that day
MONDAY = SUNDAY + timedelta(days=1)
PRICES = {"vip": 88000, "stalls": 48000}


async def build_theatre(tk: TicketingService) -> None:
    """A hall with 8 VIP and 12 stalls seats: a matinee at weekends, an evening show daily."""
    await tk.install_defaults()
    await tk.catalog.create_operator(
        SYSTEM, OperatorIn(code="opera", name_zh="大剧院", name_en="Grand Theatre", product="event")
    )
    for code, zh, en in (("GTA", "大剧院·入场", "doors"), ("GTE", "大剧院·散场", "end")):
        await tk.catalog.create_station(
            SYSTEM, StationIn(code=code, name_zh=zh, name_en=en, city="北京", pinyin="da ju yuan")
        )
    stops = [StopIn(station="GTA", arrive_min=0, depart_min=0, km=0)]
    stops.append(StopIn(station="GTE", arrive_min=150, depart_min=150, km=0))
    await tk.catalog.create_route(
        SYSTEM, RouteIn(code="HALL", operator="opera", name="歌剧厅", product="event", stops=stops)
    )
    layout = seats(2, "vip", "A") + seats(3, "stalls", "B")
    await tk.catalog.create_layout(SYSTEM, LayoutIn(code="hall", name="歌剧厅", seats=layout))
    for class_code, amount in PRICES.items():
        fare = FareIn(
            route="HALL",
            class_code=class_code,
            from_station="GTA",
            to_station="GTE",
            amount_fen=amount,
        )
        await tk.fares.set_fare(SYSTEM, fare)
    for service, starts, weekdays in (("MATINEE", "14:00", [6, 7]), ("TURANDOT", "19:30", None)):
        timetable = TimetableIn(
            route="HALL",
            layout="hall",
            service=service,
            departs_local=starts,
            valid_from=SUNDAY,
            valid_to=SUNDAY + timedelta(days=13),
            **({"weekdays": weekdays} if weekdays else {}),
        )
        await tk.catalog.add_timetable(SYSTEM, timetable)


@pytest.fixture
async def theatre(application: Application) -> Application:
    await application.notify.install_default_templates()
    await build_theatre(application.ticketing)
    return application


async def call(application: Application, name: str, args: Mapping[str, object]) -> ActionResult:
    ctx = ActionContext("c1", "13800138000", "zh", application.clock.now())
    return await application.ivr.actions.call(name, ctx, args)


def reply_of(result: ActionResult, lang: str) -> str:
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    return str(reply[lang])


def test_a_performance_number_is_the_day_and_its_place() -> None:
    assert performance_number(MONDAY, 2) == "11232"


@pytest.mark.parametrize(
    ("mmdd", "expected"),
    [
        ("1122", SUNDAY),  # today
        ("1123", MONDAY),
        ("1121", date(2027, 11, 21)),  # yesterday means next year's
        ("0229", None),  # no 29 February within a year
        ("1332", None),
        ("12", None),
        ("ab12", None),
    ],
)
def test_a_keyed_day_is_the_next_such_day(mmdd: str, expected: date | None) -> None:
    assert next_day_of(mmdd, SUNDAY) == expected


async def test_the_performances_of_a_day_are_every_venues_shows_by_time(
    theatre: Application,
) -> None:
    shows = await theatre.ticketing.performances_on(SUNDAY)
    assert [s.service for s in shows] == ["MATINEE", "TURANDOT"]
    assert {c.class_code: c.fare_fen for c in shows[0].classes} == PRICES
    assert [s.service for s in await theatre.ticketing.performances_on(MONDAY)] == ["TURANDOT"]


async def test_what_is_on_reads_each_performance_with_its_number(theatre: Application) -> None:
    result = await call(theatre, "shows_on", {"date": SUNDAY.isoformat()})
    assert result.outcome == "ok"
    assert result.values["count"] == 2
    assert result.values["first"] == "11221"
    assert reply_of(result, "zh") == (
        "二零二六年十一月二十二日共有两场演出。"
        "场次编号幺幺二二幺，MATINEE，十四点整开演。"
        "场次编号幺幺二二二，TURANDOT，十九点三十分开演。"
    )
    english = reply_of(result, "en")
    assert english.startswith("On November 22, 2026, there are 2 performances.")
    assert "Performance number one one two two two, TURANDOT, starts at 7:30 PM." in english


async def test_a_day_without_performances_is_not_found(theatre: Application) -> None:
    later = SUNDAY + timedelta(days=30)
    assert (await call(theatre, "shows_on", {"date": later.isoformat()})).outcome == "not_found"


async def test_seats_left_count_what_was_sold(theatre: Application) -> None:
    evening = (await theatre.ticketing.performances_on(MONDAY))[0]
    sale = BookingIn.model_validate(
        {
            "trip_id": evening.trip_id,
            "from_station": "GTA",
            "to_station": "GTE",
            "class_code": "vip",
            "passengers": [
                {"name": name, "id_type": "id_card", "id_number": number}
                for name, number in PASSENGERS[:3]
            ],
            "contact_name": "张三",
            "contact_phone": "13800138000",
        }
    )
    await theatre.ticketing.orders.book(SYSTEM, sale)
    result = await call(theatre, "seats_left", {"code": "11231"})
    assert result.outcome == "ok"
    assert result.values["seats_left"] == 5 + 12
    zh = reply_of(result, "zh")
    assert "VIP席八百八十元，余票五张" in zh
    assert "池座四百八十元，余票十二张" in zh
    assert (
        "Performance one one two three one, TURANDOT on November 23, 2026 at 7:30 PM"
        in reply_of(result, "en")
    )


@pytest.mark.parametrize("number", ["11233", "11230", "1123", "13011", "abcde1"])
async def test_a_number_that_names_no_performance_is_not_found(
    theatre: Application, number: str
) -> None:
    result = await call(theatre, "seats_left", {"code": number})
    assert result.outcome == "not_found"
    assert result.values["code"] == number


async def test_a_caller_hears_what_is_on_and_the_seats_of_one_show(theatre: Application) -> None:
    ivr = theatre.ivr
    ivr.prompts = TextPrompts()
    ivr.queue = SimulatedQueue()
    keys = "2,1,1122#,9,2,11222#,h"
    simulated = SimulatedCall(parse_script(keys), called="95106")
    trace = await ivr.handle_call(simulated)
    spoken = "\n".join(simulated.transcript)
    assert "there are 2 performances" in spoken
    assert "Performance one one two two two, TURANDOT on November 22, 2026 at 7:30 PM" in spoken
    assert "VIP 880 yuan, 8 seats left" in spoken
    assert trace.contained
