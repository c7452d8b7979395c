"""The ACD as the application runs it: configured through the service, routing live,
the queue log in the real database (SQLite and PostgreSQL), phones in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.acd.phones import CallRef, FakePhones
from ticketline.acd.config import OverflowKind, SkillNeed
from ticketline.acd.errors import UnknownAgent, UnknownQueue
from ticketline.acd.ports import CallerInfo, EnqueueStatus, WaitingKeys
from ticketline.acd.queuelog import QueueEvent, read_log
from ticketline.acd.runtime import AcdRuntime, build_runtime
from ticketline.acd.schemas import MembershipIn, OverflowIn, QueueIn, ReasonCodeIn, SkillNeedIn
from ticketline.acd.service import AcdAdmin
from ticketline.acd.telephony_port import key_hints
from ticketline.admin.permissions import Role
from ticketline.admin.schemas import ExtensionCreate, SkillIn, SkillLevel, StaffCreate
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.errors import InvalidInput
from ticketline.db import migrate

PASSWORD = "Agent-pass-2026!"


async def add_agent(app: Application, name: str, ext: str | None, skills: dict[str, int]) -> None:
    await app.admin.create_staff(
        SYSTEM,
        StaffCreate(
            username=name,
            display_name=name.title(),
            password=PASSWORD,
            roles=[Role.AGENT],
            skills=[SkillLevel(skill=s, level=lvl) for s, lvl in skills.items()],
        ),
    )
    if ext:
        await app.admin.create_extension(
            SYSTEM, ExtensionCreate(number=ext, password="sip-Secret-99", staff=name)
        )


@pytest.fixture
async def acd(application: Application) -> AsyncIterator[Application]:
    await migrate.upgrade(application.db)
    for code in ("booking", "refund"):
        await application.admin.create_skill(SYSTEM, SkillIn(code=code, name_zh=code, name_en=code))
    await add_agent(application, "limin", "1001", {"booking": 5})
    await add_agent(application, "wang", "1002", {"booking": 3, "refund": 4})
    await add_agent(application, "nophone", None, {"booking": 5})
    application.acd_runtime.phones = FakePhones()
    await application.acd_runtime.start()
    yield application
    await application.acd_runtime.stop()


def phones(app: Application) -> FakePhones:
    assert isinstance(app.acd_runtime.phones, FakePhones)
    return app.acd_runtime.phones


async def booking(app: Application, **kw: object) -> None:
    await app.acd.put_reason(SYSTEM, ReasonCodeIn(code="lunch", name_zh="午餐", name_en="Lunch"))
    await app.acd.create_queue(
        SYSTEM,
        QueueIn(
            code="booking",
            name_zh="订票",
            name_en="Booking",
            skills=[SkillNeedIn(skill="booking", min_level=2)],
            wrap_up=20,
            **kw,  # type: ignore[arg-type]
        ),
    )
    for agent in ("limin", "wang"):
        await app.acd.set_member(SYSTEM, "booking", MembershipIn(agent=agent))


async def test_a_queued_call_rings_the_best_free_agent_and_the_log_is_stored(
    acd: Application, clock: FixedClock
) -> None:
    await booking(acd)
    runtime = acd.acd_runtime
    runtime.login("wang")
    clock.advance(timedelta(seconds=5))
    runtime.login("limin")
    outcome = await runtime.enqueue(
        CallRef("call-1"), "booking", [], 0, CallerInfo(number="+8613800000001")
    )
    assert outcome.status is EnqueueStatus.RINGING
    await runtime.settle()
    assert phones(acd).of("ring") == [("ring", "call-1", "1002")]  # wang idle longest
    clock.advance(timedelta(seconds=3))
    assert runtime.answered("call-1", "1002")
    clock.advance(timedelta(seconds=60))
    runtime.call_ended("call-1", "agent")
    await runtime.settle()
    assert ("connect", "call-1", "1002") in phones(acd).done
    await runtime.writer.drain()
    log = await read_log(acd.db, call_id="call-1")
    assert [e.event for e in log] == [
        QueueEvent.ENTER,
        QueueEvent.OFFER,
        QueueEvent.CONNECT,
        QueueEvent.COMPLETE,
    ]
    assert (log[2].wait, log[3].talk, log[3].data["hung_up_by"]) == (3.0, 60.0, "agent")
    agent_log = await read_log(acd.db, agent="wang")
    assert QueueEvent.AGENT_LOGIN in {e.event for e in agent_log}
    live = runtime.router.agents["wang"]
    assert live.state.value == "wrap_up"


async def test_waiting_caller_gets_position_and_an_estimate_then_abandons(
    acd: Application, clock: FixedClock
) -> None:
    await booking(acd)
    runtime = acd.acd_runtime
    runtime.login("limin")
    await runtime.enqueue(CallRef("c1"), "booking", [], 0, CallerInfo())
    second = await runtime.enqueue(CallRef("c2"), "booking", [], 0, CallerInfo())
    assert (second.status, second.position) == (EnqueueStatus.QUEUED, 2)
    assert second.estimated_wait == 2 * 180  # no history yet: the queue's default handle time
    clock.advance(timedelta(seconds=12))
    runtime.caller_hung_up("c2")
    await runtime.writer.drain()
    log = await read_log(acd.db, call_id="c2")
    (abandon,) = [e for e in log if e.event is QueueEvent.ABANDON]
    assert (abandon.position, abandon.wait) == (2, 12.0)
    assert ("music", "c2", "default") in phones(acd).done


async def test_enqueue_and_wait_hands_back_on_max_wait(acd: Application, clock: FixedClock) -> None:
    await booking(acd, max_wait=30)
    runtime = acd.acd_runtime
    runtime.login("limin")
    runtime.pause("limin", "lunch")
    waiting = asyncio.create_task(
        runtime.enqueue_and_wait(CallRef("c9"), "booking", [], 0, CallerInfo())
    )
    while "c9" not in runtime.router.calls:
        await asyncio.sleep(0)
    clock.advance(timedelta(seconds=30))
    runtime.tick()
    assert await asyncio.wait_for(waiting, 5) == ("timeout", None)
    await runtime.settle()
    assert ("stop_music", "c9") in phones(acd).done
    assert phones(acd).of("voicemail") == []  # the IVR takes the caller back


async def test_enqueue_and_wait_returns_the_agent_who_answered(acd: Application) -> None:
    await booking(acd)
    runtime = acd.acd_runtime
    runtime.login("limin")
    waiting = asyncio.create_task(
        runtime.enqueue_and_wait(
            CallRef("c5"), "booking", [SkillNeed("booking", 5)], 3, CallerInfo()
        )
    )
    while "c5" not in runtime.router.calls:
        await asyncio.sleep(0)
    assert runtime.answered("c5", "1001")
    assert await asyncio.wait_for(waiting, 5) == ("connected", "limin")


async def test_a_callback_rings_the_agent_then_dials_the_customer(
    acd: Application, clock: FixedClock
) -> None:
    await booking(acd, max_wait=30, overflow=OverflowIn(kind=OverflowKind.CALLBACK))
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    outcome = await runtime.enqueue(
        CallRef("cb"), "booking", [], 0, CallerInfo(number="+8613900000002")
    )
    assert outcome.status is EnqueueStatus.QUEUED
    clock.advance(timedelta(seconds=30))
    runtime.tick()
    await runtime.settle()
    assert phones(acd).of("hang_up") == [("hang_up", "cb", "callback_requested")]
    runtime.caller_hung_up("cb")  # the caller's leg ends: the request stays
    runtime.ready("limin")
    await runtime.settle()
    assert phones(acd).of("ring")[-1] == ("ring", "cb", "1001")
    runtime.answered("cb", "1001")
    await runtime.settle()
    assert phones(acd).of("dial_customer") == [("dial_customer", "cb", "1001", "+8613900000002")]


async def wait_until_queued(runtime: AcdRuntime, call_id: str) -> None:
    while call_id not in runtime.router.calls:
        await asyncio.sleep(0)


async def test_the_message_key_takes_a_waiting_caller_to_the_message_box(
    acd: Application, clock: FixedClock
) -> None:
    await booking(acd, message_key="1", callback_key="2")
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    waiting = asyncio.create_task(
        runtime.enqueue_and_wait(CallRef("m1"), "booking", [], 0, CallerInfo(number="+8613700"))
    )
    await wait_until_queued(runtime, "m1")
    await runtime.settle()
    assert phones(acd).keys["m1"].message == "1"
    assert runtime.key_pressed("m1", "5") is None  # not a key of this queue: still waiting
    clock.advance(timedelta(seconds=12))
    assert runtime.key_pressed("m1", "1") == "voicemail"
    assert await asyncio.wait_for(waiting, 5) == ("voicemail", None)
    assert "m1" not in runtime.router.calls
    await runtime.writer.drain()
    (left,) = [
        e for e in await read_log(acd.db, call_id="m1") if e.event is QueueEvent.EXIT_WITH_KEY
    ]
    assert (left.position, left.wait, left.data["key"]) == (1, 12.0, "1")
    assert runtime.stats.queues["booking"].messages == 1
    await runtime.settle()
    assert phones(acd).of("voicemail") == []  # the IVR records it (its box makes a work order)


async def test_a_message_key_without_the_ivr_records_in_the_queue_box(acd: Application) -> None:
    await booking(acd, message_key="#")
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    await runtime.enqueue(CallRef("m2"), "booking", [], 0, CallerInfo())
    assert runtime.key_pressed("m2", "#") == "voicemail"
    await runtime.settle()
    assert phones(acd).of("voicemail") == [("voicemail", "m2", "booking")]


async def test_the_callback_key_keeps_the_callers_place(acd: Application) -> None:
    await booking(acd, message_key="1", callback_key="2")
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    await runtime.enqueue(CallRef("k1"), "booking", [], 0, CallerInfo(number="+8613900000003"))
    await runtime.enqueue(CallRef("k2"), "booking", [], 0, CallerInfo(number="+8613900000004"))
    assert runtime.key_pressed("k1", "2") == "callback"
    await runtime.settle()
    assert phones(acd).of("hang_up") == [("hang_up", "k1", "callback_requested")]
    runtime.caller_hung_up("k1")  # the caller's leg ends: the request keeps its place
    assert runtime.key_pressed("k1", "1") is None  # a callback no longer listens
    runtime.ready("limin")
    await runtime.settle()
    assert phones(acd).of("ring") == [("ring", "k1", "1001")]  # ahead of k2, as before
    assert runtime.router.position("k2") == 2


async def test_anonymous_callers_cannot_ask_for_a_callback(acd: Application) -> None:
    await booking(acd, callback_key="2")
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    await runtime.enqueue(CallRef("anon"), "booking", [], 0, CallerInfo())
    assert runtime.key_pressed("anon", "2") is None
    assert runtime.router.position("anon") == 1


def test_waiting_keys_are_checked() -> None:
    with pytest.raises(InvalidInput) as same:
        QueueIn(code="q", name_zh="队", name_en="Q", message_key="1", callback_key="1").to_config()
    assert same.value.details["field"] == "callback_key"
    with pytest.raises(ValidationError) as two:
        QueueIn(code="q", name_zh="队", name_en="Q", message_key="12")
    assert two.value.errors()[0]["loc"] == ("message_key",)


async def test_bad_configuration_is_refused_with_the_field_named(acd: Application) -> None:
    await booking(acd)
    with pytest.raises(UnknownQueue) as missing:
        await acd.acd.create_queue(
            SYSTEM,
            QueueIn(
                code="vip",
                name_zh="贵宾",
                name_en="VIP",
                overflow=OverflowIn(kind=OverflowKind.QUEUE, target_queue="nowhere"),
            ),
        )
    assert missing.value.details["field"] == "overflow"
    with pytest.raises(UnknownAgent):
        await acd.acd.set_member(SYSTEM, "booking", MembershipIn(agent="nophone"))
    with pytest.raises(InvalidInput) as reason:
        acd.acd_runtime.pause("limin", "karaoke")
    assert reason.value.details["field"] == "reason"
    assert [q.code for q in await acd.acd.list_queues()] == ["booking"]


async def test_a_new_process_loads_queues_members_and_reasons(acd: Application) -> None:
    await booking(acd)
    await acd.acd.set_member(SYSTEM, "booking", MembershipIn(agent="wang", penalty=2))
    fresh = build_runtime(acd.db, acd.clock, acd.bus, acd.settings.zone)
    await AcdAdmin(acd.db, acd.clock, acd.bus, acd.admin, fresh).load()
    assert set(fresh.router.queues) == {"booking"}
    assert fresh.router.queues["booking"].members["wang"].penalty == 2
    assert fresh.router.agents["wang"].skills == {"booking": 3, "refund": 4}
    assert fresh.reasons == {"lunch"}
    members = await acd.acd.list_members("booking")
    assert [(m.agent, m.penalty) for m in members] == [("limin", 0), ("wang", 2)]


def test_callers_hear_the_keys_of_their_queue_in_their_language() -> None:
    both = WaitingKeys(message="1", callback="#")
    assert key_hints(both, "zh") == "如需留言，请按1。如需挂机等候回电并保留排队位置，请按井号键。"
    assert key_hints(WaitingKeys(message="*"), "en") == "To leave a message, press star."
    assert key_hints(WaitingKeys(), "en") == ""


async def test_the_periodic_message_follows_the_position_in_the_callers_language(
    acd: Application, clock: FixedClock
) -> None:
    await booking(acd, announce_every=30, periodic_message_zh="春运期间请提前购票。",
                  periodic_message_en="Book early during the holidays.")  # fmt: skip
    runtime = acd.acd_runtime
    runtime.login("limin", paused_reason="lunch")
    await runtime.enqueue(CallRef("zh1"), "booking", [], 0, CallerInfo())
    await runtime.enqueue(CallRef("en1"), "booking", [], 0, CallerInfo(language="en"))
    clock.advance(timedelta(seconds=30))
    runtime.tick()
    await runtime.settle()
    said = {p[1]: p for p in phones(acd).of("play")}
    assert "春运期间请提前购票。" in said["zh1"]
    assert "Book early during the holidays." in said["en1"]
    assert "2" in said["en1"]  # the position comes first, as before


def test_a_periodic_message_is_limited() -> None:
    with pytest.raises(ValidationError):
        QueueIn(code="q", name_zh="队", name_en="Q", periodic_message_en="x" * 301)
