"""The IVR's HTTP API: flows, reload, announcements, recordings and statistics."""

from __future__ import annotations

import io
import wave

import httpx

from tests.webclient import bearer


def _wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x10\x00" * int(rate * seconds))
    return out.getvalue()


async def test_admin_lists_and_reloads_flows(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    flows = (await client.get("/api/ivr/flows", headers=admin)).json()
    assert {f["name"] for f in flows} == {"hotline", "theatre"}
    hotline = next(f for f in flows if f["name"] == "hotline")
    assert "95105" in hotline["numbers"]
    reloaded = await client.post("/api/ivr/flows/reload", headers=admin)
    assert reloaded.json() == {"loaded": [], "removed": [], "problems": []}
    agent = await bearer(client, "agent1")
    assert (await client.get("/api/ivr/flows", headers=agent)).status_code == 403


async def test_announcements_are_validated_created_and_removed(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    bad = await client.post(
        "/api/ivr/announcements",
        headers=admin,
        json={
            "text_zh": "通知",
            "text_en": "Notice",
            "starts_at": "2026-11-22T12:00:00+08:00",
            "ends_at": "2026-11-22T10:00:00+08:00",
        },
    )
    assert bad.status_code == 422
    assert "ends_at must be after starts_at" in bad.text
    body = {
        "flow": "hotline",
        "text_zh": "因大雪部分班次停运。",
        "text_en": "Some trips are cancelled because of snow.",
        "starts_at": "2026-11-22T08:00:00+08:00",
        "ends_at": "2026-11-23T08:00:00+08:00",
    }
    created = await client.post("/api/ivr/announcements", headers=admin, json=body)
    assert created.status_code == 201, created.text
    listed = (await client.get("/api/ivr/announcements", headers=admin)).json()
    assert [a["text_zh"] for a in listed] == ["因大雪部分班次停运。"]
    gone = await client.delete(f"/api/ivr/announcements/{created.json()['id']}", headers=admin)
    assert gone.status_code == 204
    assert (await client.get("/api/ivr/announcements", headers=admin)).json() == []


async def test_a_recording_replaces_a_prompt_and_bad_files_are_refused(
    client: httpx.AsyncClient,
) -> None:
    admin = await bearer(client, "admin")
    ok = await client.put("/api/ivr/prompts/hotline.main/zh", headers=admin, content=_wav())
    assert ok.status_code == 204
    bad = await client.put("/api/ivr/prompts/hotline.main/zh", headers=admin, content=b"junk")
    assert bad.status_code == 422
    assert bad.json()["details"]["field"] == "file"
    removed = await client.delete("/api/ivr/prompts/hotline.main/zh", headers=admin)
    assert removed.status_code == 204
    again = await client.delete("/api/ivr/prompts/hotline.main/zh", headers=admin)
    assert again.status_code == 404


async def test_stats_need_reports_permission(client: httpx.AsyncClient) -> None:
    supervisor = await bearer(client, "supervisor")
    stats = await client.get("/api/ivr/stats/hotline", headers=supervisor)
    assert stats.status_code == 200, stats.text
    assert stats.json()["calls"] == 0
    agent = await bearer(client, "agent1")
    assert (await client.get("/api/ivr/stats/hotline", headers=agent)).status_code == 403
