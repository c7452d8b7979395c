"""The API as a program sees it: tokens, permissions, validation errors, CSRF, probes."""

from __future__ import annotations

import httpx
import pytest

from tests.webclient import bearer, browser_login

NEW_STAFF = {
    "username": "agent9",
    "display_name": "赵六",
    "password": "Strong-Pass-99",
    "roles": ["agent"],
    "department": "callcenter",
}


async def test_no_token_means_401_with_a_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/admin/staff")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Basic YWRtaW46eA=="])
async def test_bad_tokens_are_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/admin/staff", headers={"authorization": header})
    assert response.status_code == 401


async def test_wrong_password_gets_no_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/token", json={"username": "admin", "password": "Wrong-one-123"}
    )
    assert response.status_code == 401
    assert response.json()["message"] == "wrong username or password"


async def test_an_agent_cannot_reach_admin_endpoints(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "agent1")
    for method, path in [
        ("GET", "/api/admin/audit"),
        ("POST", "/api/admin/staff"),
        ("PATCH", "/api/admin/extensions/1001"),
    ]:
        response = await client.request(method, path, headers=headers, json=NEW_STAFF)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "permission_denied"


async def test_a_supervisor_reads_staff_but_cannot_change_them(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "supervisor")
    listing = await client.get("/api/admin/staff", headers=headers)
    assert listing.status_code == 200
    agent1 = next(s for s in listing.json() if s["username"] == "agent1")
    assert agent1["extension"] == "1001"
    assert {"skill": "booking", "level": 5} in agent1["skills"]
    response = await client.post("/api/admin/staff", headers=headers, json=NEW_STAFF)
    assert response.status_code == 403


async def test_admin_creates_staff_and_the_audit_api_shows_it(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "admin")
    created = await client.post("/api/admin/staff", headers=headers, json=NEW_STAFF)
    assert created.status_code == 201, created.text
    assert created.json()["department"] == "callcenter"
    audit = await client.get(
        "/api/admin/audit",
        headers=headers,
        params={"action": "staff.create", "entity_id": created.json()["id"]},
    )
    [entry] = audit.json()["items"]
    assert entry["actor"] == "admin"
    assert entry["after"]["username"] == "agent9"
    assert entry["source_ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "a"}, "username"),
        ({"username": "x" * 65}, "username"),
        ({"username": "bad name!"}, "username"),
        ({"display_name": 42}, "display_name"),
        ({"roles": ["pilot"]}, "roles.0"),
        ({"roles": []}, "roles"),
        ({"locale": "fr"}, "locale"),
        ({"salary": 100}, "salary"),
        ({"skills": [{"skill": "booking", "level": 9}]}, "skills.0.level"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    headers = await bearer(client, "admin")
    response = await client.post("/api/admin/staff", headers=headers, json=NEW_STAFF | change)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert field in [e["field"] for e in body["details"]["errors"]]
    listing = await client.get("/api/admin/staff", headers=headers)
    assert "agent9" not in [s["username"] for s in listing.json()]


async def test_weak_password_and_duplicate_username_get_clear_errors(
    client: httpx.AsyncClient,
) -> None:
    headers = await bearer(client, "admin")
    weak = await client.post(
        "/api/admin/staff", headers=headers, json=NEW_STAFF | {"password": "12345"}
    )
    assert weak.status_code == 422
    assert weak.json()["details"]["field"] == "password"
    duplicate = await client.post(
        "/api/admin/staff", headers=headers, json=NEW_STAFF | {"username": "agent1"}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "username_taken"


async def test_malformed_json_is_a_422_not_a_crash(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "admin") | {"content-type": "application/json"}
    response = await client.post("/api/admin/staff", headers=headers, content=b"{not json")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


async def test_cookie_sessions_need_the_csrf_header_for_api_writes(
    client: httpx.AsyncClient,
) -> None:
    await browser_login(client, "admin")
    refused = await client.post(
        "/api/admin/departments", json={"code": "x1", "name_zh": "甲", "name_en": "X"}
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    home = await client.get("/")
    csrf = home.text.split('"X-CSRF-Token": "')[1].split('"')[0]
    accepted = await client.post(
        "/api/admin/departments",
        headers={"x-csrf-token": csrf},
        json={"code": "x1", "name_zh": "甲", "name_en": "X"},
    )
    assert accepted.status_code == 201


async def test_logout_revokes_the_token(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "agent2")
    assert (await client.get("/api/auth/me", headers=headers)).json()["username"] == "agent2"
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 401


async def test_login_attempts_are_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    codes = []
    for n in range(25):
        response = await client.post(
            "/api/auth/token", json={"username": f"ghost{n}", "password": "x"}
        )
        codes.append(response.status_code)
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}


async def test_health_metrics_and_openapi(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    assert health.json()["status"] == "ok"
    assert health.json()["database"] == "ok"
    metrics = await client.get("/metrics")
    assert "python_info" in metrics.text
    spec = (await client.get("/openapi.json")).json()
    assert "/api/admin/staff" in spec["paths"]
    assert (await client.get("/docs")).status_code == 200
