"""The points ledger: earned on paid orders by rules, redeemed, adjusted, expired,
never negative, each entry naming its cause."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import PageRequest
from ticketline.crm.errors import InsufficientPoints
from ticketline.crm.schemas import CustomerCreate, PhoneIn, RuleIn, TierIn
from ticketline.ticketing.events import OrderBooked, OrderPaid, OrderRefunded

AGENT = Actor(id=None, name="agent1")
PHONE = "+8613800138000"


def paid(order_id: str, total_fen: int) -> OrderPaid:
    return OrderPaid(order_id, "K7M2QX", PHONE, "zh_CN", total_fen, "agent1", total_fen, "cash")


async def member(app: Application, tier: str | None = None) -> str:
    data = CustomerCreate(name="李雷", phones=[PhoneIn(number=PHONE)], vip_tier=tier)
    return (await app.crm.create(AGENT, data)).id


@pytest.fixture
async def rules(application: Application) -> None:
    await application.notify.install_default_templates()  # ticketing texts the codes
    await application.loyalty.save_rule(
        SYSTEM, RuleIn(code="base", name="每元1分", points_per_yuan=1, expiry_days=365)
    )
    await application.loyalty.save_rule(
        SYSTEM,
        RuleIn(code="hz", name="杭州线双倍", points_per_yuan=2, routes=["杭州"], expiry_days=30),
    )


@pytest.mark.usefixtures("rules")
async def test_a_paid_order_earns_once_by_the_best_rule_and_tier(
    application: Application,
) -> None:
    await application.crm.save_tier(
        SYSTEM,
        TierIn(
            code="gold",
            name_zh="金卡",
            name_en="Gold",
            rank=1,
            queue_priority=5,
            points_percent=150,
        ),
    )
    cid = await member(application, "gold")
    await application.bus.publish(
        OrderBooked("o1", "K7M2QX", PHONE, "zh_CN", 12050, "agent1", trip="上海南→杭州")
    )
    await application.bus.publish(paid("o1", 12050))
    await application.bus.publish(paid("o1", 12050))  # a replay earns nothing more
    assert await application.loyalty.balance(cid) == 120 * 2 * 150 // 100
    [entry] = (await application.loyalty.statement(cid, PageRequest())).items
    assert (entry.kind, entry.cause_type, entry.cause_id) == ("earn", "order", "o1")
    lookup = await application.crm.lookup_caller(PHONE)
    assert lookup.points_balance == 360
    assert {c.kind for c in lookup.last_contacts} == {"points", "payment", "order"}


@pytest.mark.usefixtures("rules")
async def test_redeeming_never_goes_below_zero(application: Application) -> None:
    cid = await member(application)
    await application.bus.publish(paid("o1", 10000))
    with pytest.raises(InsufficientPoints):
        await application.loyalty.redeem(AGENT, cid, 101, "gift", "g1", "水杯")
    changed = await application.loyalty.redeem(AGENT, cid, 60, "gift", "g1", "水杯")
    assert changed.balance == 40
    with pytest.raises(InvalidInput) as caught:
        await application.loyalty.redeem(AGENT, cid, 10, "gift", "g1", "again")
    assert caught.value.details["field"] == "cause_id"
    await application.bus.publish(OrderRefunded("o1", "K7M2QX", PHONE, "zh_CN", 10000, "a"))
    assert await application.loyalty.balance(cid) == 0
    kinds = [e.kind for e in (await application.loyalty.statement(cid, PageRequest())).items]
    assert sorted(kinds) == ["earn", "redeem", "reverse"]


@pytest.mark.usefixtures("rules")
async def test_points_expire_after_their_period_oldest_first(
    application: Application, clock: FixedClock
) -> None:
    cid = await member(application)
    await application.bus.publish(paid("o1", 10000))  # 100 points for a year
    clock.advance(timedelta(days=200))
    await application.loyalty.adjust(AGENT, cid, 50, "goodwill after delay")
    await application.loyalty.redeem(AGENT, cid, 30, "gift", "g1", "")  # from the oldest lot
    assert await application.loyalty.expire_due() == 0
    clock.advance(timedelta(days=166))
    assert await application.loyalty.expire_due() == 1
    assert await application.loyalty.balance(cid) == 50
    assert await application.loyalty.expire_due() == 0
    with pytest.raises(InsufficientPoints):
        await application.loyalty.adjust(AGENT, cid, -51, "correction")
    with pytest.raises(InvalidInput):
        await application.loyalty.adjust(AGENT, cid, 5, "  ")
