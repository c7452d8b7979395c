"""Business hours on a calendar with holidays: the clock SLA targets are counted on.

A week gives each weekday (Monday = 0) a list of working intervals in the site's
zone; holidays close a whole day, and make-up working days (调休) open a weekend day
with Monday's hours. Pure: no database, no clock; times in and out are UTC.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketline.core.errors import InvalidInput

MAX_DAYS = 3 * 366  # a target further out than this means the calendar is broken
Interval = tuple[time, time]


def parse_week(raw: Mapping[str, list[list[str]]]) -> dict[int, list[Interval]]:
    """{"0": [["09:00", "12:00"], ["13:00", "18:00"]], ...} -> checked intervals.

    Errors name the day: an end before its start, overlapping intervals, bad times,
    or a week with no working time at all.
    """
    week: dict[int, list[Interval]] = {}
    for key, spans in raw.items():
        if key not in {str(d) for d in range(7)}:
            raise InvalidInput("week", f"day {key!r} is not 0 (Monday) to 6 (Sunday)")
        week[int(key)] = _intervals(f"week.{key}", spans)
    if not any(week.values()):
        raise InvalidInput("week", "the calendar has no working hours at all")
    return week


def _intervals(field_name: str, spans: list[list[str]]) -> list[Interval]:
    parsed: list[Interval] = []
    for span in spans:
        if len(span) != 2:
            raise InvalidInput(field_name, "each interval is [start, end]")
        try:
            start, end = time.fromisoformat(span[0]), time.fromisoformat(span[1])
        except ValueError as exc:
            raise InvalidInput(field_name, f"not a time of day: {span}") from exc
        if end <= start:
            raise InvalidInput(field_name, f"{span[1]} is not after {span[0]}")
        parsed.append((start, end))
    parsed.sort()
    for (_, end), (start, _) in itertools.pairwise(parsed):
        if start < end:
            raise InvalidInput(field_name, "working intervals overlap")
    return parsed


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    week: dict[int, list[Interval]]
    closed: frozenset[date] = frozenset()
    extra_working: frozenset[date] = frozenset()
    _cache: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not any(self.week.values()) and not self.extra_working:
            raise InvalidInput("week", "the calendar has no working hours at all")

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date, as UTC datetimes."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        if day in self.closed:
            spans: list[Interval] = []
        elif day in self.extra_working:
            spans = self.week.get(0) or next(s for s in self.week.values() if s)
        else:
            spans = self.week.get(day.weekday(), [])
        result = [
            (
                datetime.combine(day, start, self.zone).astimezone(UTC),
                datetime.combine(day, end, self.zone).astimezone(UTC),
            )
            for start, end in spans
        ]
        self._cache[day] = result
        return result

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of business time after `start`."""
        left = timedelta(minutes=minutes)
        for begin, end in self._spans_from(start):
            if end - begin >= left:
                return begin + left
            left -= end - begin
        raise InvalidInput("calendar", f"no working time within {MAX_DAYS} days")

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Business minutes from `start` to `end` (0 if `end` is not later)."""
        total = timedelta()
        if end <= start:
            return 0.0
        for begin, finish in self._spans_from(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total.total_seconds() / 60

    def _spans_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working spans at or after `start`, clipped to begin no earlier than it."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            for begin, end in self.intervals_on(day + timedelta(days=offset)):
                if end <= start:
                    continue
                yield max(begin, start), end
