"""How values are read aloud in Mandarin and English: numbers, money, dates, codes.

Prompt text carries placeholders ``{name}`` or ``{name:format}``; `fill` replaces
each with words a synthesizer reads correctly. Mandarin output uses Hanzi
numerals (espeak-ng's `cmn-latn-pinyin` voice reads them with the right tones),
and digit strings use 幺 for 1 as Chinese phone menus do. Money is an integer of
fen. A value that is a mapping of languages ({"zh": ..., "en": ...}) is read in
the caller's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time

FORMATS = (
    "text",
    "number",
    "count",
    "digits",
    "money",
    "date",
    "time",
    "duration",
    "train",
    "code",
    "phone",
)
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)(?::([a-z]+))?\}")

_ZH_DIGITS = "零一二三四五六七八九"
_ZH_SPELL = "零幺二三四五六七八九"
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class SayAsError(ValueError):
    """A value that cannot be read in the requested format."""


def placeholders(text: str) -> list[tuple[str, str]]:
    """The (name, format) pairs a prompt text uses; an unknown format is an error."""
    found = []
    for match in PLACEHOLDER.finditer(text):
        fmt = match.group(2) or "text"
        if fmt not in FORMATS:
            raise SayAsError(f"unknown format {fmt!r} in {match.group(0)} (one of {FORMATS})")
        found.append((match.group(1), fmt))
    return found


def fill(text: str, lang: str, lookup: Callable[[str], object]) -> str:
    """Replace every placeholder with the spoken form of `lookup(name)`."""

    def spoken(match: re.Match[str]) -> str:
        return speak(lookup(match.group(1)), match.group(2) or "text", lang)

    return PLACEHOLDER.sub(spoken, text)


def speak(value: object, fmt: str, lang: str) -> str:
    """`value` in words for `lang` ('zh' or 'en') in format `fmt`."""
    if isinstance(value, Mapping):
        value = value.get(lang, "")
    if value is None:
        return ""
    reader = _READERS.get(fmt)
    if reader is None:
        raise SayAsError(f"unknown format {fmt!r}")
    return reader(value, lang == "zh")


def number(value: int, zh: bool) -> str:
    """A whole number: 1234 -> 一千二百三十四 / '1234' (espeak reads English numerals)."""
    if not zh:
        return str(value)
    if value < 0:
        return "负" + zh_number(-value)
    return zh_number(value)


def zh_number(value: int) -> str:
    """Hanzi numeral for 0 <= value < 10**16, with the zeros and 十 spoken as people do."""
    if value == 0:
        return "零"
    groups: list[str] = []
    units = ("", "万", "亿", "万亿")
    rest, index, pending_zero = value, 0, False
    while rest:
        rest, group = divmod(rest, 10000)
        if group:
            word = _zh_group(group) + units[index]
            if pending_zero:
                word += "零"
            groups.append(word)
        pending_zero = 0 < group < 1000 or (group == 0 and bool(groups))
        index += 1
    text = "".join(reversed(groups)).rstrip("零")
    return text[1:] if text.startswith("一十") else text


def _zh_group(group: int) -> str:
    """0 < group < 10000 in Hanzi, with inner zeros ('一千零五')."""
    out, zero = "", False
    for power, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = group // power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _ZH_DIGITS[digit] + name
    return out


def digits(value: object, zh: bool) -> str:
    """Digit by digit: '1038' -> 幺零三八 / 'one zero three eight'."""
    return spell(str(value), zh)


def spell(text: str, zh: bool) -> str:
    """Letters and digits one by one (booking codes, train and flight numbers).

    In Mandarin the digits run together (幺二三) and each Latin letter stands
    apart, so the voice names every letter instead of reading a word.
    """
    out = ""
    previous = ""
    for char in text:
        if char.isdigit():
            token = _ZH_SPELL[int(char)] if zh else _EN_DIGITS[int(char)]
        elif char.isascii() and char.isalnum():
            token = char.upper()
        else:
            continue
        joined = zh and not token.isascii() and previous and not previous.isascii()
        out += token if not out or joined else f" {token}"
        previous = token
    return out


def count(value: object, zh: bool) -> str:
    """How many of something: 2 is 两 before a measure word in Mandarin (两张票)."""
    amount = int(str(value))
    return "两" if zh and amount == 2 else number(amount, zh)


def money(value: object, zh: bool) -> str:
    """Fen as 元/角/分: 1250 -> 十二元五角 / '12 yuan 50'."""
    fen = int(str(value))
    sign, fen = ("负" if zh else "minus ") if fen < 0 else "", abs(fen)
    yuan, rest = divmod(fen, 100)
    if not zh:
        cents = f" {rest:02d}" if rest else ""
        return f"{sign}{yuan} yuan{cents}".strip()
    jiao, fen_part = divmod(rest, 10)
    text = f"{zh_number(yuan)}元" if yuan or not rest else ""
    if jiao:
        text += f"{_ZH_DIGITS[jiao]}角"
    elif fen_part and yuan:
        text += "零"
    if fen_part:
        text += f"{_ZH_DIGITS[fen_part]}分"
    return sign + text


def day(value: object, zh: bool) -> str:
    """A date: 2026-12-01 -> 二零二六年十二月一日 / 'December 1, 2026'."""
    when = _as_date(value)
    if zh:
        year = "".join(_ZH_DIGITS[int(c)] for c in str(when.year))
        return f"{year}年{zh_number(when.month)}月{zh_number(when.day)}日"
    return f"{_MONTHS[when.month - 1]} {when.day}, {when.year}"


def clock_time(value: object, zh: bool) -> str:
    """A time of day: 08:05 -> 八点零五分 / '8:05 AM'; 14:00 -> 十四点整 / '2 PM'."""
    at = _as_time(value)
    if zh:
        hour = "两" if at.hour == 2 else zh_number(at.hour)
        if at.minute == 0:
            return f"{hour}点整"
        minute = zh_number(at.minute)
        return f"{hour}点{'零' if at.minute < 10 else ''}{minute}分"
    suffix = "AM" if at.hour < 12 else "PM"
    hour12 = at.hour % 12 or 12
    return f"{hour12} {suffix}" if at.minute == 0 else f"{hour12}:{at.minute:02d} {suffix}"


def duration(value: object, zh: bool) -> str:
    """Seconds as hours and minutes: 8100 -> 两小时十五分钟 / '2 hours 15 minutes'."""
    seconds = int(str(value))
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if zh:
        parts = []
        if hours:
            parts.append(f"{'两' if hours == 2 else zh_number(hours)}小时")
        if minutes or not hours:
            parts.append(f"{zh_number(minutes)}分钟")
        return "".join(parts)
    words = []
    if hours:
        words.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        words.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(words)


def train(value: object, zh: bool) -> str:
    """A train or flight number: G1234 -> G 幺二三四 / 'G one two three four'."""
    return spell(str(value), zh).strip()


def phone(value: object, zh: bool) -> str:
    """A phone number read digit by digit in the 3-4-4 groups callers expect."""
    text = re.sub(r"\D", "", str(value))
    if text.startswith("86") and len(text) == 13:
        text = text[2:]
    groups = [text[:3], text[3:7], text[7:]] if len(text) == 11 else [text]
    return ("，" if zh else ", ").join(spell(g, zh) for g in groups if g)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise SayAsError(f"not a date: {value!r}") from exc


def _as_time(value: object) -> time:
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    text = str(value)
    if re.fullmatch(r"\d{4}", text):
        text = f"{text[:2]}:{text[2:]}"
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise SayAsError(f"not a time: {value!r}") from exc


def _text(value: object, zh: bool) -> str:
    return str(value)


def _number(value: object, zh: bool) -> str:
    return number(int(str(value)), zh)


_READERS: dict[str, Callable[[object, bool], str]] = {
    "text": _text,
    "number": _number,
    "count": count,
    "digits": digits,
    "money": money,
    "date": day,
    "time": clock_time,
    "duration": duration,
    "train": train,
    "code": lambda value, zh: spell(str(value), zh).strip(),
    "phone": phone,
}
