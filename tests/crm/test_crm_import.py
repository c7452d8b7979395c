"""Importing customers from CSV (UTF-8 with BOM, GB18030) and .xlsx: good rows imported,
bad rows reported by their spreadsheet row number and column, whole files refused."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import httpx
import pytest
from openpyxl import Workbook

from tests.webclient import bearer
from ticketline.admin.security import Actor
from ticketline.app import Application
from ticketline.core.paging import PageRequest
from ticketline.crm import imports
from ticketline.crm.errors import ImportRejected
from ticketline.crm.schemas import CustomerCreate, PhoneIn

AGENT = Actor(id=None, name="agent1")
GOLD = {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "rank": 1, "queue_priority": 5}


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    name: str,
    content: bytes,
    **params: str,
) -> httpx.Response:
    return await client.post(
        "/api/crm/customers/import",
        files={"file": (name, content, "application/octet-stream")},
        params=params,
        headers=headers,
    )


SHEET = [
    ["姓名", "手机", "性别", "生日", "会员等级", "标签", "备注", "语言", "微信"],
    ["李雷", "138 0013 8000; 021-6888 8888", "男", "1990-05-31", "金卡", "学生;常旅客", "靠窗",
     "中文", "lilei"],  # row 2
    ["韩梅梅", "12", "女", "", "", "", "", "", ""],  # row 3: bad phone
    ["", "13900139000", "", "", "", "", "", "", ""],  # row 4: no name
    [],  # row 5: blank, skipped but counted
    ["王芳", "13700137000", "女", "1990-02-30", "", "", "", "", ""],  # row 6: bad birthday
    ["张伟", "13600136000", "", "", "", "", "", "", ""],  # row 7: already a customer
    ["Lucy", "+86 138-0013-8000", "F", "", "", "", "", "en", ""],  # row 8: same as row 2
    ["Emma Chen", "13500135000", "F", "1988/7/1", "gold", "", "", "English", ""],  # row 9
]  # fmt: skip


async def test_good_rows_are_imported_and_bad_ones_reported_by_row_and_column(
    client: httpx.AsyncClient,
) -> None:
    admin = await bearer(client, "admin")
    assert (await client.put("/api/crm/tiers/gold", json=GOLD, headers=admin)).status_code == 200
    agent = await bearer(client, "agent1")
    existing = await client.post(
        "/api/crm/customers",
        json={"name": "张伟", "phones": [{"number": "13600136000"}]},
        headers=agent,
    )
    assert existing.status_code == 201
    answer = await upload(client, agent, "客户.csv", csv_bytes(SHEET))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["imported"], body["total"], body["dry_run"]) == (2, 7, False)
    assert body["ignored_columns"] == ["微信"]
    rejected = {r["row"]: r for r in body["rejected"]}
    assert {row: r["column"] for row, r in rejected.items()} == {
        3: "手机",
        4: "姓名",
        6: "生日",
        7: "手机",
        8: "手机",
    }
    assert "'12'" in rejected[3]["message"]
    assert "required" in rejected[4]["message"]
    assert "1990-02-30" in rejected[6]["message"]
    assert existing.json()["id"] in rejected[7]["message"]
    assert "row 2" in rejected[8]["message"]

    popped = await client.get("/api/crm/lookup", params={"number": "02168888888"}, headers=agent)
    assert popped.json()["name"] == "李雷"
    assert popped.json()["vip_tier"]["code"] == "gold"
    lilei = await client.get(f"/api/crm/customers/{popped.json()['customer_id']}", headers=agent)
    assert lilei.json()["birthday"] == "1990-05-31"
    assert lilei.json()["gender"] == "M"
    assert lilei.json()["tags"] == sorted(["学生", "常旅客"])
    assert lilei.json()["notes"] == "靠窗"
    assert [p["primary"] for p in lilei.json()["phones"]] == [True, False]
    emma = await client.get("/api/crm/lookup", params={"number": "13500135000"}, headers=agent)
    assert emma.json()["name"] == "Emma Chen"
    assert emma.json()["locale"] == "en"
    for absent in ("13900139000", "13700137000"):
        pop = await client.get("/api/crm/lookup", params={"number": absent}, headers=agent)
        assert pop.json()["known"] is False


async def test_a_dry_run_reports_the_same_and_writes_nothing(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    await client.put("/api/crm/tiers/gold", json=GOLD, headers=admin)
    agent = await bearer(client, "agent1")
    await client.post(
        "/api/crm/customers",
        json={"name": "张伟", "phones": [{"number": "13600136000"}]},
        headers=agent,
    )
    dry = await upload(client, agent, "客户.csv", csv_bytes(SHEET), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert dry.json()["imported"] == 2
    assert [r["row"] for r in dry.json()["rejected"]] == [3, 4, 6, 7, 8]
    for number in ("13800138000", "13500135000"):
        pop = await client.get("/api/crm/lookup", params={"number": number}, headers=agent)
        assert pop.json()["known"] is False


async def test_an_xlsx_file_with_numbers_and_dates_in_cells(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    content = xlsx_bytes(
        [
            ["Name", "Phone", "Birthday", "Tags", "ID Number"],
            ["Li Lei", 13800138000, datetime(1990, 5, 31), "student; frequent",
             "110101199005310012"],
            [None, None, None, None, None],
            ["Han Meimei", 13900139000, "not a date", None, None],
            ["Wang Fang", 13700137000, date(1985, 1, 2), None, "110101199005310012"],
        ]
    )  # fmt: skip
    answer = await upload(client, agent, "customers.xlsx", content)
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 1
    assert [(r["row"], r["column"]) for r in answer.json()["rejected"]] == [
        (4, "Birthday"),
        (5, "ID Number"),
    ]
    popped = await client.get("/api/crm/lookup", params={"number": "13800138000"}, headers=agent)
    customer = await client.get(f"/api/crm/customers/{popped.json()['customer_id']}", headers=agent)
    assert customer.json()["birthday"] == "1990-05-31"
    assert customer.json()["id_type"] == "id_card"
    assert customer.json()["tags"] == ["frequent", "student"]


async def test_the_rejected_rows_download_as_csv_that_excel_opens(
    client: httpx.AsyncClient,
) -> None:
    agent = await bearer(client, "agent1")
    answer = await upload(client, agent, "客户.csv", csv_bytes(SHEET[:4]), report="csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["row", "column", "message", "姓名"]
    assert [(r[0], r[1], r[3]) for r in rows[1:]] == [
        ("2", "会员等级", "李雷"),  # no tier 金卡 defined here
        ("3", "手机", "韩梅梅"),
        ("4", "姓名", ""),
    ]
    assert "金卡" in rows[1][2]
    assert answer.headers["x-imported"] == "0"


async def test_whole_files_are_refused_with_the_reason(client: httpx.AsyncClient) -> None:
    agent = await bearer(client, "agent1")
    cases = {
        "wrong type": ("customers.pdf", b"%PDF-1.4"),
        "old excel": ("customers.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100),
        "broken xlsx": ("customers.xlsx", b"PK\x03\x04 not really"),
        "no phone column": ("customers.csv", csv_bytes([["姓名", "备注"], ["李雷", "x"]])),
        "header only": ("customers.csv", csv_bytes([["name", "phone"]])),
        "empty": ("customers.csv", b""),
    }
    for case, (name, content) in cases.items():
        answer = await upload(client, agent, name, content)
        assert answer.status_code == 422, case
        assert answer.json()["code"] == "import_rejected", case
        assert answer.json()["details"]["field"] == "file"
    missing = await upload(client, agent, "c.csv", csv_bytes([["姓名", "备注"], ["李雷", "x"]]))
    assert "phone" in missing.json()["message"]
    pop = await client.get("/api/crm/lookup", params={"number": "13800138000"}, headers=agent)
    assert pop.json()["known"] is False


async def test_too_large_a_file_is_refused(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await bearer(client, "agent1")
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    rows = [["name", "phone"]] + [["李雷", f"1380013{n:04d}"] for n in range(20)]
    answer = await upload(client, agent, "c.csv", csv_bytes(rows))
    assert answer.status_code == 413
    assert answer.json()["code"] == "import_too_large"


async def test_only_those_who_create_customers_may_import(client: httpx.AsyncClient) -> None:
    admin = await bearer(client, "admin")
    created = await client.post(
        "/api/admin/staff",
        json={"username": "audit1", "display_name": "审计", "password": "Audit-pass-2026",
              "roles": ["auditor"]},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    auditor = await bearer(client, "audit1", "Audit-pass-2026")
    content = csv_bytes([["name", "phone"], ["李雷", "13800138000"]])
    assert (await upload(client, auditor, "c.csv", content)).status_code == 403
    assert (await upload(client, {}, "c.csv", content)).status_code == 401
    assert not (await client.get("/api/crm/lookup?number=13800138000", headers=admin)).json()[
        "known"
    ]


async def test_a_gb18030_file_from_chinese_excel(application: Application) -> None:
    """Both databases; duplicates within the file and against the database."""
    await application.crm.create(
        AGENT, CustomerCreate(name="老客户", phones=[PhoneIn(number="13600136000")])
    )
    content = csv_bytes(
        [
            ["客户姓名", "电话", "证件类型", "证件号码", "会员等级"],
            ["李雷", "13800138000/13900139000", "护照", "E12345678", ""],
            ["韩梅梅", "13900139000", "", "", ""],  # row 3: phone of row 2
            ["王芳", "13700137000", "护照", "E12345678", ""],  # row 4: document of row 2
            ["张伟", "13600136000", "", "", ""],  # row 5: in the database
            ["赵六", "13500135000", "", "", "钻石卡"],  # row 6: no such tier
            ["孙七", "13400134000", "驾照", "D1", ""],  # row 7: unknown document type
            ["周八", "13300133000", "", "", ""],
        ],
        encoding="gb18030",
    )
    assert content.decode("gb18030")  # really not UTF-8:
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    for dry_run in (True, False):
        report = await imports.import_customers(
            application.crm, AGENT, "客户.csv", content, dry_run=dry_run
        )
        assert (report.imported, report.total) == (2, 7)
        assert [(r.row, r.column) for r in report.rejected] == [
            (3, "电话"),
            (4, "证件号码"),
            (5, "电话"),
            (6, "会员等级"),
            (7, "证件类型"),
        ]
    found = await application.crm.search(None, PageRequest())
    assert sorted(c.name for c in found.items) == ["周八", "李雷", "老客户"]
    lilei = await application.crm.lookup_caller("13900139000")
    assert lilei.name == "李雷"
    again = await imports.import_customers(application.crm, AGENT, "客户.csv", content)
    assert again.imported == 0  # everyone is there now


async def test_more_rows_than_the_limit_refuse_the_whole_file(
    application: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    rows = [["name", "phone"]] + [["x", f"1380013800{n}"] for n in range(4)]
    with pytest.raises(ImportRejected, match="more than 3 rows"):
        await imports.import_customers(application.crm, AGENT, "c.csv", csv_bytes(rows))
    assert (await application.crm.search(None, PageRequest())).total == 0
