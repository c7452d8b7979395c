"""Translations come from every .po file of a locale, so each area keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketline.web import i18n

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def write_po(folder: Path, name: str, pairs: dict[str, str]) -> None:
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in pairs.items())
    (folder / name).write_text(HEADER + body, encoding="utf-8")


def test_an_areas_catalog_adds_to_the_shared_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    write_po(folder, "messages.po", {"Home": "首页"})
    write_po(folder, "crm.po", {"Customers": "客户"})
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        zh = i18n.translations("zh_CN")
        assert (zh.gettext("Home"), zh.gettext("Customers")) == ("首页", "客户")
        assert zh.gettext("Untranslated") == "Untranslated"
    finally:
        i18n.translations.cache_clear()


def test_the_shipped_catalog_translates_the_navigation() -> None:
    assert i18n.translations("zh_CN").gettext("Desk") == "工作台"
    assert i18n.translations("en").gettext("Desk") == "Desk"
