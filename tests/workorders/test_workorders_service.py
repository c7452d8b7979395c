"""Work orders end to end on both databases: codes, SLA in business hours, the state
machine with its log, assignment, transfer, escalation, breaches, the customer's
view, rating and reports."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ticketline.admin.permissions import Role
from ticketline.admin.schemas import DepartmentIn, StaffCreate
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import IllegalTransition, InvalidInput
from ticketline.core.paging import PageRequest
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.workorders import reports
from ticketline.workorders.errors import AlreadyRated, WorkOrderNotFound
from ticketline.workorders.events import WorkOrderBreached, WorkOrderNearBreach
from ticketline.workorders.schemas import (
    AssignIn,
    CalendarIn,
    PolicyIn,
    TransferIn,
    WorkOrderCreate,
)
from ticketline.workorders.service import WorkOrderFilter

AGENT = Actor(id=None, name="agent1")
PHONE = "+8613800138000"
WEEK = {str(d): [["09:00", "12:00"], ["13:00", "18:00"]] for d in range(5)}


@pytest.fixture
async def setup(application: Application) -> Application:
    app = application
    for code in ("care", "refunds"):
        await app.admin.create_department(
            SYSTEM, DepartmentIn(code=code, name_zh=code, name_en=code)
        )
    for name, role, dept in [
        ("ann", Role.DEPARTMENT_STAFF, "care"),
        ("bob", Role.DEPARTMENT_STAFF, "care"),
        ("boss", Role.SUPERVISOR, "care"),
    ]:
        await app.admin.create_staff(
            SYSTEM,
            StaffCreate(username=name, display_name=name, password="Secret12345",
                        roles=[role], department=dept),
        )  # fmt: skip
    await app.sla.save_calendar(SYSTEM, CalendarIn(code="office", name="Office", week=WEEK))
    await app.sla.save_policy(
        SYSTEM,
        PolicyIn(type="complaint", priority="normal", first_response_minutes=60,
                 resolution_minutes=480, calendar="office"),
    )  # fmt: skip
    await app.crm.create(AGENT, CustomerCreate(name="李雷", phones=[PhoneIn(number=PHONE)]))
    return app


def complaint(**extra: object) -> WorkOrderCreate:
    values: dict[str, object] = {
        "type": "complaint", "title": "司机态度差", "department": "care", "phone": "13800138000",
    }  # fmt: skip
    values.update(extra)
    return WorkOrderCreate(**values)  # type: ignore[arg-type]


async def test_opening_gives_a_code_due_times_and_a_place_on_the_timeline(
    setup: Application,
) -> None:
    app = setup
    # 10:00 Shanghai on Sunday 2026-11-22: the clock starts Monday 09:00.
    first = await app.workorders.open(AGENT, complaint())
    second = await app.workorders.open(AGENT, complaint())
    assert re.fullmatch(r"WO-2611-\d{4}", first.code)
    assert int(second.code[-4:]) == int(first.code[-4:]) + 1
    assert first.first_response_due is not None
    assert first.resolution_due is not None
    assert first.first_response_due.isoformat() == "2026-11-23T02:00:00+00:00"  # Mon 10:00
    assert first.resolution_due.isoformat() == "2026-11-23T10:00:00+00:00"  # Mon 18:00
    caller = await app.crm.lookup_caller(PHONE)
    assert {w.code for w in caller.open_work_orders} == {first.code, second.code}
    assert first.customer_id == caller.customer_id


async def test_every_move_is_logged_and_illegal_ones_refused(setup: Application) -> None:
    app = setup
    order = await app.workorders.open(AGENT, complaint(assignee="ann"))
    assert order.state == "assigned"
    await app.workorders.act(AGENT, order.id, "start", "calling the driver's depot")
    with pytest.raises(IllegalTransition) as caught:
        await app.workorders.act(AGENT, order.id, "close")
    assert caught.value.details["allowed"]
    await app.workorders.act(AGENT, order.id, "resolve", "apologised, voucher sent")
    log = await app.workorders.log(order.id)
    moves = [
        (e.kind, e.from_state, e.to_state, e.actor_name) for e in log if e.kind == "transition"
    ]
    assert moves == [
        ("transition", "new", "assigned", "agent1"),
        ("transition", "assigned", "in_progress", "agent1"),
        ("transition", "in_progress", "resolved", "agent1"),
    ]
    assert log[-1].comment == "apologised, voucher sent"
    caller = await app.crm.lookup_caller(PHONE)
    assert caller.open_work_orders == ()


async def test_waiting_on_the_customer_stops_the_sla_clock(
    setup: Application, clock: FixedClock
) -> None:
    app = setup
    clock.set(clock.now() + timedelta(days=1))  # Monday 10:00 Shanghai
    order = await app.workorders.open(AGENT, complaint(assignee="ann"))
    due = order.resolution_due
    assert due is not None
    await app.workorders.act(AGENT, order.id, "start")
    await app.workorders.act(AGENT, order.id, "wait", "asked for the ticket photo")
    clock.advance(timedelta(hours=2))  # Monday 10:00-12:00: two business hours of waiting
    await app.workorders.customer_reply(order.code, "138 0013 8000", "photo attached")
    resumed = await app.workorders.get(order.id)
    assert resumed.state == "in_progress"
    assert resumed.resolution_due == due + timedelta(hours=2)  # Tuesday 10:00 -> 12:00


async def test_round_robin_least_open_transfer_and_escalation(setup: Application) -> None:
    app = setup
    names = {s.id: s.username for s in await app.admin.list_staff()}
    robin = [
        names[
            (await app.workorders.open(AGENT, complaint(assignment="round_robin"))).assignee_id
            or ""
        ]
        for _ in range(4)
    ]
    assert robin == ["ann", "bob", "boss", "ann"]
    order = await app.workorders.open(AGENT, complaint(assignment="least_open"))
    assert names[order.assignee_id or ""] in ("bob", "boss")
    moved = await app.workorders.transfer(
        AGENT, order.id, TransferIn(department="refunds", reason="it is about a refund")
    )
    assert (moved.state, moved.assignee_id) == ("new", None)
    with pytest.raises(InvalidInput):
        await app.workorders.transfer(AGENT, order.id, TransferIn(department="refunds", reason="x"))
    up = await app.workorders.escalate(AGENT, order.id, "customer threatens to go to the press")
    assert names[up.assignee_id or ""] == "boss"
    assert up.escalation_level == 1
    queue = await app.workorders.search(
        WorkOrderFilter(department="refunds", open_only=True), PageRequest()
    )
    assert [o.id for o in queue.items] == [order.id]
    with pytest.raises(InvalidInput):
        await app.workorders.assign(AGENT, order.id, AssignIn(strategy="manual"))


async def test_near_breach_and_breach_are_announced_once_and_escalate(
    setup: Application, clock: FixedClock
) -> None:
    app = setup
    heard: list[object] = []

    async def listen(event: object) -> None:
        heard.append(event)

    app.bus.subscribe(WorkOrderBreached, listen)
    app.bus.subscribe(WorkOrderNearBreach, listen)
    order = await app.workorders.open(AGENT, complaint(assignee="ann"))
    clock.set(order.resolution_due - timedelta(minutes=30))  # type: ignore[operator]
    await app.sla.check()
    assert [(type(e).__name__, e.target) for e in heard] == [  # type: ignore[attr-defined]
        ("WorkOrderBreached", "first_response"),
        ("WorkOrderNearBreach", "resolution"),
    ]
    clock.advance(timedelta(hours=1))
    await app.sla.check()
    await app.sla.check()
    assert [type(e).__name__ for e in heard][2:] == ["WorkOrderBreached"]
    late = await app.workorders.get(order.id)
    assert late.resolution_breached
    assert late.escalation_level == 1
    overdue = await app.workorders.search(WorkOrderFilter(overdue_at=clock.now()), PageRequest())
    assert [o.code for o in overdue.items] == [order.code]


async def test_the_customer_sees_replies_not_notes_and_rates_once(
    setup: Application, clock: FixedClock
) -> None:
    app = setup
    order = await app.workorders.open(AGENT, complaint(assignee="ann"))
    await app.workorders.add_note(AGENT, order.id, "driver has two earlier complaints", False)
    await app.workorders.add_note(AGENT, order.id, "我们已联系车队，将于明日回复。", True)
    view = await app.workorders.public_status(order.code.lower(), "13800138000")
    assert view.last_reply == "我们已联系车队，将于明日回复。"
    assert (await app.workorders.get(order.id)).first_response_at == clock.now()
    with pytest.raises(WorkOrderNotFound):
        await app.workorders.public_status(order.code, "13900139000")
    with pytest.raises(InvalidInput):
        await app.workorders.rate(order.code, PHONE, 5)
    await app.workorders.act(AGENT, order.id, "start")
    await app.workorders.act(AGENT, order.id, "resolve")
    await app.workorders.rate(order.code, PHONE, 4, "ok")
    with pytest.raises(AlreadyRated):
        await app.workorders.rate(order.code, PHONE, 5)
    clock.advance(timedelta(days=1))
    await app.workorders.act(AGENT, order.id, "reopen", "customer not satisfied")
    report = await reports.summary(app.db, clock.now() - timedelta(days=7), clock.now())
    assert report.created == 1
    assert report.created_by_department == {"care": 1}
    assert report.satisfaction_average is None  # the reopened order is not resolved now
