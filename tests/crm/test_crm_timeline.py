"""The timeline and the open-item projection are filled from other areas' events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.crm.events import CallEnded
from ticketline.admin.security import Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.paging import PageRequest
from ticketline.crm.models import TimelineEntry
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.notify.events import SmsSent
from ticketline.ticketing.events import OrderBooked, OrderPaid, OrderRefunded

AGENT = Actor(id=None, name="agent1")


@pytest.fixture(autouse=True)
def subscribed(application: Application) -> None:
    """As app.py will do for a call-ended event once telephony or the ACD publishes one."""
    application.bus.subscribe(CallEnded, application.timeline.record)


def booked(order_id: str = "o1", phone: str = "13800138000") -> OrderBooked:
    return OrderBooked(
        order_id=order_id,
        code="K7M2QX",
        phone=phone,
        locale="zh_CN",
        total_fen=12000,
        actor="agent1",
        pickup_code="48213907",
        trip="11月23日 08:30 上海南→杭州",
    )


def order_event(kind: type, order_id: str = "o1") -> object:
    return kind(
        order_id=order_id,
        code="K7M2QX",
        phone="+8613800138000",
        locale="zh_CN",
        total_fen=12000,
        actor="agent1",
    )


async def new_customer(app: Application, number: str = "13800138000") -> str:
    data = CustomerCreate(name="李雷", phones=[PhoneIn(number=number)])
    return (await app.crm.create(AGENT, data)).id


async def test_an_order_appears_on_the_timeline_and_as_an_open_order(
    application: Application, clock: FixedClock
) -> None:
    cid = await new_customer(application)
    await application.bus.publish(booked())
    clock.advance(timedelta(minutes=1))
    await application.bus.publish(order_event(OrderPaid))
    found = await application.crm.lookup_caller("13800138000")
    assert [c.kind for c in found.last_contacts] == ["payment", "order"]
    assert found.last_contacts[1].title == "订票 Order booked · K7M2QX"
    [order] = found.open_orders
    assert (order.code, order.state, order.amount_fen) == ("K7M2QX", "paid", 12000)
    assert order.title == "11月23日 08:30 上海南→杭州"
    clock.advance(timedelta(minutes=1))
    await application.bus.publish(order_event(OrderRefunded))
    after = await application.crm.lookup_caller("13800138000")
    assert after.open_orders == ()
    assert after.last_contacts[0].kind == "refund"
    page = await application.timeline.entries(cid, PageRequest(), ["refund"])
    assert page.total == 1


async def test_secrets_never_reach_the_timeline(application: Application) -> None:
    cid = await new_customer(application)
    await application.bus.publish(booked())
    async with application.db.sessions() as session:
        entry = await session.scalar(select(TimelineEntry).where(TimelineEntry.customer_id == cid))
    assert entry is not None
    assert "pickup_code" not in entry.detail
    assert "48213907" not in str(entry.detail)


async def test_a_replayed_event_is_recorded_once(application: Application) -> None:
    cid = await new_customer(application)
    await application.bus.publish(booked())
    await application.bus.publish(booked())
    assert (await application.timeline.entries(cid, PageRequest())).total == 1


async def test_an_order_from_an_unknown_number_makes_a_customer(application: Application) -> None:
    await application.bus.publish(booked(phone="13600136000"))
    found = await application.crm.lookup_caller("+8613600136000")
    assert found.known
    assert len(found.open_orders) == 1


async def test_calls_and_sms_of_known_numbers_only(
    application: Application, clock: FixedClock
) -> None:
    cid = await new_customer(application)
    await application.bus.publish(
        CallEnded("c1", "008613800138000", "inbound", 64000, clock.now() - timedelta(hours=1))
    )
    await application.bus.publish(SmsSent("m1", "+8613800138000", "order:o1"))
    await application.bus.publish(SmsSent("m2", "+8613900139000", None))
    page = await application.timeline.entries(cid, PageRequest())
    assert [e.kind for e in page.items] == ["sms", "call"]
    assert page.items[1].detail["talk_ms"] == 64000
    customer = await application.crm.get(cid)
    assert customer.last_contact_at == clock.now()
    assert (await application.crm.search(None, PageRequest())).total == 1
