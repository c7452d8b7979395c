"""Importing customers from a CSV or Excel (.xlsx) file, with a report of rejected rows.

A file is refused whole (`ImportRejected`) when it is not CSV or .xlsx, is empty, has
no name or phone column, or has more than `MAX_ROWS` rows. Otherwise every row goes
through `CustomerService.create` (or, for a dry run, `check_new`, its validation without
the writing), so an import accepts exactly what an agent could type in; each row is its
own transaction. A row that fails is reported with its row number as the spreadsheet
shows it (the header is row 1), the column as the file names it, and the reason.

Columns are found by header, in Chinese or English (see `HEADERS`); unknown columns are
ignored and listed in the report. CSV is read as UTF-8 (with or without a BOM), else as
GB18030, which is what Excel writes on Chinese Windows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from ticketline.admin.security import Actor
from ticketline.core.errors import InvalidInput, TicketlineError
from ticketline.crm import phones
from ticketline.crm.errors import ImportRejected
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.crm.service import CustomerService

MAX_ROWS = 50_000
MAX_BYTES = 5 * 1024 * 1024
UTF8_BOM = "\ufeff"

# field -> headers accepted for it (compared without case, spaces, '_' or '-')
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("name", "customer name", "姓名", "客户姓名", "名字", "客户"),
    "phone": ("phone", "phones", "mobile", "tel", "telephone", "手机", "手机号", "手机号码",
              "电话", "电话号码", "联系电话"),
    "gender": ("gender", "sex", "性别"),
    "birthday": ("birthday", "birth date", "date of birth", "生日", "出生日期"),
    "tier": ("tier", "vip tier", "vip", "会员等级", "等级", "会员级别"),
    "tags": ("tags", "tag", "标签"),
    "notes": ("notes", "note", "remarks", "备注"),
    "language": ("language", "locale", "语言"),
    "id_type": ("id type", "document type", "证件类型"),
    "id_number": ("id number", "document number", "证件号码", "证件号", "身份证号", "身份证号码"),
    "email": ("email", "e-mail", "邮箱", "电子邮箱"),
    "member_card": ("member card", "card", "会员卡号", "会员卡"),
}  # fmt: skip
_REQUIRED_HINT = {"name": "name (姓名)", "phone": "phone (手机/电话)"}
_GENDERS = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F",
            "u": "U", "unknown": "U", "未知": "U"}  # fmt: skip
_LANGUAGES = {"zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN", "chinese": "zh_CN",
              "中文": "zh_CN", "汉语": "zh_CN", "普通话": "zh_CN", "en": "en",
              "english": "en", "英文": "en", "英语": "en"}  # fmt: skip
_ID_TYPES = {"id_card": "id_card", "id card": "id_card", "身份证": "id_card",
             "居民身份证": "id_card", "passport": "passport", "护照": "passport",
             "hk_macau_permit": "hk_macau_permit", "港澳通行证": "hk_macau_permit",
             "taiwan_permit": "taiwan_permit", "台湾通行证": "taiwan_permit",
             "台胞证": "taiwan_permit", "other": "other", "其他": "other"}  # fmt: skip
_PHONE_SPLIT = re.compile(r"[;；/、,，]")
_TAG_SPLIT = re.compile(r"[;；,，、]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
# which import field a validation error's first location names
_FIELD_OF = {"name": "name", "phones": "phone", "gender": "gender", "birthday": "birthday",
             "vip_tier": "tier", "tags": "tags", "notes": "notes", "locale": "language",
             "id_type": "id_type", "id_number": "id_number", "email": "email",
             "member_card": "member_card"}  # fmt: skip


@dataclass(frozen=True)
class RejectedRow:
    row: int
    column: str
    message: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    dry_run: bool = False
    rejected: list[RejectedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)

    def rejected_csv(self) -> bytes:
        """The rejected rows with their reason and original cells, as CSV with a UTF-8
        BOM (so Excel shows Chinese correctly)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message", *self.headers])
        for r in self.rejected:
            writer.writerow(
                [r.row, r.column, r.message, *(r.values.get(h, "") for h in self.headers)]
            )
        return (UTF8_BOM + out.getvalue()).encode("utf-8")


@dataclass(frozen=True)
class _Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the sheet, cells)


class _RowError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


async def import_customers(
    service: CustomerService,
    actor: Actor,
    filename: str,
    content: bytes,
    *,
    dry_run: bool = False,
    today: date | None = None,
) -> ImportReport:
    """Import the customers of a CSV or .xlsx file; see the module docstring."""
    table = read_table(filename, content)
    columns, ignored = _map_columns(table.headers)
    tiers = _tier_names(await service.tiers())
    report = ImportReport(dry_run=dry_run, ignored_columns=ignored, headers=table.headers)
    seen: dict[tuple[str, str], int] = {}  # (kind, value) -> first row holding it
    today = today or service.clock.now().date()
    for row_no, cells in table.rows:
        report.total += 1
        values = {h: cells[i] if i < len(cells) else "" for i, h in enumerate(table.headers)}
        try:
            data = _customer(columns, cells, tiers, today)
            _refuse_seen(data, row_no, seen)
            if dry_run:
                await service.check_new(data)
            else:
                await service.create(actor, data)
        except _RowError as exc:
            column = _column_name(table.headers, columns, exc.field)
            report.rejected.append(RejectedRow(row_no, column, exc.message, values))
            continue
        except TicketlineError as exc:
            name, message = _describe(exc)
            column = _column_name(table.headers, columns, name)
            report.rejected.append(RejectedRow(row_no, column, message, values))
            continue
        _remember(data, row_no, seen)
        report.imported += 1
    return report


# -- reading the file ------------------------------------------------------------------


def read_table(filename: str, content: bytes) -> _Table:
    """Header and non-blank rows of a CSV or .xlsx file; refuses anything else."""
    name = filename.lower()
    if content.startswith(b"PK\x03\x04") or name.endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(content)
    elif content.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise ImportRejected("file", "old Excel (.xls) files are not read; save as .xlsx or CSV")
    elif name.endswith((".csv", ".txt")) or "." not in name:
        rows = _csv_rows(content)
    else:
        raise ImportRejected("file", f"{filename!r} is neither CSV nor Excel (.xlsx)")
    header: list[str] | None = None
    found: list[tuple[int, list[str]]] = []
    for row_no, cells in rows:
        if not any(cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        if len(found) >= MAX_ROWS:
            raise ImportRejected("file", f"more than {MAX_ROWS} rows; split the file")
        found.append((row_no, cells))
    if header is None or not found:
        raise ImportRejected("file", "the file has no customer rows")
    return _Table(header, found)


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(content)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row_no, cells in enumerate(reader, start=1):
            yield row_no, [c.strip() for c in cells]
    except csv.Error as exc:
        raise ImportRejected("file", f"not a readable CSV file: {exc}") from exc


def _decode(content: bytes) -> str:
    if content.startswith(UTF8_BOM.encode()):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ImportRejected("file", "the text is neither UTF-8 nor GB18030") from exc


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportRejected("file", "not a readable Excel (.xlsx) file") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        # read-only sheets yield blank rows too, so the count is the sheet's row number
        for row_no, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield row_no, [_cell_text(v) for v in cells]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number
    return str(value).strip()


# -- columns ---------------------------------------------------------------------------


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header.strip().lower())


_BY_KEY = {_key(h): name for name, headers in HEADERS.items() for h in headers}


def _map_columns(headers: list[str]) -> tuple[dict[str, list[int]], list[str]]:
    columns: dict[str, list[int]] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        name = _BY_KEY.get(_key(header))
        if name is None:
            if header:
                ignored.append(header)
            continue
        if name in columns and name != "phone":  # several phone columns add up
            first = headers[columns[name][0]]
            raise ImportRejected("file", f"two columns for {name}: {first!r} and {header!r}")
        columns.setdefault(name, []).append(i)
    missing = [n for n in ("name", "phone") if n not in columns]
    if missing:
        wanted = " and ".join(_REQUIRED_HINT[n] for n in missing)
        raise ImportRejected("file", f"missing column: {wanted}")
    return columns, ignored


def _column_name(headers: list[str], columns: dict[str, list[int]], name: str) -> str:
    if name in columns:
        return headers[columns[name][0]]
    return name


def _cell(columns: dict[str, list[int]], cells: list[str], name: str) -> str:
    for i in columns.get(name, ()):
        if i < len(cells) and cells[i]:
            return cells[i]
    return ""


# -- one row ---------------------------------------------------------------------------


def _customer(
    columns: dict[str, list[int]], cells: list[str], tiers: dict[str, str], today: date
) -> CustomerCreate:
    name = _cell(columns, cells, "name")
    if not name:
        raise _RowError("name", "a name is required")
    numbers = [
        part.strip()
        for i in columns["phone"]
        if i < len(cells)
        for part in _PHONE_SPLIT.split(cells[i])
        if part.strip()
    ]
    values: dict[str, Any] = {
        "name": name,
        "phones": [PhoneIn(number=n, primary=k == 0) for k, n in enumerate(numbers)],
        "tags": [t.strip() for t in _TAG_SPLIT.split(_cell(columns, cells, "tags")) if t.strip()],
        "notes": _cell(columns, cells, "notes"),
    }
    if not numbers:
        raise _RowError("phone", "a phone number is required")
    if gender := _cell(columns, cells, "gender"):
        values["gender"] = _choice(_GENDERS, gender, "gender", "M/F, 男/女")
    if birthday := _cell(columns, cells, "birthday"):
        values["birthday"] = _birthday(birthday, today)
    if tier := _cell(columns, cells, "tier"):
        values["vip_tier"] = _tier(tiers, tier)
    if language := _cell(columns, cells, "language"):
        values["locale"] = _choice(_LANGUAGES, language, "language", "zh_CN or en, 中文/英文")
    if id_number := _cell(columns, cells, "id_number"):
        values["id_number"] = id_number
        id_type = _cell(columns, cells, "id_type") or "id_card"
        values["id_type"] = _choice(_ID_TYPES, id_type, "id_type", "身份证/护照/港澳通行证...")
    if email := _cell(columns, cells, "email"):
        values["email"] = email
    if card := _cell(columns, cells, "member_card"):
        values["member_card"] = card.upper()
    try:
        return CustomerCreate(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err.get("loc", ())
        raise _RowError(_FIELD_OF.get(str(loc[0]) if loc else "", "name"), err["msg"]) from exc


def _choice(options: dict[str, str], text: str, name: str, hint: str) -> str:
    found = options.get(text.strip().lower())
    if found is None:
        raise _RowError(name, f"unknown value {text!r} (use {hint})")
    return found


def _birthday(text: str, today: date) -> date:
    digits = text.strip()
    match = _DATE.match(digits)
    if match is None and re.fullmatch(r"\d{8}", digits):
        match = re.match(r"(\d{4})(\d{2})(\d{2})", digits)
    if match is None:
        raise _RowError("birthday", f"not a date: {text!r} (write it as 1990-05-31)")
    try:
        born = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise _RowError("birthday", f"not a date: {text!r}") from exc
    if born > today or born.year < 1900:
        raise _RowError("birthday", f"not a plausible birthday: {text!r}")
    return born


def _tier_names(tiers: Iterable[Any]) -> dict[str, str]:
    names: dict[str, str] = {}
    for tier in tiers:
        for text in (tier.code, tier.name_zh, tier.name_en):
            names[text.strip().lower()] = tier.code
    return names


def _tier(tiers: dict[str, str], text: str) -> str:
    code = tiers.get(text.strip().lower())
    if code is None:
        known = ", ".join(sorted(set(tiers.values()))) or "none defined"
        raise _RowError("tier", f"no tier {text!r} (known: {known})")
    return code


def _identities(data: CustomerCreate) -> list[tuple[str, str, str]]:
    """(kind, value, field) of what must be unique across customers."""
    found = [("phone", phones.normalize(p.number, field="phone"), "phone") for p in data.phones]
    if data.member_card:
        found.append(("card", data.member_card, "member_card"))
    if data.id_number:
        found.append(("document", f"{data.id_type}:{data.id_number}", "id_number"))
    return found


def _refuse_seen(data: CustomerCreate, row_no: int, seen: dict[tuple[str, str], int]) -> None:
    try:
        identities = _identities(data)
    except InvalidInput:
        return  # the service names the bad number
    for kind, value, name in identities:
        if (kind, value) in seen:
            raise _RowError(name, f"{value} is already in row {seen[kind, value]} of this file")


def _remember(data: CustomerCreate, row_no: int, seen: dict[tuple[str, str], int]) -> None:
    for kind, value, _ in _identities(data):
        seen.setdefault((kind, value), row_no)


def _describe(exc: TicketlineError) -> tuple[str, str]:
    """The import field and the reason of a service error."""
    raw = str(exc.details.get("field", ""))
    name = _FIELD_OF.get(raw.split(".", 1)[0], raw or "name")
    message = exc.message
    if raw and message.startswith(f"{raw}: "):
        message = message[len(raw) + 2 :]
    if isinstance(exc, InvalidInput):
        message = str(exc.details.get("reason", message))
    return name, message
