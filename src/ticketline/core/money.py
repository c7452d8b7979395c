"""Money as an integer count of fen (0.01 yuan); never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100
_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


def yuan_to_fen(text: str | Decimal | int) -> int:
    """Parse an amount in yuan ('12.50', Decimal('3'), 7) into fen, exactly."""
    if isinstance(text, int):
        return text * FEN_PER_YUAN
    raw = str(text).strip()
    if not _AMOUNT.match(raw):
        raise ValueError(f"not an amount of money: {raw!r}")
    try:
        return int(Decimal(raw) * FEN_PER_YUAN)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise ValueError(f"not an amount of money: {raw!r}") from exc


def fen_to_decimal(fen: int) -> Decimal:
    """Fen as a Decimal amount of yuan with two places."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """'¥12.50' style display string."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{fen_to_decimal(abs(fen))}"


def round_to_step(fen: int, step_fen: int) -> int:
    """Round half up to a multiple of `step_fen` (e.g. 50 for 0.5 yuan)."""
    if step_fen <= 0:
        raise ValueError("step must be positive")
    units = (Decimal(fen) / step_fen).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(units) * step_fen


def percent_of(fen: int, percent: Decimal | int | str) -> int:
    """`percent`% of an amount, rounded half up to the fen."""
    value = Decimal(fen) * Decimal(str(percent)) / 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
