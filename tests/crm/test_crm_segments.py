"""Segments: the purchase history projected from order events, filters by routes,
spend, last trip, tier, tags and language (both databases), saved segments and the
CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import START
from tests.ticketing.helpers import booking, build_line
from tests.webclient import bearer
from ticketline.admin.models import AuditEntry
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import PageRequest
from ticketline.crm.errors import SegmentNotFound
from ticketline.crm.models import Purchase
from ticketline.crm.schemas import CustomerCreate, PhoneIn, SegmentFilter, SegmentIn, TierIn
from ticketline.ticketing.events import OrderPaid, OrderRefunded
from ticketline.ticketing.schemas import PaymentIn, RefundIn

SUPERVISOR = Actor(id=None, name="supervisor")
DEPARTS = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # the test line's first trip
ALICE, BOB, CAROL, DAVE, EVE = (
    "+8613800138000",
    "+8613900139000",
    "+8613700137000",
    "+8613600136000",
    "+8613500135000",
)


def paid(order_id: str, phone: str, fen: int, route: str, departs: datetime) -> OrderPaid:
    return OrderPaid(order_id, "K7M2QX", phone, "zh_CN", fen, "agent1", fen, "card", route,
                     departs.isoformat())  # fmt: skip


def refunded(order_id: str, phone: str, total_left: int, *, complete: bool) -> OrderRefunded:
    return OrderRefunded(order_id, "K7M2QX", phone, "zh_CN", total_left, "agent1",
                         complete=complete)  # fmt: skip


async def buy(
    app: Application,
    clock: FixedClock,
    order_id: str,
    phone: str,
    fen: int,
    route: str,
    *,
    days_ago: int,
    travels_in: int = 2,
) -> None:
    """A purchase paid `days_ago`, travelling `travels_in` days after paying."""
    paid_at = START - timedelta(days=days_ago)
    clock.set(paid_at)
    await app.bus.publish(paid(order_id, phone, fen, route, paid_at + timedelta(days=travels_in)))
    clock.set(START)


async def customer(app: Application, name: str, phone: str, **extra: object) -> str:
    data = CustomerCreate(name=name, phones=[PhoneIn(number=phone)], **extra)  # type: ignore[arg-type]
    return (await app.crm.create(SYSTEM, data)).id


async def gold(app: Application) -> None:
    await app.crm.save_tier(
        SYSTEM, TierIn(code="gold", name_zh="金卡", name_en="Gold", rank=2, queue_priority=5)
    )


@pytest.fixture
async def histories(application: Application, clock: FixedClock) -> Application:
    """Five customers with different histories (see each line)."""
    app = application
    await gold(app)
    await customer(app, "Alice", ALICE, vip_tier="gold", tags=["商务出行", "常旅客"])
    await customer(app, "Bob", BOB, tags=["学生"])
    await customer(app, "Carol", CAROL)
    await customer(app, "Dave", DAVE, locale="en", tags=["常旅客"])
    await customer(app, "Eve", EVE, do_not_call=True)
    # Alice: 800 yuan in two trips, the last one ahead
    await buy(app, clock, "o1", ALICE, 50000, "JH-HSR", days_ago=30)
    await buy(app, clock, "o2", ALICE, 30000, "LLQ-SJK", days_ago=1, travels_in=5)
    # Bob: one cheap trip long ago
    await buy(app, clock, "o3", BOB, 5530, "JH-HSR", days_ago=200, travels_in=1)
    # Carol: one trip refunded in full, one in part (120 yuan kept)
    await buy(app, clock, "o4", CAROL, 80000, "SHK-TJK", days_ago=10)
    await app.bus.publish(refunded("o4", CAROL, 0, complete=True))
    await buy(app, clock, "o5", CAROL, 20000, "LLQ-CDK", days_ago=10)
    await app.bus.publish(refunded("o5", CAROL, 12000, complete=False))
    # Dave: nothing bought; Eve: does not want calls
    await buy(app, clock, "o6", EVE, 10000, "JH-HSR", days_ago=5)
    return app


async def names(app: Application, **criteria: object) -> list[str]:
    found = await app.segments.preview(SegmentFilter(**criteria), PageRequest(1, 100))  # type: ignore[arg-type]
    assert found.total == len(found.items)
    return [m.name for m in found.items]


async def test_paid_and_refunded_orders_are_projected_once(
    application: Application, clock: FixedClock
) -> None:
    cid = await customer(application, "Alice", ALICE)
    departs = START + timedelta(days=3)
    await application.bus.publish(paid("o1", ALICE, 12050, "JH-HSR", departs))
    await application.bus.publish(paid("o1", ALICE, 12050, "JH-HSR", departs))  # replayed
    await application.bus.publish(paid("o2", "+8613300133000", 9900, "JH-HSR", departs))
    await application.bus.publish(paid("o3", ALICE, 20000, "", departs))
    await application.bus.publish(refunded("o3", ALICE, 8000, complete=False))
    await application.bus.publish(refunded("o3", ALICE, 8000, complete=False))  # replayed
    await application.bus.publish(refunded("o9", ALICE, 0, complete=True))  # unknown order
    async with application.db.sessions() as session:
        rows = list(await session.scalars(select(Purchase).order_by(Purchase.order_id)))
    assert [(p.order_id, p.customer_id, p.route, p.amount_fen, p.refunded) for p in rows] == [
        ("o1", cid, "JH-HSR", 12050, False),
        ("o3", cid, None, 8000, False),
    ]
    assert rows[0].travel_at == departs
    assert rows[0].paid_at == START
    await application.bus.publish(refunded("o1", ALICE, 0, complete=True))
    async with application.db.sessions() as session:
        assert (await session.get(Purchase, rows[0].id)).refunded  # type: ignore[union-attr]


async def test_a_real_sale_records_its_route_and_departure(application: Application) -> None:
    """Through ticketing: booking, payment and refunds publish what the projection needs."""
    line = await build_line(application.ticketing, DEPARTS.date())
    await customer(application, "张三", ALICE)  # the booking's contact phone
    await application.ticketing.install_defaults()
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    code = booked.order.code
    await application.ticketing.payments.pay(
        SYSTEM, code, PaymentIn(amount_fen=booked.order.total_fen, method="card", key="pay-00001")
    )
    async with application.db.sessions() as session:
        [purchase] = await session.scalars(select(Purchase))
    assert purchase.route == "G1-line"
    assert purchase.travel_at == DEPARTS
    assert purchase.amount_fen == 2 * 59000
    quote = await application.ticketing.refunds.quote(code)
    one = quote.lines[0]
    await application.ticketing.refunds.refund(
        SYSTEM,
        code,
        RefundIn(ticket_ids=[one.ticket_id], expected_refund_fen=one.refund_fen, method="card",
                 key="refund-00001"),
    )  # fmt: skip
    async with application.db.sessions() as session:
        part = await session.get(Purchase, purchase.id)
        assert part is not None
        assert (part.amount_fen, part.refunded) == (2 * 59000 - one.refund_fen, False)
    rest = await application.ticketing.refunds.quote(code)
    await application.ticketing.refunds.refund(
        SYSTEM,
        code,
        RefundIn(expected_refund_fen=rest.refund_fen, method="card", key="refund-00002"),
    )
    async with application.db.sessions() as session:
        done = await session.get(Purchase, purchase.id)
        assert done is not None
        assert done.refunded


async def test_each_criterion_selects_exactly_its_customers(histories: Application) -> None:
    app = histories
    assert await names(app) == ["Alice", "Bob", "Carol", "Dave"]  # Eve: do not call
    assert await names(app, exclude_do_not_call=False) == ["Alice", "Bob", "Carol", "Dave", "Eve"]
    assert await names(app, routes=["JH-HSR"]) == ["Alice", "Bob"]
    assert await names(app, routes=["JH-HSR", "LLQ-CDK"]) == ["Alice", "Bob", "Carol"]
    assert await names(app, routes=["SHK-TJK"]) == []  # refunded trips do not count
    assert await names(app, min_spend_fen=10000) == ["Alice", "Carol"]
    assert await names(app, max_spend_fen=10000) == ["Bob", "Dave"]
    assert await names(app, min_spend_fen=10000, max_spend_fen=50000) == ["Carol"]
    assert await names(app, min_spend_fen=30000, spend_days=7) == ["Alice"]
    assert await names(app, min_spend_fen=50000, spend_days=7) == []
    thirty_days_ago = (START - timedelta(days=30)).date()
    assert await names(app, last_trip_after=thirty_days_ago) == ["Alice", "Carol"]
    assert await names(app, last_trip_before=thirty_days_ago) == ["Bob"]
    assert await names(app, no_trip_since_days=90) == ["Bob", "Dave"]
    assert await names(app, tiers=["gold"]) == ["Alice"]
    assert await names(app, tags=["常旅客"]) == ["Alice", "Dave"]
    assert await names(app, tags=["常旅客", "商务出行"]) == ["Alice"]
    assert await names(app, language="en") == ["Dave"]
    assert await names(app, tags=["常旅客"], min_spend_fen=1) == ["Alice"]


async def test_members_carry_their_figures_and_pages(histories: Application) -> None:
    found = await histories.segments.preview(SegmentFilter(), PageRequest(1, 2))
    assert found.total == 4
    assert [m.name for m in found.items] == ["Alice", "Bob"]
    alice = found.items[0]
    assert (alice.phone, alice.tier, alice.spend_fen, alice.trips) == (ALICE, "gold", 80000, 2)
    assert alice.last_trip_at == START - timedelta(days=1) + timedelta(days=5)
    second = await histories.segments.preview(SegmentFilter(), PageRequest(2, 2))
    assert [m.name for m in second.items] == ["Carol", "Dave"]
    assert (second.items[0].spend_fen, second.items[0].trips) == (12000, 1)
    assert (second.items[1].spend_fen, second.items[1].trips, second.items[1].last_trip_at) == (
        0,
        0,
        None,
    )


async def test_bad_filters_name_the_field(histories: Application) -> None:
    segments = histories.segments
    cases = {
        "max_spend_fen": SegmentFilter(min_spend_fen=500, max_spend_fen=100),
        "tiers": SegmentFilter(tiers=["platinum"]),
        "routes": SegmentFilter(routes=["JH-HSR", "NOPE"]),
        "last_trip_before": SegmentFilter(
            last_trip_after=START.date(), last_trip_before=START.date()
        ),
    }
    for field, flt in cases.items():
        with pytest.raises(InvalidInput) as caught:
            await segments.preview(flt, PageRequest())
        assert caught.value.details["field"] == field
    with pytest.raises(InvalidInput, match="'NOPE'"):
        await segments.preview(SegmentFilter(routes=["NOPE"]), PageRequest())
    with pytest.raises(InvalidInput):
        await segments.save(SUPERVISOR, "frequent", SegmentIn(name="x", filter=cases["tiers"]))


async def test_a_saved_segment_round_trip(histories: Application) -> None:
    segments = histories.segments
    flt = SegmentFilter(tags=["常旅客"])
    saved = await segments.save(SUPERVISOR, "frequent", SegmentIn(name="常旅客", filter=flt))
    assert saved.code == "frequent"
    assert [s.code for s in await segments.segments()] == ["frequent"]
    assert await segments.count("frequent") == 2
    run = await segments.run("frequent", PageRequest())
    assert [m.name for m in run.items] == ["Alice", "Dave"]
    changed = SegmentIn(name="金卡常旅客", filter=SegmentFilter(tags=["常旅客"], tiers=["gold"]))
    await segments.save(SUPERVISOR, "frequent", changed)
    again = await segments.get("frequent")
    assert again.name == "金卡常旅客"
    assert again.filter["tiers"] == ["gold"]
    assert await segments.count("frequent") == 1
    await segments.delete(SUPERVISOR, "frequent")
    with pytest.raises(SegmentNotFound):
        await segments.get("frequent")
    with pytest.raises(SegmentNotFound):
        await segments.delete(SUPERVISOR, "frequent")
    async with histories.db.sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == "customer_segment")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["customer_segment.save", "customer_segment.save", "customer_segment.delete"]


async def test_supervisors_save_preview_and_export_over_http(
    client: httpx.AsyncClient, demo_app: Application, clock: FixedClock
) -> None:
    await gold(demo_app)
    await customer(demo_app, "李雷", ALICE, vip_tier="gold", tags=["学生", "常旅客"])
    await customer(demo_app, "韩梅梅", BOB, vip_tier="gold")
    await customer(demo_app, "王芳", CAROL)
    await buy(demo_app, clock, "o1", ALICE, 12050, "JH-HSR", days_ago=3)
    await buy(demo_app, clock, "o2", ALICE, 5530, "JH-HSR", days_ago=2)
    supervisor = await bearer(client, "supervisor")
    body = {"tiers": ["gold"]}
    preview = await client.post("/api/crm/segments/preview", json=body, headers=supervisor)
    assert preview.status_code == 200, preview.text
    assert preview.json()["total"] == 2
    assert preview.json()["items"][0]["phone"] in (ALICE, BOB)
    bad = await client.post(
        "/api/crm/segments/preview", json={"tiers": ["nope"]}, headers=supervisor
    )
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "tiers"
    typo = await client.post("/api/crm/segments/preview", json={"tier": []}, headers=supervisor)
    assert typo.status_code == 422
    saved = await client.put(
        "/api/crm/segments/gold-members",
        json={"name": "金卡会员", "filter": body},
        headers=supervisor,
    )
    assert saved.status_code == 200, saved.text
    one = await client.get("/api/crm/segments/gold-members", headers=supervisor)
    assert one.json()["count"] == 2
    assert one.json()["filter"]["tiers"] == ["gold"]
    listed = await client.get("/api/crm/segments", headers=supervisor)
    assert [s["code"] for s in listed.json()] == ["gold-members"]
    members = await client.get("/api/crm/segments/gold-members/customers", headers=supervisor)
    assert members.json()["total"] == 2

    export = await client.get("/api/crm/segments/gold-members/export.csv", headers=supervisor)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows == [
        {"name": "李雷", "phone": ALICE, "tier": "gold", "tags": "学生;常旅客",
         "spend_yuan": "175.80", "trips": "2", "last_trip": START.date().isoformat()},
        {"name": "韩梅梅", "phone": BOB, "tier": "gold", "tags": "", "spend_yuan": "0.00",
         "trips": "0", "last_trip": ""},
    ]  # fmt: skip
    missing = await client.get("/api/crm/segments/nope/export.csv", headers=supervisor)
    assert missing.status_code == 404
    assert missing.json()["code"] == "segment_not_found"
    gone = await client.delete("/api/crm/segments/gold-members", headers=supervisor)
    assert gone.status_code == 204
    assert (await client.get("/api/crm/segments", headers=supervisor)).json() == []


async def test_agents_cannot_use_segments(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    assert (
        await client.post("/api/crm/segments/preview", json={}, headers=agent)
    ).status_code == 403
    assert (await client.get("/api/crm/segments", headers=agent)).status_code == 403
    assert (await client.get("/api/crm/segments/x/export.csv", headers=agent)).status_code == 403
    admin = await bearer(client, "admin")
    assert (await client.get("/api/crm/segments", headers=admin)).status_code == 200
