"""Customers: phones in E.164, duplicates refused with a merge offer, merging keeps
everything, caller lookup for the screen pop (both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ticketline.admin.models import AuditEntry
from ticketline.admin.security import SYSTEM, Actor
from ticketline.app import Application
from ticketline.core.errors import InvalidInput
from ticketline.core.paging import PageRequest
from ticketline.crm.errors import CustomerMerged, DuplicateCustomer
from ticketline.crm.schemas import (
    CustomerCreate,
    CustomerUpdate,
    PhoneIn,
    TierIn,
    TravellerIn,
)

AGENT = Actor(id=None, name="agent1")


async def gold(app: Application) -> None:
    await app.crm.save_tier(
        SYSTEM,
        TierIn(
            code="gold",
            name_zh="金卡",
            name_en="Gold",
            rank=2,
            queue_priority=5,
            named_agent=True,
            points_percent=150,
        ),
    )


async def customer(app: Application, name: str, *numbers: str, **extra: object) -> str:
    data = CustomerCreate(name=name, phones=[PhoneIn(number=n) for n in numbers], **extra)  # type: ignore[arg-type]
    return (await app.crm.create(AGENT, data)).id


async def test_a_customer_is_found_by_any_form_of_any_of_its_numbers(
    application: Application,
) -> None:
    await gold(application)
    cid = await customer(
        application, "李雷", "138 0013 8000", "021-6888 8888", vip_tier="gold", member_card="M12345"
    )
    for dialled in ("+8613800138000", "008613800138000", "02168888888"):
        found = await application.crm.lookup_caller(dialled)
        assert found.known
        assert found.customer_id == cid
        assert found.name == "李雷"
        assert found.tier is not None
        assert found.tier.code == "gold"
        assert found.queue_priority == 5
    by_card = await application.crm.identify(member_card="m12345")
    assert by_card.customer_id == cid
    phones = (await application.crm.phones_of([cid]))[cid]
    assert [(p.number, p.is_primary) for p in phones] == [
        ("+8613800138000", True),
        ("+862168888888", False),
    ]


async def test_new_and_anonymous_callers(application: Application) -> None:
    await customer(application, "韩梅梅", "13900139000")
    unknown = await application.crm.lookup_caller("13700137000")
    assert not unknown.known
    assert unknown.number == "+8613700137000"
    assert unknown.queue_priority == 0
    assert not (await application.crm.lookup_caller("anonymous")).known
    assert not (await application.crm.identify(member_card="NOPE99")).known


async def test_a_malformed_number_names_the_field_and_stores_nothing(
    application: Application,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await customer(application, "王五", "13800138000", "12345")
    assert caught.value.details["field"] == "phones.1.number"
    assert (await application.crm.search(None, PageRequest())).total == 0


async def test_a_duplicate_is_refused_with_the_customer_to_merge_with(
    application: Application,
) -> None:
    first = await customer(application, "张三", "13800138000")
    with pytest.raises(DuplicateCustomer) as caught:
        await customer(application, "张三丰", "+86 138 0013 8000")
    assert caught.value.details == {
        "field": "phones",
        "existing_customer_id": first,
        "offer": "merge",
    }
    await customer(application, "Zhang", "13900139000", id_type="id_card", id_number="X1")
    with pytest.raises(DuplicateCustomer):
        await customer(application, "Zhang 2", id_type="id_card", id_number="X1")


async def test_merging_keeps_phones_notes_and_history(application: Application) -> None:
    keep = await customer(application, "张三", "13800138000")
    gone = await customer(
        application, "张三(重复)", "13900139000", birthday=date(1990, 5, 4), tags=["vip"]
    )
    await application.crm.add_note(AGENT, gone, "prefers window seats")
    merged = await application.crm.merge(AGENT, keep, gone)
    assert merged.birthday == date(1990, 5, 4)
    assert merged.tags == ["vip"]
    found = await application.crm.lookup_caller("13900139000")
    assert found.customer_id == keep
    assert [c.title for c in found.last_contacts] == ["prefers window seats"]
    old = await application.crm.get(gone)
    assert old.status == "merged"
    assert old.merged_into_id == keep
    with pytest.raises(CustomerMerged):
        await application.crm.update(AGENT, gone, CustomerUpdate(name="x"))
    with pytest.raises(InvalidInput):
        await application.crm.merge(AGENT, keep, keep)


async def test_updates_are_audited_and_required_fields_cannot_be_cleared(
    application: Application,
) -> None:
    await gold(application)
    cid = await customer(application, "李四", "13800138000")
    await application.crm.update(
        AGENT, cid, CustomerUpdate(tags=["b", "a", "b"], vip_tier="gold", do_not_call=True)
    )
    changed = await application.crm.get(cid)
    assert changed.tags == ["a", "b"]
    assert changed.do_not_call
    with pytest.raises(InvalidInput) as caught:
        await application.crm.update(AGENT, cid, CustomerUpdate(name=None))
    assert caught.value.details["field"] == "name"
    async with application.db.sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_id == cid).order_by(AuditEntry.id)
            )
        )
    assert actions == ["customer.create", "customer.update"]


async def test_search_by_name_phone_or_card(application: Application) -> None:
    a = await customer(application, "王小明", "13800138000", member_card="C0001")
    b = await customer(application, "王大明", "13900139000")
    await customer(application, "Alice", "13700137000")
    names = await application.crm.search("王", PageRequest())
    assert {c.id for c in names.items} == {a, b}
    assert [c.id for c in (await application.crm.search("139 0013 9000", PageRequest())).items] == [
        b
    ]
    assert [c.id for c in (await application.crm.search("c0001", PageRequest())).items] == [a]


async def test_saved_travellers_keep_one_entry_per_document_and_survive_a_merge(
    application: Application,
) -> None:
    crm = application.crm
    keep = await customer(application, "王芳", "13800138011")
    gone = await customer(application, "王芳", "13800138012")
    son = TravellerIn(name="王小明", id_number="11010520150101001X", passenger_type="child")
    await crm.remember_travellers(
        AGENT, keep, [TravellerIn(name="王芳", id_type="passport", id_number="P1234567")]
    )
    saved = await crm.remember_travellers(AGENT, keep, [son])
    assert [t.name for t in saved] == ["王小明", "王芳"]  # the latest booked first

    renamed = son.model_copy(update={"name": "王晓明", "passenger_type": "student"})
    saved = await crm.remember_travellers(AGENT, keep, [renamed])
    assert [(t.name, t.passenger_type) for t in saved] == [("王晓明", "student"), ("王芳", "adult")]

    await crm.remember_travellers(
        AGENT, gone, [son, TravellerIn(name="王强", id_type="passport", id_number="E7654321")]
    )
    await crm.merge(AGENT, keep, gone)
    names = sorted(t.name for t in await crm.travellers(keep))
    assert names == ["王强", "王晓明", "王芳"]  # the kept record's entry wins a shared document
    with pytest.raises(CustomerMerged):
        await crm.travellers(gone)
