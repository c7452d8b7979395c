"""Opening hours: is a calendar open, closed, or on holiday at a given instant?"""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from ticketline.ivr.schema import WEEKDAYS, Calendar, parse_range

Status = Literal["open", "closed", "holiday"]


def status(calendar: Calendar, now: datetime) -> Status:
    """Special days win over holidays, holidays over the weekly hours."""
    local = now.astimezone(ZoneInfo(calendar.timezone))
    today = local.date()
    if today in calendar.special_days:
        ranges = calendar.special_days[today]
    elif today in calendar.holidays:
        return "holiday"
    else:
        ranges = calendar.weekly.get(WEEKDAYS[local.weekday()], [])
    return "open" if any(_inside(r, local.time()) for r in ranges) else "closed"


def _inside(text: str, at: time) -> bool:
    start, end = parse_range(text)
    if end == time(0, 0):  # '...-24:00' runs to midnight
        return at >= start
    return start <= at < end
