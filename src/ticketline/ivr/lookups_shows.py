"""What is on at the theatre, and seats left for one performance, read aloud.

A caller names a performance on the keypad by its number: the month and day it
is on (MMDD) and then its place among that day's performances, so the second
performance on 23 November is 11232. `shows_on` reads each number out, and a
number always means the next such day (within a year), so callers never key a year.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.lookups_ticketing import class_phrase
from ticketline.ivr.sayas import speak
from ticketline.ticketing.schemas import TripOption
from ticketline.ticketing.service import TicketingService

MAX_READ = 4  # performances read aloud for one day


def performance_number(day: date, place: int) -> str:
    """'11232' for the second performance on 23 November."""
    return f"{day:%m%d}{place}"


def next_day_of(mmdd: str, today: date) -> date | None:
    """The first date on or after `today` that is month/day `mmdd`, or None if there is none."""
    if len(mmdd) != 4 or not mmdd.isdigit():
        return None
    month, day = int(mmdd[:2]), int(mmdd[2:])
    for year in (today.year, today.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue  # 29 February in a common year, or no such month/day at all
        if found >= today:
            return found
    return None


class ShowLookups:
    """The box-office actions of the IVR, bound to one `TicketingService`."""

    def __init__(self, ticketing: TicketingService) -> None:
        self.ticketing = ticketing

    def bind(self, registry: ActionRegistry) -> None:
        registry.bind("shows_on", self.shows_on)
        registry.bind("seats_left", self.seats_left)

    async def shows_on(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """Performances on a date, each with its number, starting time and seats left."""
        day = date.fromisoformat(str(args["date"]))
        shows = await self.ticketing.performances_on(day)
        if not shows:
            return ActionResult("not_found", {"count": 0})
        reply = {lang: self._day_reply(day, shows, lang) for lang in ("zh", "en")}
        values = {"count": len(shows), "first": performance_number(day, 1), "reply": reply}
        return ActionResult("ok", values)

    async def seats_left(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """Prices and seats left by section for the performance a caller keyed by number."""
        number = str(args["code"])
        today = ctx.now.astimezone(self.ticketing.zone).date()
        day = next_day_of(number[:4], today)
        place = int(number[4:]) if number[4:].isdigit() else 0
        shows = await self.ticketing.performances_on(day) if day and place else []
        if day is None or not 0 < place <= len(shows):
            return ActionResult("not_found", {"code": number})
        show = shows[place - 1]
        reply = {lang: self._show_reply(show, number, lang) for lang in ("zh", "en")}
        left = sum(c.seats_left for c in show.classes)
        return ActionResult("ok", {"code": number, "seats_left": left, "reply": reply})

    def _day_reply(self, day: date, shows: list[TripOption], lang: str) -> str:
        zh, when, count = lang == "zh", speak(day, "date", lang), len(shows)
        if zh:
            parts = [f"{when}共有{speak(count, 'count', lang)}场演出。"]
        else:
            are = "is 1 performance" if count == 1 else f"are {count} performances"
            parts = [f"On {when}, there {are}."]
        for place, show in enumerate(shows[:MAX_READ], start=1):
            number = speak(performance_number(day, place), "digits", lang)
            starts = self._starts(show, lang)
            if zh:
                parts.append(f"场次编号{number}，{show.service}，{starts}开演。")
            else:
                parts.append(f"Performance number {number}, {show.service}, starts at {starts}.")
        rest = count - MAX_READ
        if rest > 0:
            parts.append(
                f"另有{speak(rest, 'count', lang)}场，详情请转人工。"
                if zh
                else f"{rest} more; ask the box office."
            )
        return ("" if zh else " ").join(parts)

    def _show_reply(self, show: TripOption, number: str, lang: str) -> str:
        zh = lang == "zh"
        digits, starts = speak(number, "digits", lang), self._starts(show, lang)
        when = speak(show.departs_at.astimezone(self.ticketing.zone).date(), "date", lang)
        sections = ("，" if zh else ", ").join(class_phrase(c, lang) for c in show.classes)
        if zh:
            return f"场次{digits}，{when}{starts}，{show.service}：{sections}。"
        return f"Performance {digits}, {show.service} on {when} at {starts}: {sections}."

    def _starts(self, show: TripOption, lang: str) -> str:
        local = show.departs_at.astimezone(self.ticketing.zone).strftime("%H:%M")
        return speak(local, "time", lang)
