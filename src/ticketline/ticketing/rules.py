"""The change and refund fee rules: data an operator edits, with published defaults.

A rule applies to a product (rail, coach, event) and an action (refund, change)
when `min_hours <= hours before departure < max_hours`. The fee is `percent`
tenths of a percent of the ticket price, rounded half up to `round_fen`, at least
`min_fee_fen` whenever a fee is due, never above the price. No rule, or a rule
with `allowed` false, forbids the action.

Defaults follow the published Chinese rules: rail refunds free 8 days or more
before departure, 5% from 48 hours, 10% from 24 hours, 20% below, rounded to 0.5
yuan with a 2-yuan minimum; rail changes free 48 hours or more before, 5% from
24 hours, 15% below (to a later date; an earlier or same-day change is free);
coach refunds 10% from 2 hours before (0.5 yuan minimum), 20% below (1 yuan
minimum); nothing after departure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.errors import InvalidInput
from ticketline.core.money import percent_of, round_to_step
from ticketline.ticketing.order_models import FeeRule
from ticketline.ticketing.schemas import Product, StrictModel

DAY = 24
# product, action, min_hours, max_hours, tenths of a percent, min fee, rounding, allowed
DEFAULT_RULES: tuple[tuple[str, str, int, int | None, int, int, int, bool], ...] = (
    ("rail", "refund", 8 * DAY, None, 0, 0, 50, True),
    ("rail", "refund", 48, 8 * DAY, 50, 200, 50, True),
    ("rail", "refund", 24, 48, 100, 200, 50, True),
    ("rail", "refund", 0, 24, 200, 200, 50, True),
    ("rail", "change", 48, None, 0, 0, 50, True),
    ("rail", "change", 24, 48, 50, 200, 50, True),
    ("rail", "change", 0, 24, 150, 200, 50, True),
    ("coach", "refund", 2, None, 100, 50, 50, True),
    ("coach", "refund", 0, 2, 200, 100, 50, True),
    ("coach", "change", 2, None, 0, 0, 50, True),
    ("coach", "change", 0, 2, 0, 0, 50, False),
    ("event", "refund", 72, None, 200, 0, 50, True),
    ("event", "refund", 0, 72, 0, 0, 50, False),
    ("event", "change", 0, None, 0, 0, 50, False),
)


class FeeRuleIn(StrictModel):
    min_hours: int = Field(ge=0, le=24 * 365)
    max_hours: int | None = Field(default=None, ge=1, le=24 * 365)
    percent_tenths: int = Field(ge=0, le=1000)
    min_fee_fen: int = Field(0, ge=0, le=100_000)
    round_fen: int = Field(50, ge=1, le=10_000)
    allowed: bool = True


class FeeRuleSet(StrictModel):
    """Every window of one product and action; replaces the previous set."""

    product: Product
    action: str = Field(pattern=r"^(refund|change)$")
    rules: list[FeeRuleIn] = Field(min_length=1, max_length=20)


class FeeRuleOut(BaseModel):
    product: str
    action: str
    min_hours: int
    max_hours: int | None
    percent_tenths: int
    min_fee_fen: int
    round_fen: int
    allowed: bool


@dataclass(frozen=True)
class FeeDecision:
    """What the rules say about one ticket now."""

    allowed: bool
    fee_fen: int
    percent_tenths: int
    hours_left: float
    rule: str


def hours_before(departs_at: datetime, now: datetime) -> float:
    return (departs_at - now).total_seconds() / 3600


def apply_rule(rule: FeeRule | None, price_fen: int, hours_left: float) -> FeeDecision:
    if hours_left < 0:
        return FeeDecision(False, 0, 0, hours_left, "after departure")
    if rule is None or not rule.allowed:
        return FeeDecision(False, 0, 0, hours_left, "not allowed at this time")
    fee = 0
    if rule.percent:
        fee = round_to_step(percent_of(price_fen, Decimal(rule.percent) / 10), rule.round_fen)
    if rule.percent:
        fee = max(fee, rule.min_fee_fen)
    fee = min(fee, price_fen)
    upper = f"{rule.max_hours}h" if rule.max_hours is not None else "∞"
    text = f"{rule.percent / 10:g}% from {rule.min_hours}h to {upper} before departure"
    return FeeDecision(True, fee, rule.percent, hours_left, text)


async def decide(
    session: AsyncSession,
    product: str,
    action: str,
    price_fen: int,
    departs_at: datetime,
    now: datetime,
) -> FeeDecision:
    """The fee for refunding or changing one ticket of `price_fen` now."""
    hours_left = hours_before(departs_at, now)
    rules = await session.scalars(
        select(FeeRule).where(FeeRule.product == product, FeeRule.action == action)
    )
    matching = next(
        (
            r
            for r in rules
            if r.min_hours <= hours_left and (r.max_hours is None or hours_left < r.max_hours)
        ),
        None,
    )
    return apply_rule(matching, price_fen, hours_left)


async def install_default_rules(session: AsyncSession) -> int:
    """The shipped rules for any product and action that has none yet."""
    present = set((await session.execute(select(FeeRule.product, FeeRule.action))).all())
    added = 0
    for product, action, low, high, pct, min_fee, step, allowed in DEFAULT_RULES:
        if (product, action) in present:
            continue
        session.add(
            FeeRule(
                product=product,
                action=action,
                min_hours=low,
                max_hours=high,
                percent=pct,
                min_fee_fen=min_fee,
                round_fen=step,
                allowed=allowed,
            )
        )
        added += 1
    return added


async def replace_rules(
    session: AsyncSession, actor: Actor, data: FeeRuleSet, now: datetime
) -> None:
    """Swap the rules of one product and action for the operator's new set (audited)."""
    _check_windows(data.rules)
    old = [rule_out(r) for r in await list_rules(session, data.product, data.action)]
    await session.execute(
        delete(FeeRule).where(FeeRule.product == data.product, FeeRule.action == data.action)
    )
    for rule in data.rules:
        session.add(
            FeeRule(
                product=data.product,
                action=data.action,
                min_hours=rule.min_hours,
                max_hours=rule.max_hours,
                percent=rule.percent_tenths,
                min_fee_fen=rule.min_fee_fen,
                round_fen=rule.round_fen,
                allowed=rule.allowed,
            )
        )
    await audit.record(
        session,
        actor=actor,
        action="ticketing.fee_rules.replace",
        entity_type="tk_fee_rule",
        entity_id=f"{data.product}/{data.action}",
        at=now,
        before={"rules": [o.model_dump() for o in old]},
        after={"rules": [r.model_dump() for r in data.rules]},
    )


def _check_windows(rules: list[FeeRuleIn]) -> None:
    ordered = sorted(rules, key=lambda r: r.min_hours)
    for i, rule in enumerate(ordered):
        if rule.max_hours is not None and rule.max_hours <= rule.min_hours:
            raise InvalidInput(f"rules.{i}.max_hours", "must be above min_hours")
        if i + 1 < len(ordered) and rule.max_hours != ordered[i + 1].min_hours:
            raise InvalidInput(f"rules.{i}.max_hours", "windows must meet without gap or overlap")
    if ordered[-1].max_hours is not None:
        raise InvalidInput("rules", "the last window must be open ended (no max_hours)")


async def list_rules(
    session: AsyncSession, product: str | None = None, action: str | None = None
) -> list[FeeRule]:
    stmt = select(FeeRule).order_by(FeeRule.product, FeeRule.action, FeeRule.min_hours)
    if product:
        stmt = stmt.where(FeeRule.product == product)
    if action:
        stmt = stmt.where(FeeRule.action == action)
    return list(await session.scalars(stmt))


def rule_out(rule: FeeRule) -> FeeRuleOut:
    return FeeRuleOut(
        product=rule.product,
        action=rule.action,
        min_hours=rule.min_hours,
        max_hours=rule.max_hours,
        percent_tenths=rule.percent,
        min_fee_fen=rule.min_fee_fen,
        round_fen=rule.round_fen,
        allowed=rule.allowed,
    )
