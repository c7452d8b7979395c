"""Timetable and fare look-ups over the ticketing service, read aloud in both languages.

A caller names a station on the keypad by the first letters of its pinyin
(北京南 is b-j-n, keys 2 5 6), or by its code if the operator uses numeric
codes. Several stations can share keys; the look-up then searches every
matching pair and says which stations each trip joins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ticketline.core.errors import TicketlineError
from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.sayas import speak
from ticketline.ticketing.schemas import ClassAvailability, StationOut, TripOption
from ticketline.ticketing.service import TicketingService

KEYPAD = {
    "2": "abc",
    "3": "def",
    "4": "ghi",
    "5": "jkl",
    "6": "mno",
    "7": "pqrs",
    "8": "tuv",
    "9": "wxyz",
}
LETTER_KEY = {letter: key for key, letters in KEYPAD.items() for letter in letters}
MAX_READ = 3  # trips read aloud; more would lose the caller
MAX_PAIRS = 4  # station pairs searched when keys are ambiguous
MAX_CANDIDATES = 200


def keys_of(letters: str) -> str:
    """The keypad digits that spell `letters` ('bjn' -> '256')."""
    return "".join(LETTER_KEY.get(c, "") for c in letters.lower())


class TicketingLookups:
    """The ticketing actions of the IVR, bound to one `TicketingService`."""

    def __init__(self, ticketing: TicketingService) -> None:
        self.ticketing = ticketing

    def bind(self, registry: ActionRegistry) -> None:
        registry.bind("timetable", self.timetable)
        registry.bind("fares", self.fares)

    async def stations(self, digits: str) -> list[StationOut]:
        """Stations whose code is `digits` or whose pinyin initials are spelt by them."""
        found = {s.code: s for s in await self.ticketing.find_stations(digits) if s.code == digits}
        for letter in KEYPAD.get(digits[:1], ""):
            for station in await self.ticketing.find_stations(letter, MAX_CANDIDATES):
                if keys_of(station.initials) == digits:
                    found.setdefault(station.code, station)
        return sorted(found.values(), key=lambda s: s.code)

    async def _trips(self, args: Mapping[str, object]) -> _Search | ActionResult:
        origins = await self.stations(str(args["origin"]))
        destinations = await self.stations(str(args["destination"]))
        if not origins or not destinations:
            field = "origin" if not origins else "destination"
            return ActionResult("invalid", {"field": field})
        day = date.fromisoformat(str(args["date"]))
        pairs = [(a, b) for a in origins for b in destinations if a.code != b.code][:MAX_PAIRS]
        trips: list[TripOption] = []
        for origin, destination in pairs:
            try:
                trips += await self.ticketing.timetable(origin.code, destination.code, day)
            except TicketlineError:
                continue  # a pair with no route between them is simply not a match
        names = {s.name_zh: s.name_en for s in (*origins, *destinations)}
        trips.sort(key=lambda t: (t.departs_at, t.service))
        return _Search(day, trips, names, self.ticketing.zone)

    async def timetable(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """Trips between two stations on a date: departure, arrival, fares, seats left."""
        found = await self._trips(args)
        if isinstance(found, ActionResult):
            return found
        if not found.trips:
            return ActionResult("not_found", {"count": 0})
        first = found.trips[0]
        values = {
            "count": len(found.trips),
            "first_train": first.service,
            "first_departs": found.local(first.departs_at),
            "reply": {lang: found.timetable_reply(lang) for lang in ("zh", "en")},
        }
        return ActionResult("ok", values)

    async def fares(self, ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        """Fares by class between two stations on a date, from the first trip that has them."""
        found = await self._trips(args)
        if isinstance(found, ActionResult):
            return found
        priced = [t for t in found.trips if any(c.fare_fen is not None for c in t.classes)]
        if not priced:
            return ActionResult("not_found", {"count": 0})
        reply = {lang: found.fares_reply(priced[0], lang) for lang in ("zh", "en")}
        return ActionResult("ok", {"count": len(priced), "reply": reply})


@dataclass(frozen=True)
class _Search:
    """The trips found for one request, and how to read them aloud."""

    day: date
    trips: list[TripOption]
    english: Mapping[str, str]  # Chinese station name -> English name
    zone: ZoneInfo

    def local(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%H:%M")

    def station(self, name: str, zh: bool) -> str:
        return name if zh else self.english.get(name, name)

    def timetable_reply(self, lang: str) -> str:
        zh = lang == "zh"
        first = self.trips[0]
        route = (self.station(first.from_station, zh), self.station(first.to_station, zh))
        when, count = speak(self.day, "date", lang), len(self.trips)
        if zh:
            parts = [f"{when}，{route[0]}到{route[1]}共有{speak(count, 'count', lang)}趟车。"]
        else:
            are = "is 1 trip" if count == 1 else f"are {count} trips"
            parts = [f"On {when}, there {are} from {route[0]} to {route[1]}."]
        parts += [self._trip(trip, lang) for trip in self.trips[:MAX_READ]]
        rest = count - MAX_READ
        if rest > 0:
            more = speak(rest, "count", lang)
            parts.append(
                f"另有{more}趟车，详情请转人工。" if zh else f"{rest} more; ask an agent for them."
            )
        return ("" if zh else " ").join(parts)

    def _trip(self, trip: TripOption, lang: str) -> str:
        zh = lang == "zh"
        train = speak(trip.service, "train", lang)
        leaves = speak(self.local(trip.departs_at), "time", lang)
        arrives = speak(self.local(trip.arrives_at), "time", lang)
        classes = ("，" if zh else ", ").join(class_phrase(c, lang) for c in trip.classes[:2])
        if zh:
            return f"{train}次，{leaves}开，{arrives}到，{classes}。"
        return f"{train}, leaves at {leaves}, arrives at {arrives}, {classes}."

    def fares_reply(self, trip: TripOption, lang: str) -> str:
        zh = lang == "zh"
        priced = [c for c in trip.classes if c.fare_fen is not None]
        fares = [
            (c.name_zh if zh else c.name_en)
            + ("" if zh else " ")
            + speak(c.fare_fen, "money", lang)
            for c in priced
        ]
        route = (self.station(trip.from_station, zh), self.station(trip.to_station, zh))
        if zh:
            return f"{route[0]}到{route[1]}全价票：" + "，".join(fares) + "。"
        return f"Full fares from {route[0]} to {route[1]}: " + ", ".join(fares) + "."


def class_phrase(seats: ClassAvailability, lang: str) -> str:
    """'二等座六十三元五角，余票二十张' / 'Second class 63 yuan 50, 20 seats left'."""
    left = speak(seats.seats_left, "count", lang)
    fare = "" if seats.fare_fen is None else speak(seats.fare_fen, "money", lang)
    if lang == "zh":
        return (
            f"{seats.name_zh}{fare}，余票{left}张" if seats.seats_left else f"{seats.name_zh}无票"
        )
    if not seats.seats_left:
        return f"{seats.name_en} sold out"
    return f"{seats.name_en} {fare}, {left} seats left"
