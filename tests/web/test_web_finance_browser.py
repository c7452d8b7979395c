"""The finance page and a receipt in Debian's Chromium against a live demo server: an
admin sees low insurance stock called out and receives more, tops up the railway's
deposit, reads the day's income, costs and profit per ticket, books a cost by hand,
sets a commission and prints the receipt of an issued order; an agent is kept out."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from tests.web.browser import open_signed_in
from ticketline.app import Application
from ticketline.ticketing.order_models import Order

pytestmark = pytest.mark.browser


async def _yuan(page: Page, testid: str) -> float:
    return float(await page.get_by_test_id(testid).first.inner_text())


async def test_an_admin_keeps_the_books_on_the_finance_page(
    served: str, browser: Browser, live_app: Application
) -> None:
    async with live_app.db.sessions() as session:
        issued = await session.scalar(select(Order).where(Order.state == "issued"))
    assert issued is not None  # the demo issues 王芳's ticket today
    page = await open_signed_in(browser, served, "admin", "/finance", "finance")

    alerts = page.get_by_test_id("fin-alerts")
    await expect(alerts).to_contain_text("乘意险保单库存不足：剩40，低于50提醒")
    await page.get_by_test_id("fin-receive-stock").select_option("insurance")
    await page.get_by_test_id("fin-receive-quantity").fill("20")
    await page.get_by_test_id("fin-receive-from").fill("P0000041")
    await page.get_by_test_id("fin-receive-to").fill("P0000060")
    await page.get_by_test_id("fin-receive").click()
    insurance = page.get_by_test_id("fin-stock-insurance")
    await expect(insurance.get_by_test_id("fin-stock-on-hand")).to_have_text("60")
    await expect(alerts).to_be_hidden()

    railway = page.get_by_test_id("fin-deposit-cr").get_by_test_id("fin-deposit-balance")
    before = float(await railway.inner_text())
    await page.get_by_test_id("fin-topup-operator").select_option("cr")
    await page.get_by_test_id("fin-topup-amount").fill("1000")
    await page.get_by_test_id("fin-topup-reference").fill("TT-2026-12")
    await page.get_by_test_id("fin-topup").click()
    await expect(railway).to_have_text(f"{before + 1000:.2f}")

    sales = page.get_by_test_id("fin-cat-ticket_sales")
    await expect(sales).to_contain_text(f"{issued.total_fen / 100:.2f}")
    profits = page.get_by_test_id("fin-ticket-profits").locator("tbody tr")
    await expect(profits.filter(has_text=issued.code)).to_contain_text("王芳")
    profit = await _yuan(page, "fin-profit")
    await page.get_by_test_id("fin-entry-category").select_option("other_cost")
    await page.get_by_test_id("fin-entry-amount").fill("100")
    await page.get_by_test_id("fin-entry-note").fill("打印纸")
    await page.get_by_test_id("fin-entry-save").click()
    await expect(page.get_by_test_id("fin-profit")).to_have_text(f"{profit - 100:.2f}")

    await page.get_by_test_id("fin-commission-operator").fill("cr")
    await page.get_by_test_id("fin-commission-product").select_option("rail")
    await page.get_by_test_id("fin-commission-percent").fill("2")
    await page.get_by_test_id("fin-commission-save").click()
    await expect(page.get_by_test_id("fin-commission-cr-rail")).to_contain_text("2 %")
    percent = page.get_by_test_id("fin-commission-percent")
    await percent.fill("120")
    await page.get_by_test_id("fin-commission-save").click()
    assert await percent.evaluate("input => input.validity.rangeOverflow")  # not sent
    await expect(page.get_by_test_id("fin-commission-cr-rail")).to_contain_text("2 %")

    await profits.filter(has_text=issued.code).get_by_role("link", name=issued.code).click()
    await expect(page.get_by_test_id("receipt-code")).to_have_text(issued.code)
    await expect(page.get_by_test_id("receipt-paid")).to_have_text(f"{issued.total_fen / 100:.2f}")
    await expect(page.get_by_test_id("receipt-owed")).to_have_text("0.00")
    await expect(page.get_by_test_id("receipt-number")).to_have_text(f"{issued.code}-01")
    await expect(page.get_by_test_id("receipt-tickets")).to_contain_text("王芳")


async def test_an_agent_cannot_open_the_finance_page(served: str, browser: Browser) -> None:
    page = await open_signed_in(browser, served, "agent1", "/desk", "desk")
    await expect(page.get_by_role("link", name="财务")).to_have_count(0)
    response = await page.goto(f"{served}/finance")
    assert response is not None
    assert response.status == 403
