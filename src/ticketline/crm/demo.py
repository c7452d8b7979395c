"""The demo's customer base: 1,000 callers with phones, VIP tiers, tags, and half a year of
history (calls, paid trips with their points, notes), generated from a fixed seed.

Written in bulk in one transaction: the service's one-by-one path (validation, audit row
per customer) would take a minute for a thousand, and these rows are known to be valid
(E.164 numbers, a ledger whose balances add up).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ticketline.admin.security import SYSTEM
from ticketline.core.clock import Clock
from ticketline.core.ids import new_id
from ticketline.crm.models import Customer, CustomerPhone, LoyaltyEntry, Purchase, TimelineEntry
from ticketline.crm.schemas import TierIn
from ticketline.crm.service import CustomerService
from ticketline.db.session import Database

TIERS = (
    TierIn(code="platinum", name_zh="白金卡", name_en="Platinum", rank=3, queue_priority=20,
           named_agent=True, points_percent=200),
    TierIn(code="gold", name_zh="金卡", name_en="Gold", rank=2, queue_priority=10,
           points_percent=150),
    TierIn(code="silver", name_zh="银卡", name_en="Silver", rank=1, queue_priority=5),
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
    "曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国晓东雪梅宇航"
TAGS = ("商务出行", "学生", "常旅客", "老年人", "带儿童", "团体订票", "投诉过", "夜间来电")
ROUTES = (
    ("JH-HSR", 5530), ("LLQ-SJK", 8600), ("SHK-TJK", 4500), ("LLQ-CDK", 7800),
    ("NCPA-OPERA", 38000),
)  # fmt: skip
SEATS = ("window", "aisle", "front", "back", None)
CUSTOMERS = 1000
FIRST_MOBILE = 13790000000
"""Demo mobiles are +8613790000000 upwards: no test or sample number uses that block."""


def demo_mobiles(count: int = CUSTOMERS) -> list[str]:
    """The primary numbers of the demo customers, in order."""
    return [f"+86{FIRST_MOBILE + i}" for i in range(count)]


@dataclass
class _Rows:
    customers: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)


async def seed_customers(
    db: Database, crm: CustomerService, clock: Clock, count: int = CUSTOMERS
) -> int:
    """Write the demo customers unless they are there already; returns how many."""
    first = select(CustomerPhone.id).where(CustomerPhone.number == f"+86{FIRST_MOBILE}")
    async with db.sessions() as session:
        if await session.scalar(first):
            return 0
    tiers = {t.code: (await crm.save_tier(SYSTEM, t)).id for t in TIERS}
    rows = _Rows()
    now = clock.now()
    rng = random.Random(2026)
    for i in range(count):
        _customer(rows, rng, i, now, tiers)
    async with db.transaction() as session:
        for model, batch in (
            (Customer, rows.customers),
            (CustomerPhone, rows.phones),
            (TimelineEntry, rows.timeline),
            (Purchase, rows.purchases),
            (LoyaltyEntry, rows.points),
        ):
            if batch:
                await session.execute(model.__table__.insert(), batch)  # type: ignore[attr-defined]
    return count


def _customer(
    rows: _Rows, rng: random.Random, i: int, now: datetime, tiers: dict[str, str]
) -> None:
    customer_id = new_id()
    created = now - timedelta(days=rng.randint(200, 1500))
    birthday = date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
    tier = rng.choices([None, "silver", "gold", "platinum"], weights=[65, 20, 10, 5])[0]
    seat = rng.choice(SEATS)
    history = _history(rows, rng, customer_id, now)
    rows.customers.append(
        {
            "id": customer_id,
            "name": rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))),
            "gender": rng.choice("MF"),
            "birthday": birthday,
            "birthday_mmdd": birthday.strftime("%m-%d"),
            "id_type": None,
            "id_number": None,
            "email": None,
            "locale": "en" if i % 25 == 0 else "zh_CN",
            "preferences": {"seat": seat} if seat else {},
            "tags": rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2))),
            "notes": "",
            "vip_tier_id": tiers[tier] if tier else None,
            "named_agent_id": None,
            "member_card": f"TL{100000 + i}" if tier else None,
            "do_not_call": i % 50 == 7,
            "status": "active",
            "merged_into_id": None,
            "points_balance": history.points,
            "created_at": created,
            "updated_at": created,
            "last_contact_at": history.last_call,
        }
    )
    _phones(rows, customer_id, i)


def _phones(rows: _Rows, customer_id: str, i: int) -> None:
    numbers = [f"+86{FIRST_MOBILE + i}"]  # as demo_mobiles()
    if i % 4 == 0:
        numbers.append(f"+861065{i:06d}")
    for n, number in enumerate(numbers):
        label = "mobile" if n == 0 else "home"
        rows.phones.append({"id": new_id(), "customer_id": customer_id, "number": number,
                            "label": label, "is_primary": n == 0})  # fmt: skip


@dataclass
class _History:
    points: int = 0
    last_call: datetime | None = None


def _history(rows: _Rows, rng: random.Random, customer_id: str, now: datetime) -> _History:
    """Calls and paid trips over the last 180 days, oldest first, points earned per yuan."""
    found = _History()
    events = sorted(now - timedelta(minutes=rng.randint(60, 180 * 24 * 60))
                    for _ in range(rng.randint(0, 8)))  # fmt: skip
    for n, at in enumerate(events):
        if n % 2 == 0:
            seconds = rng.randint(40, 600)
            _entry(rows, customer_id, at, "call", "通话 Call", {"event": "CallEnded",
                                                               "seconds": seconds})  # fmt: skip
            found.last_call = at
        else:
            found.points += _trip(rows, rng, customer_id, at, found.points)
    if rng.random() < 0.2:
        _entry(rows, customer_id, now - timedelta(days=rng.randint(1, 90)), "note",
               rng.choice(("喜欢靠窗座位", "听力不好，请说慢一点", "常为父母订票",
                           "Prefers English")), {})  # fmt: skip
    return found


def _trip(rows: _Rows, rng: random.Random, customer_id: str, at: datetime, balance: int) -> int:
    route, fare = rng.choice(ROUTES)
    amount = fare * rng.randint(1, 3)
    order_id = f"demo-{new_id()}"
    travel = at + timedelta(days=rng.randint(1, 20))
    rows.purchases.append({"id": new_id(), "customer_id": customer_id, "order_id": order_id,
                           "route": route, "amount_fen": amount, "travel_at": travel,
                           "paid_at": at, "refunded": False})  # fmt: skip
    _entry(rows, customer_id, at, "payment", f"付款 Paid: {route}",
           {"event": "OrderPaid", "amount_fen": amount})  # fmt: skip
    points = amount // 100
    rows.points.append({"id": new_id(), "customer_id": customer_id, "at": at, "kind": "earn",
                        "points": points, "balance_after": balance + points,
                        "remaining": points, "expires_at": at + timedelta(days=365),
                        "cause_type": "order", "cause_id": order_id, "note": route,
                        "actor_name": SYSTEM.name})  # fmt: skip
    return points


def _entry(
    rows: _Rows, customer_id: str, at: datetime, kind: str, title: str, detail: dict[str, Any]
) -> None:
    rows.timeline.append({"customer_id": customer_id, "at": at, "kind": kind, "title": title,
                          "detail": detail, "ref_type": None, "ref_id": None,
                          "actor_name": SYSTEM.name, "dedupe_key": None})  # fmt: skip
