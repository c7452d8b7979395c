"""Attachments on a work order over HTTP: an agent uploads a photo and a letter, a
colleague downloads the same bytes; oversized, mislabelled and unknown files are refused
with nothing kept on disk; a removed attachment leaves its trace in the log."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.webclient import bearer
from ticketline.app import Application

BOUNDARY = "tl-test-boundary"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\xff\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _multipart(filename: str, content: bytes) -> tuple[bytes, dict[str, str]]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nfrom the desk\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


async def _order(client: httpx.AsyncClient, agent: dict[str, str]) -> str:
    opened = await client.post(
        "/api/workorders",
        json={"type": "lost_property", "title": "遗失黑色背包", "department": "customer-care",
              "phone": "13800138000"},
        headers=agent,
    )  # fmt: skip
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _kept_files(app: Application) -> list[Path]:
    folder = app.settings.effective_attachments_dir
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


async def test_uploaded_files_come_back_byte_for_byte(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    agent = await bearer(client, "agent1")
    order = await _order(client, agent)
    photo = _png()
    body, headers = _multipart("C:\\Users\\li\\背包照片.PNG", photo)
    uploaded = await client.post(
        f"/api/workorders/{order}/attachments", content=body, headers=headers | agent
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["filename"] == "背包照片.PNG"  # the client's folder is dropped
    assert attachment["content_type"] == "image/png"
    assert attachment["size_bytes"] == len(photo)
    assert attachment["uploaded_by"] == "agent1"
    letter, headers = _multipart("letter.pdf", b"%PDF-1.4\n% complaint letter\n%%EOF\n")
    assert (
        await client.post(
            f"/api/workorders/{order}/attachments", content=letter, headers=headers | agent
        )
    ).status_code == 201

    colleague = await bearer(client, "agent2")
    listed = await client.get(f"/api/workorders/{order}/attachments", headers=colleague)
    assert [a["filename"] for a in listed.json()] == ["背包照片.PNG", "letter.pdf"]
    download = await client.get(
        f"/api/workorders/{order}/attachments/{attachment['id']}", headers=colleague
    )
    assert download.status_code == 200
    assert download.content == photo
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in download.headers["content-disposition"]
    detail = await client.get(f"/api/workorders/{order}", headers=colleague)
    assert [e["comment"] for e in detail.json()["log"] if e["kind"] == "attachment"] == [
        "背包照片.PNG",
        "letter.pdf",
    ]
    kept = _kept_files(demo_app)
    assert len(kept) == 2
    assert all(".incoming" not in p.parts for p in kept)


async def test_refused_uploads_leave_nothing_behind(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    agent = await bearer(client, "agent1")
    order = await _order(client, agent)
    url = f"/api/workorders/{order}/attachments"
    cases = {
        "fake.pdf": (b"MZ\x90\x00 this is a program", 422, "invalid_input"),
        "tool.exe": (b"MZ\x90\x00", 422, "invalid_input"),
        "empty.txt": (b"", 422, "invalid_input"),
        "binary.txt": (b"\x00\x01\x02", 422, "invalid_input"),
    }
    for name, (content, status, code) in cases.items():
        body, headers = _multipart(name, content)
        refused = await client.post(url, content=body, headers=headers | agent)
        assert (refused.status_code, refused.json()["code"]) == (status, code), name
        assert refused.json()["details"]["field"] == "file"
    no_file = await client.post(
        url, content=f"--{BOUNDARY}--\r\n".encode(), headers=_multipart("x", b"")[1] | agent
    )
    assert no_file.status_code == 422
    not_multipart = await client.post(url, json={"file": "x"}, headers=agent)
    assert not_multipart.status_code == 422
    assert (await client.post(url, content=b"", headers=_multipart("a", b"")[1])).status_code == 401
    missing = await client.post(
        "/api/workorders/nope/attachments",
        content=_multipart("a.txt", b"hi")[0],
        headers=_multipart("a.txt", b"hi")[1] | agent,
    )
    assert missing.status_code == 404
    assert _kept_files(demo_app) == []
    assert (await client.get(url, headers=agent)).json() == []


async def test_an_oversized_upload_is_stopped_at_the_limit(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    demo_app.attachments.max_bytes = 100_000
    agent = await bearer(client, "agent1")
    order = await _order(client, agent)
    head, headers = _multipart("scan.pdf", b"%PDF-")
    head = head[: -len(f"\r\n--{BOUNDARY}--\r\n")]
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield head
        while sent < 10_000_000:  # a client that would go on for 10 MB
            sent += 8192
            yield b"0" * 8192

    refused = await client.post(
        f"/api/workorders/{order}/attachments", content=endless(), headers=headers | agent
    )
    assert refused.status_code == 413
    assert refused.json()["code"] == "attachment_too_large"
    assert refused.json()["details"]["max_bytes"] == 100_000
    assert sent < 1_000_000  # the server stopped reading soon after the limit
    declared = await client.post(
        f"/api/workorders/{order}/attachments",
        content=b"x",
        headers=headers | agent | {"content-length": "50000000"},
    )
    assert declared.status_code == 413
    assert _kept_files(demo_app) == []


async def test_a_removed_attachment_is_gone_but_logged(
    client: httpx.AsyncClient, demo_app: Application
) -> None:
    agent = await bearer(client, "agent1")
    order = await _order(client, agent)
    body, headers = _multipart("receipt.txt", "发票号 0042\n".encode())
    attachment = (
        await client.post(
            f"/api/workorders/{order}/attachments", content=body, headers=headers | agent
        )
    ).json()
    url = f"/api/workorders/{order}/attachments/{attachment['id']}"
    assert (await client.delete(url, headers=agent)).status_code == 204
    assert (await client.get(url, headers=agent)).status_code == 404
    assert (await client.delete(url, headers=agent)).status_code == 404
    assert (await client.get(f"/api/workorders/{order}/attachments", headers=agent)).json() == []
    assert _kept_files(demo_app) == []
    log = (await client.get(f"/api/workorders/{order}", headers=agent)).json()["log"]
    assert [(e["kind"], e["comment"]) for e in log[-2:]] == [
        ("attachment", "receipt.txt"),
        ("attachment_removed", "receipt.txt"),
    ]
