"""Refund rules, identifying by booking code and work-order progress, on the real services."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.ticketing.helpers import booking, build_line
from ticketline.admin.schemas import DepartmentIn
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.events import VoicemailLeft
from ticketline.ivr.lookups_workorders import code_of_keys
from ticketline.workorders.schemas import WorkOrderCreate
from ticketline.workorders.service import WorkOrderFilter

from .test_ivr_lookups_orders import CALLER, DAY

OTHER_PHONE = "13900139000"


async def call(
    application: Application, name: str, args: Mapping[str, object], caller: str = CALLER
) -> ActionResult:
    ctx = ActionContext("c1", caller, "zh", application.clock.now())
    return await application.ivr.actions.call(name, ctx, args)


@pytest.fixture
async def order_code(application: Application) -> str:
    await application.notify.install_default_templates()
    await application.ticketing.install_defaults()
    line = await build_line(application.ticketing, DAY)
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    return booked.order.code


def test_every_action_the_shipped_flows_name_is_bound(application: Application) -> None:
    assert application.ivr.actions.unbound() == []


async def test_refund_rules_read_the_fee_and_what_comes_back(
    application: Application, order_code: str
) -> None:
    result = await call(application, "refund_rules", {"code": order_code})
    assert result.outcome == "ok"
    quote = await application.ticketing.refund_rules(order_code)
    assert result.values["fee"] == quote.fee_fen
    assert result.values["refund"] == quote.refund_fen > 0
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    assert "手续费" in reply["zh"]
    assert "costs" in reply["en"]


async def test_refund_rules_for_an_unknown_code_say_not_found(
    application: Application, order_code: str
) -> None:
    assert (await call(application, "refund_rules", {"code": "99999999"})).outcome == "not_found"


async def test_a_booking_code_names_the_customer_who_booked(
    application: Application, order_code: str
) -> None:
    order = await application.ticketing.order_status(order_code)
    booker = await application.crm.lookup_caller(order.contact_phone)
    if not booker.known:
        phone = PhoneIn(number=order.contact_phone, primary=True)
        await application.crm.create(SYSTEM, CustomerCreate(name="周杰", phones=[phone]))
        booker = await application.crm.lookup_caller(order.contact_phone)
    assert booker.customer_id is not None
    result = await call(application, "identify_by_booking", {"code": order_code}, OTHER_PHONE)
    assert result.outcome == "ok"
    found = result.values["customer"]
    assert isinstance(found, dict)
    assert found["id"] == booker.customer_id
    missing = await call(application, "identify_by_booking", {"code": "00000"}, OTHER_PHONE)
    assert missing.outcome == "not_found"


async def test_work_order_progress_only_for_the_phone_it_belongs_to(
    application: Application,
) -> None:
    await application.admin.create_department(
        SYSTEM, DepartmentIn(code="care", name_zh="客服", name_en="Care")
    )
    opened = await application.workorders.open(
        SYSTEM,
        WorkOrderCreate(type="complaint", title="空调太冷", phone=CALLER, department="care"),
    )
    keys = opened.code.removeprefix("WO-").replace("-", "")
    assert code_of_keys(keys) == opened.code

    result = await call(application, "workorder_status", {"code": keys})
    assert result.outcome == "ok"
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    assert "已受理" in reply["zh"]
    assert "received" in reply["en"]

    stranger = await call(application, "workorder_status", {"code": keys}, OTHER_PHONE)
    assert stranger.outcome == "not_found"
    assert (await call(application, "workorder_status", {"code": "12"})).outcome == "not_found"


async def test_a_voicemail_becomes_a_work_order_for_the_call_center(
    application: Application, tmp_path: Path
) -> None:
    await application.admin.create_department(
        SYSTEM, DepartmentIn(code="callcenter", name_zh="呼叫中心", name_en="Call center")
    )
    message = tmp_path / "m.wav"
    message.write_bytes(b"RIFF")
    at = application.clock.now()
    await application.bus.publish(
        VoicemailLeft("c9", CALLER, "after_hours", str(message), 12.4, at)
    )
    await application.bus.publish(
        VoicemailLeft("c10", "anonymous", "refund", str(message), 3.0, at)
    )

    page = await application.workorders.search(WorkOrderFilter(), PageRequest(page=1, size=10))
    orders = sorted(page.items, key=lambda o: o.title)
    assert [o.source for o in orders] == ["voicemail", "voicemail"]
    assert [o.phone for o in orders] == ["+8613800138000", None]  # a hidden number still counts
    assert str(message) in orders[0].description
    assert all(o.state == "new" for o in orders)
