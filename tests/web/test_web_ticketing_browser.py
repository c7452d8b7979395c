"""The catalog, fares and fee rule pages in Debian's Chromium against a live demo server:
an admin adds a station, cancels a trip, changes a fare, edits a fee rule, and is told
when the server refuses a set of rules."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.browser import open_signed_in

pytestmark = pytest.mark.browser


async def _show_route_trips(page: Page, route: str) -> None:
    await page.get_by_test_id("cat-trip-route").select_option(route)
    await page.get_by_test_id("cat-trip-show").click()


async def test_an_admin_edits_the_catalog_and_a_fare(served: str, browser: Browser) -> None:
    page = await open_signed_in(browser, served, "admin", "/admin/catalog", "catalog")
    await page.get_by_test_id("st-code").fill("XAQ")
    await page.get_by_test_id("st-name-zh").fill("雄安")
    await page.get_by_test_id("st-name-en").fill("Xiong'an")
    await page.get_by_test_id("st-city").fill("雄安")
    await page.get_by_test_id("st-pinyin").fill("xiong an")
    await page.get_by_test_id("st-add").click()
    await expect(page.get_by_test_id("cat-notice")).to_have_text("已添加车站 XAQ。")
    stations = page.get_by_test_id("cat-stations").locator("tbody tr")
    await expect(stations.filter(has_text="XAQ")).to_contain_text("雄安")

    await _show_route_trips(page, "JH-HSR")
    trips = page.get_by_test_id("cat-trips").locator("tbody tr")
    await expect(trips).to_have_count(3)  # G1, G5 and G9 today
    g5 = trips.filter(has_text="G5")
    page.on("dialog", lambda dialog: dialog.accept())
    await g5.get_by_test_id("cat-trip-cancel").click()
    await expect(g5.get_by_test_id("cat-trip-status")).to_have_text("已停运")
    await expect(g5.get_by_test_id("cat-trip-cancel")).to_be_hidden()
    await page.reload()
    await _show_route_trips(page, "JH-HSR")
    await expect(g5.get_by_test_id("cat-trip-status")).to_have_text("已停运")
    await expect(trips.filter(has_text="G1").get_by_test_id("cat-trip-status")).to_have_text("正常")

    await page.get_by_test_id("cat-fares-link").click()
    await expect(page.get_by_test_id("fares")).to_be_visible()
    await page.get_by_test_id("fare-route").select_option("JH-HSR")
    await expect(page.get_by_test_id("fare-table")).to_be_visible()
    await page.get_by_test_id("fare-class").select_option("second")
    cell = page.locator("[data-testid=fare-cell][data-from=VNP][data-to=LJP]")
    await expect(cell).to_have_text("32.00")  # 5 yuan + 0.45 a km for 60 km
    await cell.get_by_role("link").click()
    await expect(page.get_by_test_id("fare-amount")).to_have_value("32.00")
    await page.get_by_test_id("fare-amount").fill("66.5")
    await page.get_by_test_id("fare-set").click()
    await expect(page.get_by_test_id("fare-notice")).to_have_text("票价已设置。")
    await expect(cell).to_have_text("66.50")
    await page.reload()
    await expect(page.get_by_test_id("fare-table")).to_be_visible()
    await page.get_by_test_id("fare-class").select_option("second")
    await expect(cell).to_have_text("66.50")


async def test_an_admin_edits_a_fee_rule_and_sees_a_refused_save(
    served: str, browser: Browser
) -> None:
    page = await open_signed_in(browser, served, "admin", "/admin/fee-rules", "fee-rules")
    rail_refund = page.get_by_test_id("rules-rail-refund")
    rows = rail_refund.get_by_test_id("rule-row")
    await expect(rows).to_have_count(4)
    window = rows.nth(2)  # 48 hours to 8 days before departure: 5%
    await expect(window.get_by_test_id("rule-max-hours")).to_have_value("192")
    await window.get_by_test_id("rule-percent").fill("6")
    await rail_refund.get_by_test_id("rules-save").click()
    await expect(rail_refund.get_by_test_id("rules-notice")).to_have_text("已保存。")

    await page.reload()
    await expect(rows.nth(2).get_by_test_id("rule-percent")).to_have_value("6")
    await rows.nth(2).get_by_test_id("rule-max-hours").fill("200")  # overlaps "8 days or more"
    await rail_refund.get_by_test_id("rules-save").click()
    error = rail_refund.get_by_test_id("rules-error")
    await expect(error).to_contain_text("未保存")
    await expect(error).to_contain_text("windows must meet without gap or overlap")
    await page.reload()
    await expect(rows.nth(2).get_by_test_id("rule-max-hours")).to_have_value("192")
    await expect(rows.nth(2).get_by_test_id("rule-percent")).to_have_value("6")
