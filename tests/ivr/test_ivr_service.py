"""Announcements and the call log on the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from ticketline.admin.models import AuditEntry
from ticketline.admin.security import Actor
from ticketline.app import Application
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.events import IvrCallEnded
from ticketline.ivr.loader import load_file
from ticketline.ivr.schemas import AnnouncementIn
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script

from .conftest import FLOWS, OPEN

BOSS = Actor(id=None, name="duty manager")


def notice(flow: str | None, zh: str, en: str, start_h: int, end_h: int) -> AnnouncementIn:
    return AnnouncementIn(
        flow=flow,
        text_zh=zh,
        text_en=en,
        starts_at=OPEN + timedelta(hours=start_h),
        ends_at=OPEN + timedelta(hours=end_h),
    )


async def test_announcements_play_before_the_menu_only_in_their_window(
    application: Application,
) -> None:
    application.clock.set(OPEN)  # type: ignore[attr-defined]
    notices = application.ivr.announcements
    assert notices is not None
    await notices.create(
        BOSS, notice(None, "因大雪部分班次停运。", "Some trips are cancelled.", -1, 2)
    )
    await notices.create(
        BOSS, notice("hotline", "春运购票提醒。", "Spring Festival notice.", -2, 1)
    )
    await notices.create(BOSS, notice(None, "已过期。", "Expired.", -5, -1))
    await notices.create(BOSS, notice("theatre", "剧院通知。", "Theatre notice.", -1, 1))
    active = await notices.active("hotline", OPEN)
    assert [a["en"] for a in active] == ["Some trips are cancelled.", "Spring Festival notice."]
    ivr = application.ivr
    ivr.prompts = TextPrompts()
    ivr.queue = SimulatedQueue()
    call = SimulatedCall(parse_script("2,0"))
    await ivr.handle_call(call)
    said = [line for line in call.transcript if line.startswith("say[en]")]
    assert said[:3] == [
        "say[en] Some trips are cancelled.",
        "say[en] Spring Festival notice.",
        said[2],
    ]
    assert said[2].startswith("say[en] For timetables and fares")
    async with application.db.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("ivr.announcement.create") == 4


async def test_removed_announcements_stop_playing(application: Application) -> None:
    notices = application.ivr.announcements
    assert notices is not None
    created = await notices.create(BOSS, notice(None, "通知。", "Notice.", -1, 1))
    await notices.delete(BOSS, created.id)
    assert await notices.active("hotline", OPEN) == []


async def test_every_call_is_logged_and_added_up_per_node(application: Application) -> None:
    application.clock.set(OPEN)  # type: ignore[attr-defined]
    ivr = application.ivr
    log = ivr.call_log
    assert log is not None
    application.bus.subscribe(IvrCallEnded, log.record)
    ivr.prompts = TextPrompts()
    ivr.queue = SimulatedQueue()
    ivr.flows.reload()

    async def points(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        return ActionResult("ok", {"reply": {"zh": "您有一百积分。", "en": "You have 100 points."}})

    async def identify(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        return ActionResult("ok", {"customer": {"id": "c1", "name": "Li"}, "self_service": False})

    ivr.actions.bind("points_balance", points)
    ivr.actions.bind("identify_caller", identify)
    for index, keys in enumerate(["1,5,9,h", "1,0", "2,5,h", "1,,,,"]):
        await ivr.handle_call(SimulatedCall(parse_script(keys), call_id=f"c{index}"))
    stats = await log.stats("hotline", OPEN - timedelta(hours=1), OPEN + timedelta(hours=1))
    assert stats.calls == 4
    assert stats.outcomes == {"caller_hangup": 2, "queued": 2}
    assert stats.contained == 2  # heard their points and hung up
    assert stats.nodes["main"].entries == 5
    assert stats.nodes["main"].exits["5"] == 2
    assert stats.nodes["main"].timeouts == 3
    assert stats.nodes["points_lookup"].exits["ok"] == 2
    empty = await log.stats("hotline", OPEN + timedelta(days=1), OPEN + timedelta(days=2))
    assert empty.calls == 0


def test_the_hotline_lookups_are_all_declared(application: Application) -> None:
    flow = load_file(FLOWS / "hotline.yaml", application.ivr.actions.names())
    assert flow.name == "hotline"
