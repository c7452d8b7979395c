"""Business hours: SLA targets skip nights, weekends and holidays, and count make-up
working days; broken calendars are refused with the day named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketline.core.errors import InvalidInput
from ticketline.workorders.calendar import BusinessCalendar, parse_week

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def calendar(**kwargs: frozenset[date]) -> BusinessCalendar:
    return BusinessCalendar(zone=SHANGHAI, week=parse_week(WEEKDAYS), **kwargs)  # type: ignore[arg-type]


def test_lunch_nights_and_weekends_do_not_count() -> None:
    cal = calendar()
    # Friday 2026-11-20 11:00 + 4 business hours: 1 h before lunch, 3 h after.
    assert cal.add(local(2026, 11, 20, 11, 0), 240) == local(2026, 11, 20, 16, 0)
    # 8 hours from Friday 17:00: 1 h on Friday, then Monday 3 h + 4 h.
    assert cal.add(local(2026, 11, 20, 17, 0), 480) == local(2026, 11, 23, 17, 0)
    # Outside hours a target starts counting at the next opening.
    assert cal.add(local(2026, 11, 21, 23, 0), 30) == local(2026, 11, 23, 9, 30)


def test_holidays_close_and_make_up_days_open() -> None:
    cal = calendar(
        closed=frozenset({date(2026, 10, 1), date(2026, 10, 2)}),
        extra_working=frozenset({date(2026, 9, 27)}),  # a Sunday worked for the holiday
    )
    assert cal.add(local(2026, 9, 30, 17, 0), 120) == local(2026, 10, 5, 10, 0)
    assert cal.add(local(2026, 9, 27, 9, 0), 60) == local(2026, 9, 27, 10, 0)


def test_minutes_between_is_the_inverse_of_add() -> None:
    cal = calendar()
    start = local(2026, 11, 20, 10, 30)
    for minutes in (1, 90, 600, 2400):
        assert cal.minutes_between(start, cal.add(start, minutes)) == pytest.approx(minutes)
    assert cal.minutes_between(start, start) == 0


@pytest.mark.parametrize(
    ("week", "field"),
    [
        ({"0": [["18:00", "09:00"]]}, "week.0"),
        ({"1": [["09:00", "13:00"], ["12:00", "18:00"]]}, "week.1"),
        ({"2": [["9am", "5pm"]]}, "week.2"),
        ({"7": [["09:00", "18:00"]]}, "week"),
        ({"0": [], "1": []}, "week"),
    ],
)
def test_broken_weeks_name_the_day(week: dict[str, list[list[str]]], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_week(week)
    assert caught.value.details["field"] == field


def test_a_calendar_closed_for_years_is_an_error_not_a_hang() -> None:
    first = date(2026, 1, 1)
    closed = frozenset(first + timedelta(days=i) for i in range(1200))
    blocked = BusinessCalendar(zone=SHANGHAI, week=parse_week(WEEKDAYS), closed=closed)
    with pytest.raises(InvalidInput) as caught:
        blocked.add(local(2026, 1, 1, 0, 0), 10)
    assert caught.value.details["field"] == "calendar"
