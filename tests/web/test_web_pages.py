"""Pages as a browser gets them: login, home, language, permissions, audit."""

from __future__ import annotations

import httpx

from tests.webclient import bearer, browser_login


async def test_pages_redirect_to_login_when_signed_out(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"


async def test_login_shows_the_home_page_in_chinese(client: httpx.AsyncClient) -> None:
    response = await browser_login(client, "admin")
    assert response.status_code == 303
    home = await client.get("/")
    assert "欢迎，系统管理员" in home.text
    assert "审计日志" in home.text


async def test_wrong_password_shows_an_error_on_the_form(client: httpx.AsyncClient) -> None:
    response = await browser_login(client, "admin", "Not-the-password-1")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text


async def test_a_forged_login_form_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/login",
        data={
            "username": "admin",
            "password": "Ticketline2026",
            "csrf_token": "forged",
            "next": "/",
        },
    )
    assert response.status_code == 400
    assert "tl_session" not in response.cookies


async def test_login_never_redirects_off_site(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    token = form.text.split('id="login-csrf" name="csrf_token" value="')[1].split('"')[0]
    response = await client.post(
        "/login",
        data={
            "username": "admin",
            "password": "Ticketline2026",
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
    )
    assert response.headers["location"] == "/"


async def test_language_switch_is_remembered_for_the_user(client: httpx.AsyncClient) -> None:
    await browser_login(client, "agent1")
    home = await client.get("/")
    csrf = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    await client.post("/lang", data={"locale": "en", "next": "/", "csrf_token": csrf})
    assert "Welcome, 李敏" in (await client.get("/")).text
    client.cookies.clear()
    await browser_login(client, "agent1")
    assert "Welcome, 李敏" in (await client.get("/")).text


async def test_an_agent_does_not_see_or_open_the_audit_page(client: httpx.AsyncClient) -> None:
    await browser_login(client, "agent1")
    home = await client.get("/")
    assert "/admin/audit" not in home.text
    assert (await client.get("/admin/audit")).status_code == 403


async def test_audit_page_lists_logins(client: httpx.AsyncClient) -> None:
    await browser_login(client, "admin")
    page = await client.get("/admin/audit", params={"action": "auth.login"})
    assert page.status_code == 200
    assert "auth.login" in page.text
    assert "staff.create" not in page.text


async def test_logout_ends_the_session(client: httpx.AsyncClient) -> None:
    await browser_login(client, "admin")
    home = await client.get("/")
    csrf = home.text.split('name="csrf_token" value="')[1].split('"')[0]
    await client.post("/logout", data={"csrf_token": csrf})
    assert (await client.get("/", headers={"accept": "text/html"})).status_code == 303


async def test_service_pages_follow_permissions_and_the_status_page_is_public(
    client: httpx.AsyncClient,
) -> None:
    public = await client.get("/status")
    assert public.status_code == 200
    assert 'data-testid="status-page"' in public.text
    await browser_login(client, "agent1")
    home = await client.get("/")
    assert "/work-orders" in home.text
    assert "/kb" in home.text
    page = await client.get("/work-orders")
    assert page.status_code == 200
    assert '"canWrite": true' in page.text
    assert "customer-care" in page.text
    assert (await client.get("/kb")).status_code == 200


async def test_an_auditor_reads_work_orders_but_has_no_knowledge_base(
    client: httpx.AsyncClient,
) -> None:
    admin = await bearer(client, "admin")
    created = await client.post(
        "/api/admin/staff",
        json={"username": "audit1", "display_name": "审计", "password": "Audit-pass-2026",
              "roles": ["auditor"]},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    await browser_login(client, "audit1", "Audit-pass-2026")
    page = await client.get("/work-orders")
    assert page.status_code == 200
    assert '"canWrite": false' in page.text
    assert (await client.get("/kb")).status_code == 403
