"""A resolved work order texts its customer a link to the status page, in the customer's
language; the link opens the status of that work order. The customer can answer by SMS:
a score rates the case (and is thanked), words quoting the code reach the agent."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ticketline.admin.permissions import Role
from ticketline.admin.schemas import DepartmentIn, StaffCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.errors import InvalidInput, NotFound, PermissionDenied
from ticketline.core.paging import PageRequest
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.notify.inbound import InboundSms
from ticketline.workorders.replies import read_reply
from ticketline.workorders.schemas import AssignIn, WorkOrderCreate


async def _resolve(app: Application, phone: str | None) -> str:
    order = await app.workorders.open(
        SYSTEM,
        WorkOrderCreate(type="lost_property", title="遗失雨伞", department="care", phone=phone),
    )
    await app.workorders.assign(SYSTEM, order.id, AssignIn(assignee="ann"))
    await app.workorders.act(SYSTEM, order.id, "start", "")
    await app.workorders.act(SYSTEM, order.id, "resolve", "在失物招领处 at lost and found")
    return order.code


async def _care_desk(app: Application) -> None:
    await app.notify.install_default_templates()
    care = DepartmentIn(code="care", name_zh="客服", name_en="Care")
    await app.admin.create_department(SYSTEM, care)
    ann = StaffCreate(
        username="ann", display_name="Ann", password="Secret12345",
        roles=[Role.DEPARTMENT_STAFF],
    )  # fmt: skip
    await app.admin.create_staff(SYSTEM, ann)


async def test_the_customer_is_texted_the_status_link_in_their_language(
    application: Application,
) -> None:
    app = application
    await _care_desk(app)
    tom = CustomerCreate(name="Tom", locale="en", phones=[PhoneIn(number="13800138001")])
    await app.crm.create(SYSTEM, tom)
    mei = CustomerCreate(name="韩梅梅", phones=[PhoneIn(number="13800138002")])
    await app.crm.create(SYSTEM, mei)

    english = await _resolve(app, "13800138001")
    [sms] = await app.notify.outbox(ref=english)
    assert sms.to == "+8613800138001"
    assert sms.body.startswith(f"[{app.settings.company_name}] Your case {english} is resolved")
    link = urlsplit(sms.body.rsplit(" ", 1)[1])
    assert f"{link.scheme}://{link.netloc}" == app.settings.effective_public_url
    assert link.path == "/status"
    assert parse_qs(link.query) == {"code": [english]}

    chinese = await _resolve(app, "13800138002")
    [sms] = await app.notify.outbox(ref=chinese)
    assert f"您的工单{chinese}已处理完毕" in sms.body

    silent = await _resolve(app, None)  # no phone: nobody to text
    assert await app.notify.outbox(ref=silent) == []


def test_a_text_is_read_as_a_score_a_code_and_words() -> None:
    assert read_reply(" 5 ").score == 5
    assert read_reply("５分").score == 5  # full-width, as Chinese phones type it
    assert read_reply("4 stars!").score == 4
    quoted = read_reply("wo 2612 0042：3")
    assert (quoted.code, quoted.score) == ("WO-2612-0042", 3)
    words = read_reply("WO-2612-0042 雨伞是蓝色的")
    assert (words.code, words.score, words.text) == ("WO-2612-0042", None, "雨伞是蓝色的")
    assert read_reply("6").score is None
    assert read_reply("15").score is None
    assert read_reply("谢谢").code is None


async def test_a_score_texted_back_rates_the_case_and_is_thanked(
    application: Application,
) -> None:
    app = application
    await _care_desk(app)
    tom = CustomerCreate(name="Tom", locale="en", phones=[PhoneIn(number="13800138001")])
    customer = await app.crm.create(SYSTEM, tom)
    inbound = InboundSms(app.bus, app.clock, "s3cret")
    older = await _resolve(app, "13800138001")
    newer = await _resolve(app, "13800138001")

    await inbound.receive("s3cret", "13800138001", "95105", "５")
    assert (await app.workorders.by_code(newer)).satisfaction == 5
    assert (await app.workorders.by_code(older)).satisfaction is None
    thanks = [m for m in await app.notify.outbox(ref=newer) if "Thank you" in m.body]
    assert [m.body for m in thanks] == [
        f"[{app.settings.company_name}] Thank you for rating case {newer} (5 of 5)."
    ]
    await inbound.receive("s3cret", "+8613800138001", "95105", "4")  # a second try
    assert (await app.workorders.by_code(newer)).satisfaction == 5
    assert (await app.workorders.by_code(older)).satisfaction is None  # not moved on
    await inbound.receive("s3cret", "13800138001", "95105", f"{older.lower()} 2")
    assert (await app.workorders.by_code(older)).satisfaction == 2
    log = await app.workorders.log((await app.workorders.by_code(older)).id)
    assert log[-1].kind == "rating"
    assert log[-1].detail == {"score": 2, "via": "sms"}
    timeline = await app.timeline.entries(customer.id, PageRequest(1, 50), kinds=["sms"])
    received = [e.detail["text"] for e in timeline.items if e.title.startswith("收到短信")]
    assert received == [f"{older.lower()} 2", "4", "5"]


async def test_words_quoting_the_code_reach_the_case_and_strangers_do_nothing(
    application: Application,
) -> None:
    app = application
    await _care_desk(app)
    inbound = InboundSms(app.bus, app.clock, "s3cret")
    order = await app.workorders.open(
        SYSTEM,
        WorkOrderCreate(
            type="lost_property", title="遗失雨伞", department="care", phone="13800138003"
        ),
    )
    await app.workorders.assign(SYSTEM, order.id, AssignIn(assignee="ann"))
    await app.workorders.act(SYSTEM, order.id, "start", "")
    await app.workorders.act(SYSTEM, order.id, "wait", "什么颜色？")

    await inbound.receive("s3cret", "13900139000", "95105", f"{order.code} 蓝色")  # stranger
    assert (await app.workorders.get(order.id)).state == "waiting_customer"
    await inbound.receive("s3cret", "13800138003", "95105", f"{order.code} 蓝色的")
    assert (await app.workorders.get(order.id)).state == "in_progress"
    last = (await app.workorders.log(order.id))[-2]
    assert (last.kind, last.comment) == ("customer", "蓝色的")
    await inbound.receive("s3cret", "13800138003", "95105", "5")  # nothing resolved yet
    assert (await app.workorders.get(order.id)).satisfaction is None


async def test_the_inbound_door_checks_its_token_and_the_message(
    application: Application,
) -> None:
    inbound = InboundSms(application.bus, application.clock, "s3cret")
    with pytest.raises(PermissionDenied):
        await inbound.receive("guess", "13800138001", "95105", "5")
    with pytest.raises(InvalidInput, match="from"):
        await inbound.receive("s3cret", "12345", "95105", "5")
    with pytest.raises(InvalidInput, match="text"):
        await inbound.receive("s3cret", "13800138001", "95105", "   ")
    with pytest.raises(InvalidInput, match="text"):
        await inbound.receive("s3cret", "13800138001", "95105", "字" * 1001)
    closed = InboundSms(application.bus, application.clock, "")
    with pytest.raises(NotFound):
        await closed.receive("", "13800138001", "95105", "5")
