"""Order look-ups and self-service on real bookings of the ticketing service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.ticketing.helpers import booking, build_line
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.ivr.actions import ActionContext, ActionRegistry, ActionResult
from ticketline.ivr.lookups import declare_actions
from ticketline.ivr.lookups_orders import OrderLookups, keys_of_code, same_phone
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script
from ticketline.notify.models import OutboxMessage
from ticketline.ticketing.schemas import PaymentIn

DAY = date(2026, 11, 23)
CALLER = "13800138000"


@pytest.fixture
async def order_code(application: Application) -> str:
    await application.notify.install_default_templates()
    line = await build_line(application.ticketing, DAY)
    booked = await application.ticketing.orders.book(SYSTEM, booking(line.trips[0], 2))
    return booked.order.code


def actions(application: Application, mine: list[str] | None = None) -> ActionRegistry:
    async def orders_of(caller: str) -> list[str]:
        return list(mine or []) if caller == CALLER else []

    registry = declare_actions(ActionRegistry())
    OrderLookups(application.ticketing, orders_of if mine is not None else None).bind(registry)
    return registry


async def run(
    registry: ActionRegistry, application: Application, name: str, code: str, caller: str = CALLER
) -> ActionResult:
    ctx = ActionContext("c1", caller, "zh", application.clock.now())
    args: Mapping[str, object] = {"code": code}
    return await registry.call(name, ctx, args)


def test_codes_on_the_keypad_and_phone_forms() -> None:
    assert keys_of_code("K7H3PX") == "574379"
    assert same_phone("+8613800138000", "13800138000")
    assert not same_phone("13800138000", "13900139000")


async def test_status_by_code_reads_state_trip_and_money_due(
    application: Application, order_code: str
) -> None:
    result = await run(actions(application), application, "order_status", order_code)
    assert result.outcome == "ok"
    assert result.values["unpaid"] is True
    reply = result.values["reply"]
    assert isinstance(reply, dict)
    assert "已预订，尚未支付" in reply["zh"]
    assert "二零二六年十一月二十三日G 幺次，北京南到上海虹桥，八点整开，共两张票。" in reply["zh"]
    assert "应付" in reply["zh"]
    assert "is booked and not paid yet" in reply["en"]


async def test_keys_find_one_of_the_callers_own_orders(
    application: Application, order_code: str
) -> None:
    keys = keys_of_code(order_code)
    assert (await run(actions(application), application, "order_status", keys)).outcome == (
        "not_found" if keys != order_code else "ok"
    )
    mine = actions(application, [order_code])
    assert (await run(mine, application, "order_status", keys)).values["code"] == order_code
    stranger = await run(mine, application, "order_status", keys, caller="13900139000")
    assert stranger.outcome == "not_found" or keys == order_code


async def test_only_the_contact_phone_may_cancel_an_unpaid_booking(
    application: Application, order_code: str
) -> None:
    registry = actions(application)
    refused = await run(registry, application, "cancel_unpaid_booking", order_code, "13900139000")
    assert refused.outcome == "not_allowed"
    done = await run(registry, application, "cancel_unpaid_booking", order_code)
    assert done.outcome == "ok"
    assert done.values["state"] == "cancelled"
    again = await run(registry, application, "cancel_unpaid_booking", order_code)
    assert again.outcome == "not_allowed"


async def test_a_pickup_code_is_resent_only_for_a_paid_order(
    application: Application, order_code: str
) -> None:
    registry = actions(application)
    assert (await run(registry, application, "resend_pickup_code", order_code)).outcome == (
        "not_allowed"
    )
    status = await application.ticketing.order_status(order_code)
    await application.ticketing.payments.pay(
        SYSTEM,
        order_code,
        PaymentIn(amount_fen=status.balance_fen, method="cash", key="ivr-test-payment"),
    )
    before = await _outbox(application)
    assert (await run(registry, application, "resend_pickup_code", order_code)).outcome == "ok"
    assert len(await _outbox(application)) == len(before) + 1


async def _outbox(application: Application) -> list[OutboxMessage]:
    async with application.db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage)))


async def test_a_caller_hears_their_order_and_cancels_it_after_a_read_back(
    application: Application, order_code: str
) -> None:
    ivr = application.ivr
    ivr.prompts = TextPrompts()
    ivr.queue = SimulatedQueue()
    application.clock.set(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # type: ignore[attr-defined]

    async def orders_of(caller: str) -> list[str]:
        return [order_code] if caller == CALLER else []

    OrderLookups(application.ticketing, orders_of).bind(ivr.actions)
    keys = keys_of_code(order_code)
    call = SimulatedCall(parse_script(f"2,4,{keys}#,2,1,h"), caller=CALLER)
    trace = await ivr.handle_call(call)
    spoken = "\n".join(call.transcript)
    assert "is booked and not paid yet" in spoken
    assert "You are cancelling booking" in spoken
    assert "is cancelled and its seats are released" in spoken
    assert "cancel" in trace.path
    assert (await application.ticketing.order_status(order_code)).state == "cancelled"
