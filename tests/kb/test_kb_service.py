"""The knowledge base on the real databases: versions, validity and ranked search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.kb.schemas import ArticleIn
from ticketline.kb.service import KnowledgeBase


def article(title: str, body: str, **extra: object) -> ArticleIn:
    return ArticleIn(title=title, body=body, category=str(extra.pop("category", "general")),
                     **extra)  # type: ignore[arg-type]  # fmt: skip


async def test_chinese_and_english_queries_find_the_right_article_first(
    application: Application,
) -> None:
    kb = application.kb
    refund = await kb.create(SYSTEM, article("退票手续费规则", "开车前8天以上退票免收手续费。"))
    await kb.create(SYSTEM, article("改签规则", "改签到更高票价的车次需补差价，不收退票费。"))
    luggage = await kb.create(SYSTEM, article("Luggage allowance", "Adults carry 20 kg free.",
                                              language="en"))  # fmt: skip
    await kb.create(SYSTEM, article("Refunds", "Refunds are free 8 days ahead.", language="en"))

    hits = await kb.search("退票手续费")
    assert hits[0].id == refund.id
    assert "手续费" in hits[0].snippet
    english = await kb.search("LUGGAGE allowance", language="en")
    assert [h.id for h in english] == [luggage.id]
    assert await kb.search("luggage", language="zh") == []


async def test_a_title_match_outranks_the_same_word_in_a_body(application: Application) -> None:
    kb = application.kb
    in_body = await kb.create(SYSTEM, article("退票须知", "退票时行李不需要带到窗口。"))
    in_title = await kb.create(SYSTEM, article("行李规定", "每位成人旅客可免费携带20公斤。"))
    assert [h.id for h in await kb.search("行李")] == [in_title.id, in_body.id]


async def test_an_edit_keeps_the_old_version_and_search_follows_the_new_text(
    application: Application,
) -> None:
    kb = application.kb
    first = await kb.create(SYSTEM, article("Pickup code", "Sent by SMS.", language="en"))
    edited = await kb.update(
        SYSTEM, first.id, article("Collecting tickets", "Use the code from the text message.",
                                  language="en"),
    )  # fmt: skip
    assert edited.version == 2
    versions = await kb.versions(first.id)
    assert [(v.version, v.title) for v in versions] == [
        (2, "Collecting tickets"),
        (1, "Pickup code"),
    ]
    assert await kb.search("pickup") == []
    assert [h.id for h in await kb.search("collecting")] == [first.id]


async def test_expired_articles_are_hidden_unless_asked_for(application: Application) -> None:
    kb = application.kb
    today = application.clock.now().astimezone(application.settings.zone).date()
    old = await kb.create(SYSTEM, article("春运退票规则", "春运期间退票按梯度收费。",
                                          valid_until=today - timedelta(days=1)))  # fmt: skip
    soon = await kb.create(SYSTEM, article("新年退票规则", "新规定明年起实行。",
                                           valid_from=today + timedelta(days=7)))  # fmt: skip
    assert await kb.search("退票规则") == []
    found = {h.id for h in await kb.search("退票规则", include_expired=True)}
    assert found == {old.id, soon.id}


async def test_suggestions_for_a_work_order_type(application: Application) -> None:
    kb = application.kb
    lost = await kb.create(
        SYSTEM, article("遗失物品查找", "请提供车次和座位号。", work_order_types=["lost_property"])
    )
    await kb.create(SYSTEM, article("投诉处理流程", "两个工作日内回复。",
                                    work_order_types=["complaint"]))  # fmt: skip
    assert [h.id for h in await kb.suggest("lost_property")] == [lost.id]


async def test_a_restarted_process_finds_every_article(application: Application) -> None:
    saved = await application.kb.create(SYSTEM, article("儿童票", "1.2米以下免费。"))
    fresh = KnowledgeBase(application.db, application.clock, application.settings.zone)
    assert [h.id for h in await fresh.search("儿童票")] == [saved.id]


def test_bad_articles_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="valid_until"):
        article("t", "b", valid_from="2026-12-01", valid_until="2026-11-01")
    with pytest.raises(ValidationError, match="category"):
        article("t", "b", category="Not A Code!")
    with pytest.raises(ValidationError, match="title"):
        article("", "b")
