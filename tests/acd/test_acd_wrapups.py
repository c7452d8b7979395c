"""Wrap-up dispositions and stored wrap-ups, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ticketline.acd.errors import AlreadyWrappedUp
from ticketline.acd.schemas import DispositionIn, WrapUpIn
from ticketline.acd.wrapups import CallFacts
from ticketline.admin.models import AuditEntry
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.errors import InvalidInput
from ticketline.db import migrate


@pytest.fixture
async def app(application: Application) -> Application:
    await migrate.upgrade(application.db)
    await application.acd.wrapups.install_defaults()
    await application.acd.wrapups.install_defaults()  # a restart adds nothing
    return application


async def test_the_seeded_list_can_be_reordered_extended_and_disabled(app: Application) -> None:
    wrapups = app.acd.wrapups
    seeded = [d.code for d in await wrapups.dispositions()]
    assert seeded == ["booked", "changed", "refunded", "information", "complaint", "work_order",
                      "no_action"]  # fmt: skip
    lost = DispositionIn(
        code="lost_luggage", name_zh="行李遗失", name_en="Lost luggage", position=2
    )
    await wrapups.put_disposition(SYSTEM, lost)
    await wrapups.put_disposition(
        SYSTEM, DispositionIn(code="complaint", name_zh="投诉", name_en="Complaint", enabled=False)
    )
    enabled = [d.code for d in await wrapups.dispositions(enabled_only=True)]
    assert enabled[:4] == ["booked", "changed", "lost_luggage", "refunded"]  # position, code
    assert "complaint" not in enabled
    async with app.db.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("acd.disposition.put") == 2


async def test_a_wrap_up_is_stored_once_with_its_links(app: Application) -> None:
    wrapups = app.acd.wrapups
    facts = CallFacts("+8613800000001", "booking", "cust-1")
    data = WrapUpIn(call_id="c1", disposition="refunded", notes=" 退票 ", order="ab 3d-9z",
                    work_order="WO-2612-0042")  # fmt: skip
    stored = await wrapups.record("agent1", data, facts)
    assert (stored.order_code, stored.work_order_code, stored.notes) == (
        "AB3D9Z",
        "WO-2612-0042",
        "退票",
    )
    with pytest.raises(AlreadyWrappedUp):
        await wrapups.record("agent1", data, facts)
    assert [w.id for w in await wrapups.list(customer_id="cust-1")] == [stored.id]
    assert await wrapups.list(agent="agent2") == []


async def test_bad_wrap_ups_are_refused_and_nothing_is_stored(app: Application) -> None:
    wrapups = app.acd.wrapups
    await wrapups.put_disposition(
        SYSTEM, DispositionIn(code="complaint", name_zh="投诉", name_en="Complaint", enabled=False)
    )
    for data, field in (
        (WrapUpIn(call_id="c2", disposition="nonsense"), "disposition"),
        (WrapUpIn(call_id="c2", disposition="complaint"), "disposition"),
        (WrapUpIn(call_id="c2", disposition="booked", order="??"), "order"),
    ):
        with pytest.raises(InvalidInput) as refused:
            await wrapups.record("agent1", data, CallFacts())
        assert refused.value.details["field"] == field
    assert await wrapups.list(call_id="c2") == []
