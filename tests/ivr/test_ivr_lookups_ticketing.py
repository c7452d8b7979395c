"""Timetable and fare look-ups against the real ticketing service and catalog."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from tests.ticketing.helpers import build_line
from ticketline.app import Application
from ticketline.ivr.actions import ActionContext
from ticketline.ivr.lookups_ticketing import keys_of
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script

DAY = date(2026, 11, 23)


@pytest.fixture
async def line_app(application: Application) -> Application:
    await build_line(application.ticketing, DAY)
    return application


def context(application: Application) -> ActionContext:
    return ActionContext("c1", "13800138000", "zh", application.clock.now())


async def call(application: Application, name: str, args: Mapping[str, object]) -> object:
    return await application.ivr.actions.call(name, context(application), args)


def test_pinyin_initials_on_the_keypad() -> None:
    assert keys_of("bjn") == "256"
    assert keys_of("shhq") == "7447"


async def test_timetable_by_keypad_initials_reads_trips_and_seats(line_app: Application) -> None:
    result = await line_app.ivr.actions.call(
        "timetable",
        context(line_app),
        {"origin": "256", "destination": "7447", "date": "2026-11-23"},
    )
    assert result.outcome == "ok"
    assert result.values["count"] == 1
    assert result.values["first_train"] == "G1"
    assert result.values["first_departs"] == "08:00"
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    assert reply["zh"].startswith(
        "二零二六年十一月二十三日，北京南到上海虹桥共有一趟车。G 幺次，八点整开，"
    )
    assert "余票二十张" in reply["zh"]
    assert reply["en"].startswith(
        "On November 23, 2026, there is 1 trip from Beijing South to Shanghai Hongqiao."
    )


async def test_unknown_stations_and_empty_days_have_their_outcomes(line_app: Application) -> None:
    bad = await line_app.ivr.actions.call(
        "timetable",
        context(line_app),
        {"origin": "999", "destination": "7447", "date": "2026-11-23"},
    )
    assert bad.outcome == "invalid"
    assert bad.values["field"] == "origin"
    backwards = await line_app.ivr.actions.call(
        "timetable",
        context(line_app),
        {"origin": "7447", "destination": "256", "date": "2026-11-23"},
    )
    assert backwards.outcome == "not_found"
    later = await line_app.ivr.actions.call(
        "timetable",
        context(line_app),
        {"origin": "256", "destination": "569", "date": "2026-12-20"},
    )
    assert later.outcome == "not_found"


async def test_fares_by_class(line_app: Application) -> None:
    result = await line_app.ivr.actions.call(
        "fares", context(line_app), {"origin": "256", "destination": "859", "date": "2026-11-23"}
    )
    assert result.outcome == "ok"
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    # 130 km: second 5 + 0.45/km = 63.50 yuan; first 5 + 0.75/km = 102.50 yuan
    assert "二等座六十三元五角" in reply["zh"]
    assert "First class 102 yuan 50" in reply["en"]


async def test_a_caller_hears_the_timetable_end_to_end(line_app: Application) -> None:
    ivr = line_app.ivr
    ivr.prompts = TextPrompts()
    ivr.queue = SimulatedQueue()
    simulated = SimulatedCall(parse_script("2,1,256#,7447#,1123#,1,1,h"))
    trace = await ivr.handle_call(simulated)
    spoken = "\n".join(simulated.transcript)
    assert "from Beijing South to Shanghai Hongqiao" in spoken
    assert "G one, leaves at 8 AM, arrives at" in spoken
    assert "Full fares from Beijing South to Shanghai Hongqiao: First class" in spoken
    assert trace.contained
