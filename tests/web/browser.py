"""Helpers for the browser tests: a page signed in as one of the demo staff."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from ticketline.demo import DEMO_PASSWORD


async def open_signed_in(browser: Browser, url: str, username: str, path: str, testid: str) -> Page:
    """A fresh Chinese-locale page signed in as `username`, showing `path` (its `testid`)."""
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    await page.goto(f"{url}/login?next={path}")
    await page.fill("#username", username)
    await page.fill("#password", DEMO_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.get_by_test_id(testid)).to_be_visible()
    return page
