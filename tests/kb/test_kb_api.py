"""The knowledge base over HTTP: agents search and read, editors write; errors name fields."""

from __future__ import annotations

import httpx

from tests.webclient import bearer


async def test_an_agent_searches_the_demo_articles_in_both_languages(
    client: httpx.AsyncClient,
) -> None:
    agent = await bearer(client, "agent1")
    zh = await client.get("/api/kb/search", params={"q": "退票手续费"}, headers=agent)
    assert zh.status_code == 200, zh.text
    assert zh.json()[0]["title"] == "退票手续费规则"
    en = await client.get("/api/kb/search", params={"q": "lost", "language": "en"}, headers=agent)
    assert en.json()[0]["title"] == "Lost property"
    suggested = await client.get(
        "/api/kb/suggestions", params={"work_order_type": "lost_property"}, headers=agent
    )
    assert {a["title"] for a in suggested.json()} == {"遗失物品查找", "Lost property"}


async def test_only_editors_write_and_every_edit_is_a_version(client: httpx.AsyncClient) -> None:
    agent, admin = await bearer(client, "agent1"), await bearer(client, "admin")
    body = {"title": "退款到账时间", "body": "原路退回，3至7个工作日到账。", "category": "refund"}
    refused = await client.post("/api/kb/articles", json=body, headers=agent)
    assert refused.status_code == 403
    created = await client.post("/api/kb/articles", json=body, headers=admin)
    assert created.status_code == 201, created.text
    article_id = created.json()["id"]
    edited = await client.put(
        f"/api/kb/articles/{article_id}", json={**body, "body": "原路退回，7个工作日内到账。"},
        headers=admin,
    )  # fmt: skip
    assert edited.json()["version"] == 2
    versions = await client.get(f"/api/kb/articles/{article_id}/versions", headers=agent)
    assert [v["version"] for v in versions.json()] == [2, 1]
    found = await client.get("/api/kb/search", params={"q": "到账"}, headers=agent)
    assert found.json()[0]["id"] == article_id


async def test_bad_input_is_named_and_unknown_articles_are_404(
    client: httpx.AsyncClient,
) -> None:
    admin = await bearer(client, "admin")
    bad = await client.post(
        "/api/kb/articles", json={"title": "x", "body": "y", "category": "有空格 !"}, headers=admin
    )
    assert bad.status_code == 422
    assert "category" in bad.text
    missing = await client.get("/api/kb/articles/nope", headers=admin)
    assert missing.status_code == 404
    empty = await client.get("/api/kb/search", params={"q": ""}, headers=admin)
    assert empty.status_code == 422


async def test_articles_are_listed_by_category_and_read_as_safe_html(
    client: httpx.AsyncClient,
) -> None:
    agent, admin = await bearer(client, "agent1"), await bearer(client, "admin")
    everything = await client.get("/api/kb/articles", params={"size": 100}, headers=agent)
    assert everything.status_code == 200, everything.text
    listing = everything.json()
    assert listing["total"] == 30
    assert {"refund", "pickup"} <= set(listing["categories"])
    english = await client.get(
        "/api/kb/articles", params={"category": "refund", "language": "en"}, headers=agent
    )
    assert [a["title"] for a in english.json()["items"]] == ["Refund fees"]

    body = "# 行李\n\n**20 kg** free. <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    created = await client.post(
        "/api/kb/articles", json={"title": "行李", "body": body, "category": "luggage"},
        headers=admin,
    )  # fmt: skip
    html = created.json()["html"]
    assert "<h1>行李</h1>" in html
    assert "<strong>20 kg</strong>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text, not a tag
    assert "<a " not in html  # a javascript: link is not made a link
