"""Clock, codes, money and rate limits: the small pieces everything leans on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ticketline.core import ids, money
from ticketline.core.clock import FixedClock, SystemClock, ensure_utc
from ticketline.core.paging import PageRequest
from ticketline.core.ratelimit import RateLimiter


def test_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    clock.advance(timedelta(minutes=5))
    assert clock.now() == datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def test_clocks_give_utc_and_refuse_naive_times() -> None:
    assert SystemClock().now().tzinfo is UTC
    shanghai = timezone(timedelta(hours=8))
    assert ensure_utc(datetime(2026, 1, 1, 8, tzinfo=shanghai)) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 1, 1))


def test_human_codes_avoid_look_alike_characters() -> None:
    codes = {ids.human_code(8) for _ in range(2000)}
    assert len(codes) == 2000
    assert not set("".join(codes)) & set("01OIL")


def test_typed_codes_forgive_case_spaces_and_look_alikes() -> None:
    assert ids.normalize_human_code(" ab-c d ") == "ABCD"
    assert ids.normalize_human_code("o1l") == "011"


def test_secrets_are_digits_and_compare_in_constant_time() -> None:
    code = ids.secret_digits(8)
    assert code.isdigit()
    assert len(code) == 8
    assert ids.secrets_equal(code, code)
    assert not ids.secrets_equal(code, code[::-1] + "x")


@pytest.mark.parametrize(
    ("text", "fen"), [("12.50", 1250), ("0.05", 5), ("7", 700), ("-3.2", -320)]
)
def test_amounts_in_yuan_become_exact_fen(text: str, fen: int) -> None:
    assert money.yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.005", "abc", "", "1e3", "NaN", "12,50"])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        money.yuan_to_fen(text)


def test_money_rounding_and_display() -> None:
    assert money.round_to_step(125, 50) == 150  # 1.25 yuan -> 1.5 yuan (half up)
    assert money.round_to_step(124, 50) == 100
    assert money.percent_of(1999, 5) == 100  # 99.95 fen rounds to 100
    assert money.format_yuan(-1250) == "-¥12.50"
    assert money.fen_to_decimal(5) == Decimal("0.05")


def test_page_request_bounds() -> None:
    assert PageRequest(3, 20).offset == 40
    with pytest.raises(ValueError, match="page"):
        PageRequest(0, 10)
    with pytest.raises(ValueError, match="size"):
        PageRequest(1, 10_000)


def test_rate_limiter_allows_up_to_the_limit_per_window() -> None:
    limiter = RateLimiter(limit=3, window=timedelta(seconds=10))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert [limiter.allow("ip", t0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("other", t0)
    assert limiter.allow("ip", t0 + timedelta(seconds=10, microseconds=1))


def test_rate_limiter_memory_is_bounded() -> None:
    limiter = RateLimiter(limit=1, window=timedelta(seconds=10), max_keys=100)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1000):
        limiter.allow(n, t0)
    assert limiter.count(999, t0) == 1
    assert len(limiter._events) <= 100
