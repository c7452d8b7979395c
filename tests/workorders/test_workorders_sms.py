"""A resolved work order texts its customer a link to the status page, in the customer's
language; the link opens the status of that work order."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from ticketline.admin.permissions import Role
from ticketline.admin.schemas import DepartmentIn, StaffCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.crm.schemas import CustomerCreate, PhoneIn
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


async def test_the_customer_is_texted_the_status_link_in_their_language(
    application: Application,
) -> None:
    app = application
    await app.notify.install_default_templates()
    care = DepartmentIn(code="care", name_zh="客服", name_en="Care")
    await app.admin.create_department(SYSTEM, care)
    ann = StaffCreate(
        username="ann", display_name="Ann", password="Secret12345",
        roles=[Role.DEPARTMENT_STAFF],
    )  # fmt: skip
    await app.admin.create_staff(SYSTEM, ann)
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
