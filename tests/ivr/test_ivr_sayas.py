"""Values read aloud: numbers, money, dates, times, codes in Mandarin and English."""

from __future__ import annotations

from datetime import date

import pytest

from ticketline.ivr.sayas import SayAsError, fill, placeholders, speak, zh_number


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "零"),
        (10, "十"),
        (15, "十五"),
        (20, "二十"),
        (105, "一百零五"),
        (1005, "一千零五"),
        (1234, "一千二百三十四"),
        (10000, "一万"),
        (10005, "一万零五"),
        (100000, "十万"),
        (120034, "十二万零三十四"),
        (100000005, "一亿零五"),
    ],
)
def test_chinese_numerals(value: int, words: str) -> None:
    assert zh_number(value) == words


@pytest.mark.parametrize(
    ("value", "fmt", "lang", "words"),
    [
        (1250, "money", "zh", "十二元五角"),
        (1205, "money", "zh", "十二元零五分"),
        (1253, "money", "zh", "十二元五角三分"),
        (50, "money", "zh", "五角"),
        (30000, "money", "zh", "三百元"),
        (1250, "money", "en", "12 yuan 50"),
        (30000, "money", "en", "300 yuan"),
        ("2026-12-01", "date", "zh", "二零二六年十二月一日"),
        (date(2026, 12, 1), "date", "en", "December 1, 2026"),
        ("08:05", "time", "zh", "八点零五分"),
        ("14:00", "time", "zh", "十四点整"),
        ("02:30", "time", "zh", "两点三十分"),
        ("08:05", "time", "en", "8:05 AM"),
        ("14:00", "time", "en", "2 PM"),
        (8100, "duration", "zh", "两小时十五分钟"),
        (8100, "duration", "en", "2 hours 15 minutes"),
        ("G1234", "train", "zh", "G 幺二三四"),
        ("MU5101", "train", "en", "M U five one zero one"),
        ("K7H3P", "code", "en", "K seven H three P"),
        (
            "13800138000",
            "phone",
            "en",
            "one three eight, zero zero one three, eight zero zero zero",
        ),
        ("1038", "digits", "zh", "幺零三八"),
        ({"zh": "您好", "en": "Hello"}, "text", "en", "Hello"),
        (None, "text", "zh", ""),
    ],
)
def test_values_are_read_naturally_in_each_language(
    value: object, fmt: str, lang: str, words: str
) -> None:
    assert speak(value, fmt, lang) == words


def test_fill_replaces_placeholders_with_spoken_forms() -> None:
    values = {"train": "G1234", "fare": 55350, "when": "2026-12-01"}
    text = fill("{train:train}次，{when:date}，票价{fare:money}。", "zh", values.get)
    assert text == "G 幺二三四次，二零二六年十二月一日，票价五百五十三元五角。"


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(SayAsError, match="unknown format 'roman'"):
        placeholders("{n:roman}")
    with pytest.raises(SayAsError, match="not a date"):
        speak("tomorrow", "date", "en")
