"""Who is calling: the CRM identifies the caller by number or card; VIPs queue first."""

from __future__ import annotations

from collections.abc import Mapping

from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.crm.schemas import CustomerCreate, PhoneIn, TierIn
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script

from .conftest import OPEN

CALLER = "13800138000"


async def vip(application: Application) -> str:
    await application.crm.save_tier(
        SYSTEM,
        TierIn(code="gold", name_zh="金卡", name_en="Gold", rank=3, queue_priority=7),
    )
    customer = await application.crm.create(
        SYSTEM,
        CustomerCreate(
            name="王芳",
            phones=[PhoneIn(number=CALLER, primary=True)],
            vip_tier="gold",
            member_card="M20261122",
        ),
    )
    return customer.id


async def call(
    application: Application, name: str, args: Mapping[str, object], **ctx: object
) -> ActionResult:
    context = ActionContext("c1", str(ctx.get("caller", CALLER)), "zh", OPEN,
                            customer_id=ctx.get("customer_id"))  # type: ignore[arg-type]  # fmt: skip
    return await application.ivr.actions.call(name, context, args)


async def test_a_known_caller_is_identified_with_tier_priority(application: Application) -> None:
    customer_id = await vip(application)
    found = await call(application, "identify_caller", {})
    assert found.outcome == "ok"
    assert found.values["customer"] == {
        "id": customer_id,
        "name": "王芳",
        "vip_tier": 7,
        "tier": "gold",
        "points": 0,
        "open_orders": 0,
    }
    stranger = await call(application, "identify_caller", {}, caller="13900139000")
    assert stranger.outcome == "not_found"


async def test_a_member_card_identifies_and_points_are_read(application: Application) -> None:
    customer_id = await vip(application)
    found = await call(application, "identify_by_card", {"card": "m20261122"})
    assert found.values["customer"]["id"] == customer_id  # type: ignore[index]
    assert (await call(application, "identify_by_card", {"card": "000000"})).outcome == "not_found"
    points = await call(application, "points_balance", {}, customer_id=customer_id)
    assert points.values["reply"] == {  # type: ignore[comparison-overlap]
        "zh": "您的积分余额为零分。",
        "en": "Your points balance is 0 points.",
    }
    assert (await call(application, "points_balance", {})).outcome == "not_found"


async def test_the_hotline_greets_a_vip_by_name_and_queues_them_first(
    application: Application,
) -> None:
    await vip(application)
    application.clock.set(OPEN)  # type: ignore[attr-defined]
    ivr = application.ivr
    ivr.prompts = TextPrompts()
    queue = SimulatedQueue()
    ivr.queue = queue
    simulated = SimulatedCall(parse_script("1,5,0"), caller=CALLER)
    trace = await ivr.handle_call(simulated)
    assert "say[zh] 王芳，您好，欢迎您再次来电。" in simulated.transcript
    assert "say[zh] 您的积分余额为零分。" in simulated.transcript
    assert queue.requests[0].priority == 7
    assert trace.outcome == "queued"
