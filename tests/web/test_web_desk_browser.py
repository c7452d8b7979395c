"""The agent desktop and the supervisor console in Debian's Chromium, against a live server.

The agent goes ready with a click; an ACD offer pops the caller's customer record on
the desktop; the supervisor's wallboard shows the agent's state change live; a reload
during the call shows the call again.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.web.browser import open_signed_in
from tests.webclient import bearer
from ticketline.acd.events import CallConnected, CallOffered
from ticketline.admin.security import SYSTEM
from ticketline.app import Application
from ticketline.crm.schemas import CustomerCreate, PhoneIn
from ticketline.workorders.schemas import WorkOrderCreate

pytestmark = pytest.mark.browser
CALLER = "+8613811112222"
SCREENSHOTS_ENV = "TICKETLINE_SCREENSHOTS"
"""Set to a folder (docs/screenshots for the README) to keep the screenshots."""


async def _login(browser: Browser, url: str, username: str, path: str) -> Page:
    testid = "desk" if path == "/desk" else "console"
    return await open_signed_in(browser, url, username, path, testid)


async def _call_pops(desk: Page, app: Application, agent: str, call_id: str, name: str) -> None:
    """The agent goes ready; a call from CALLER is offered and answered; the name pops."""
    await desk.get_by_test_id("go-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("就绪")
    await app.bus.publish(CallOffered(call_id, "booking", agent, CALLER))
    await app.bus.publish(CallConnected(call_id, "booking", agent, CALLER, 1.0))
    await expect(desk.get_by_test_id("customer-name")).to_have_text(name)


async def _book_one(
    desk: Page,
    stations: tuple[str, str],
    day: date,
    name: str,
    id_number: str,
    button: str = "book",
) -> None:
    """Search a trip, take the first fare with seats and book it for one passenger
    (`button`: book, book-hold or book-credit)."""
    await desk.get_by_test_id("trip-from").fill(stations[0])
    await desk.get_by_test_id("trip-to").fill(stations[1])
    await desk.get_by_test_id("trip-date").fill(day.isoformat())
    await desk.get_by_test_id("trip-search").click()
    results = desk.get_by_test_id("trip-results")
    await expect(results).to_be_visible()
    await results.locator("button.fare:enabled").first.click()
    await desk.get_by_test_id("passenger-name-0").fill(name)
    await desk.get_by_test_id("passenger-id-0").fill(id_number)
    await desk.get_by_placeholder("联系电话（默认来电号码）").fill("13800138000")
    await desk.get_by_test_id(button).click()


async def _book_paid(desk: Page, day: date) -> str:
    """One Beijing South to Shanghai Hongqiao ticket, booked and paid in cash; its code."""
    await _book_one(desk, ("北京南", "上海虹桥"), day, "钱伟", "11010519491231002X")
    booked = desk.get_by_test_id("booking-code")
    await expect(booked).to_have_text(re.compile(r"^[A-Z0-9]{5,10}$"))
    code = await booked.inner_text()
    await desk.get_by_test_id("pay").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("paid")
    return code


async def test_ready_pop_wallboard_and_reload(
    served: str, browser: Browser, live_app: Application, tmp_path: Path
) -> None:
    demo_app = live_app
    await demo_app.crm.create(
        SYSTEM, CustomerCreate(name="赵磊", phones=[PhoneIn(number=CALLER, primary=True)])
    )
    desk = await _login(browser, served, "agent1", "/desk")
    console = await _login(browser, served, "supervisor", "/console")
    agent_row = console.locator("tr[data-agent=agent1]")
    await expect(agent_row).to_contain_text("已登出")

    await desk.get_by_test_id("go-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("就绪")
    await expect(agent_row).to_contain_text("就绪")

    await demo_app.bus.publish(CallOffered("call-77", "booking", "agent1", CALLER))
    await expect(desk.get_by_test_id("customer-name")).to_have_text("赵磊", timeout=1000)
    await expect(desk.get_by_test_id("caller-number")).to_have_text(CALLER)
    await demo_app.bus.publish(CallConnected("call-77", "booking", "agent1", CALLER, 2.0))
    await expect(desk.get_by_test_id("call-state")).to_have_text("通话中")

    await desk.reload()
    await expect(desk.get_by_test_id("customer-name")).to_have_text("赵磊")
    await expect(desk.get_by_test_id("agent-state")).to_have_text("就绪")

    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=str(folder / "desk.png"))
    await console.screenshot(path=str(folder / "wallboard.png"))


async def test_not_ready_needs_no_reload_and_shows_reason(served: str, browser: Browser) -> None:
    desk = await _login(browser, served, "agent2", "/desk")
    await desk.select_option("select[aria-label=原因]", "lunch")
    await desk.get_by_test_id("go-not-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("未就绪")
    await expect(desk.get_by_test_id("statebar")).to_contain_text("lunch")


async def test_agent_sells_a_ticket_from_the_desk(
    served: str, browser: Browser, live_app: Application
) -> None:
    desk = await _login(browser, served, "agent1", "/desk")
    tomorrow = date.today() + timedelta(days=1)
    await _book_one(desk, ("北京南", "上海虹桥"), tomorrow, "钱伟", "11010519491231002X")
    code = desk.get_by_test_id("booking-code")
    await expect(code).to_have_text(re.compile(r"^[A-Z0-9]{5,10}$"))
    await desk.get_by_test_id("pay").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("paid")
    await desk.get_by_test_id("issue").click()
    await expect(desk.get_by_test_id("sms-sent")).to_be_visible()
    order = await live_app.ticketing.order_status(await code.inner_text())
    assert order.state == "issued"
    assert order.paid_fen == order.total_fen > 0
    texts = [m.body for m in await live_app.notify.outbox(to="13800138000")]
    assert any(order.code in text for text in texts), texts


async def test_a_bad_id_number_is_named_and_nothing_is_booked(
    served: str, browser: Browser
) -> None:
    desk = await _login(browser, served, "agent2", "/desk")
    tomorrow = date.today() + timedelta(days=1)
    await _book_one(desk, ("VNP", "AOH"), tomorrow, "孙丽", "110105194912310021")
    await expect(desk.get_by_test_id("desk-error")).to_contain_text("id")
    await expect(desk.get_by_test_id("order")).to_be_hidden()


async def test_a_new_caller_is_registered_from_the_pop(
    served: str, browser: Browser, live_app: Application
) -> None:
    number = "+8613955556666"
    desk = await _login(browser, served, "agent1", "/desk")
    await desk.get_by_test_id("go-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("就绪")
    await live_app.bus.publish(CallOffered("call-new", "booking", "agent1", number))
    await expect(desk.get_by_test_id("new-caller")).to_be_visible()
    await live_app.bus.publish(CallConnected("call-new", "booking", "agent1", number, 1.0))

    await desk.get_by_test_id("register-name").fill("孙丽")
    await desk.get_by_test_id("register").click()
    await expect(desk.get_by_test_id("customer-name")).to_have_text("孙丽")
    known = await live_app.crm.lookup_caller(number)
    assert (known.known, known.name) == (True, "孙丽")

    async with httpx.AsyncClient(base_url=served) as http:
        again = await http.post(
            "/api/desk/register",
            json={"call_id": "call-new", "name": "孙丽"},
            headers=await bearer(http, "agent1"),
        )
    assert again.status_code == 409  # a double click makes no second customer
    assert again.json()["code"] == "already_known"


async def test_opening_the_desk_again_takes_over_from_the_first_window(
    served: str, browser: Browser
) -> None:
    first = await _login(browser, served, "agent2", "/desk")
    second = await _login(browser, served, "agent2", "/desk")
    await expect(first.get_by_test_id("desk-error")).to_contain_text("另一个窗口")
    await expect(first.get_by_test_id("go-ready")).to_be_disabled()
    await second.get_by_test_id("go-ready").click()
    await expect(second.get_by_test_id("agent-state")).to_have_text("就绪")
    await expect(second.get_by_test_id("desk-error")).to_be_hidden()


async def test_a_refund_shows_the_fee_before_it_is_confirmed(
    served: str, browser: Browser, live_app: Application
) -> None:
    desk = await _login(browser, served, "agent1", "/desk")
    in_three_days = date.today() + timedelta(days=3)
    code = await _book_paid(desk, in_three_days)

    await desk.reload()  # a later call: the agent opens the order by its code
    await expect(desk.get_by_test_id("agent-state")).to_have_text("已登出")  # the page is live
    await desk.get_by_test_id("open-order-code").fill(code.lower())
    await desk.get_by_test_id("open-order").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("paid")
    await desk.get_by_test_id("refund").click()
    quote = await live_app.ticketing.refund_rules(code)
    assert quote.allowed
    await expect(desk.get_by_test_id("refund-fee")).to_have_text(f"{quote.fee_fen / 100:.2f}")
    await expect(desk.get_by_test_id("refund-amount")).to_have_text(f"{quote.refund_fen / 100:.2f}")
    assert (await live_app.ticketing.order_status(code)).state == "paid"  # nothing done yet
    await desk.get_by_test_id("refund-confirm").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("refunded")
    assert (await live_app.ticketing.order_status(code)).state == "refunded"


async def test_a_change_shows_fee_and_difference_before_it_moves_the_ticket(
    served: str, browser: Browser, live_app: Application
) -> None:
    desk = await _login(browser, served, "agent2", "/desk")
    in_three_days = date.today() + timedelta(days=3)
    code = await _book_paid(desk, in_three_days)

    await desk.get_by_test_id("change").click()
    await expect(desk.get_by_test_id("trip-from")).to_have_value("北京南")  # the ticket's journey
    await expect(desk.get_by_test_id("booking-form")).to_be_hidden()
    await desk.get_by_test_id("trip-date").fill((in_three_days + timedelta(days=1)).isoformat())
    await desk.get_by_test_id("trip-search").click()
    first_trip = desk.get_by_test_id("trip-results").locator("tbody tr").first
    await first_trip.locator("button.fare:enabled").last.click()  # another day, another class
    fee = desk.get_by_test_id("change-fee")
    await expect(fee).to_be_visible()
    chosen = await desk.evaluate(
        "(() => { const d = Alpine.$data(document.querySelector('[data-testid=desk]'));"
        " return [d.chosen.trip_id, d.seatClass]; })()"
    )
    quote = await live_app.ticketing.change_rules(code, chosen[0], chosen[1])
    assert quote.allowed
    await expect(fee).to_have_text(f"{quote.fee_fen / 100:.2f}")
    difference = desk.get_by_test_id("change-difference")
    await expect(difference).to_have_text(f"{abs(quote.difference_fen) / 100:.2f}")
    direction = "退还客户" if quote.difference_fen < 0 else "需补收"
    await expect(desk.get_by_test_id("change-panel")).to_contain_text(direction)
    assert (await live_app.ticketing.order_status(code)).state == "paid"  # nothing moved yet

    await desk.get_by_test_id("change-confirm").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("changed")
    await expect(desk.get_by_test_id("order-tickets")).to_contain_text(
        (in_three_days + timedelta(days=1)).isoformat()
    )
    order = await live_app.ticketing.order_status(code)
    active = [t for t in order.tickets if t.status == "active"]
    assert [t.service_date for t in active] == [in_three_days + timedelta(days=1)]
    assert order.paid_fen == order.total_fen  # the difference was settled in cash


async def test_a_work_order_opened_beside_the_call_joins_the_pop_and_the_wrap_up(
    served: str, browser: Browser, live_app: Application
) -> None:
    customer = await live_app.crm.create(
        SYSTEM, CustomerCreate(name="周敏", phones=[PhoneIn(number=CALLER, primary=True)])
    )
    desk = await _login(browser, served, "agent1", "/desk")
    await _call_pops(desk, live_app, "agent1", "call-wo", "周敏")

    await desk.get_by_test_id("wo-type").select_option("lost_property")
    await desk.get_by_test_id("wo-priority").select_option("high")
    await desk.get_by_test_id("wo-department").select_option("customer-care")
    await desk.get_by_test_id("wo-title").fill("G1 次列车上遗失黑色背包")
    await desk.get_by_test_id("wo-description").fill("8 车厢 12F 行李架")
    await desk.get_by_test_id("wo-create").click()
    shown = desk.get_by_test_id("wo-code")
    await expect(shown).to_have_text(re.compile(r"^WO-\d{4}-\d{4}$"))
    code = await shown.inner_text()
    await expect(desk.get_by_test_id("open-work-orders")).to_contain_text(code)  # pushed
    await expect(desk.locator("input[x-model='wrap.work_order']")).to_have_value(code)

    opened = await live_app.workorders.by_code(code)
    assert (opened.customer_id, opened.phone, opened.source) == (customer.id, CALLER, "phone")
    assert (opened.type, opened.priority) == ("lost_property", "high")
    await desk.reload()  # the pop keeps it: it came from the server, not the page
    await expect(desk.get_by_test_id("open-work-orders")).to_contain_text(code)


async def test_the_knowledge_base_answers_beside_the_call(served: str, browser: Browser) -> None:
    desk = await _login(browser, served, "agent2", "/desk")
    await desk.get_by_test_id("kb-query").fill("退票 手续费")
    await desk.get_by_test_id("kb-search").click()
    hits = desk.get_by_test_id("kb-hits")
    await expect(hits.locator("li").first).to_contain_text("退票手续费规则")
    await hits.locator("li a").first.click()
    await expect(desk.get_by_test_id("kb-article")).to_contain_text("开车前8天以上退票免收手续费")

    await desk.get_by_test_id("kb-query").fill("qwxzv")
    await desk.get_by_test_id("kb-search").click()
    await expect(desk.get_by_test_id("kb-none")).to_be_visible()
    await expect(desk.get_by_test_id("kb-article")).to_be_hidden()

    await desk.get_by_test_id("wo-type").select_option("refund_dispute")
    await desk.get_by_role("button", name="推荐知识").click()
    await expect(hits).to_contain_text("改签规则")


async def test_passengers_booked_for_a_caller_come_back_as_saved_travellers(
    served: str, browser: Browser, live_app: Application
) -> None:
    customer = await live_app.crm.create(
        SYSTEM, CustomerCreate(name="吴刚", phones=[PhoneIn(number=CALLER, primary=True)])
    )
    desk = await _login(browser, served, "agent2", "/desk")
    await _call_pops(desk, live_app, "agent2", "call-tr", "吴刚")

    tomorrow = date.today() + timedelta(days=1)
    await _book_one(desk, ("北京南", "上海虹桥"), tomorrow, "钱伟", "11010519491231002x")
    await expect(desk.get_by_test_id("booking-code")).to_have_text(re.compile(r"^[A-Z0-9]{5,10}$"))
    chip = desk.get_by_test_id("traveller-钱伟")
    await expect(chip).to_be_visible()
    saved = await live_app.crm.travellers(customer.id)
    assert [(t.name, t.id_number) for t in saved] == [("钱伟", "11010519491231002X")]

    await desk.get_by_test_id("passenger-name-0").fill("")
    await desk.get_by_test_id("passenger-id-0").fill("")
    await chip.click()
    await expect(desk.get_by_test_id("passenger-name-0")).to_have_value("钱伟")
    await expect(desk.get_by_test_id("passenger-id-0")).to_have_value("11010519491231002X")


async def test_the_seat_picked_on_the_map_is_the_seat_sold(
    served: str, browser: Browser, live_app: Application
) -> None:
    desk = await _login(browser, served, "agent1", "/desk")
    await desk.get_by_test_id("trip-from").fill("北京南")
    await desk.get_by_test_id("trip-to").fill("上海虹桥")
    await desk.get_by_test_id("trip-date").fill((date.today() + timedelta(days=2)).isoformat())
    await desk.get_by_test_id("trip-search").click()
    fare = desk.get_by_test_id("trip-results").locator("button.fare:enabled").first
    await fare.click()
    await desk.get_by_test_id("seat-map-open").click()
    seat_map = desk.get_by_test_id("seat-map")
    free = seat_map.locator("button.seat:enabled")
    await expect(free.first).to_be_visible()
    wanted = await free.nth(3).inner_text()  # not the first: the allocator might give that
    await free.nth(3).click()
    await expect(desk.get_by_test_id("passenger-seat-0")).to_have_text(wanted)
    await desk.get_by_test_id("passenger-name-0").fill("钱伟")
    await desk.get_by_test_id("passenger-id-0").fill("11010519491231002X")
    await desk.get_by_placeholder("联系电话（默认来电号码）").fill("13800138000")
    await desk.get_by_test_id("book").click()
    booked = desk.get_by_test_id("booking-code")
    await expect(booked).to_have_text(re.compile(r"^[A-Z0-9]{5,10}$"))
    await expect(desk.get_by_test_id("order-tickets")).to_contain_text(wanted)
    order = await live_app.ticketing.order_status(await booked.inner_text())
    assert [t.seat_no for t in order.tickets] == [wanted]

    await fare.click()  # the next caller on the same train sees the seat taken
    await desk.get_by_test_id("seat-map-open").click()
    await expect(desk.get_by_test_id(f"seat-{wanted}")).to_be_disabled()


async def test_seats_held_then_paid_by_card_and_a_booking_on_credit_issued_unpaid(
    served: str, browser: Browser, live_app: Application
) -> None:
    desk = await _login(browser, served, "agent1", "/desk")
    tomorrow = date.today() + timedelta(days=1)
    await _book_one(
        desk, ("北京南", "上海虹桥"), tomorrow, "钱伟", "11010519491231002X", "book-hold"
    )
    await expect(desk.get_by_test_id("order-state")).to_have_text("held")
    await expect(desk.get_by_test_id("hold-until")).to_be_visible()
    held = await desk.get_by_test_id("booking-code").inner_text()
    await desk.get_by_test_id("pay-method").select_option("card")
    await desk.get_by_test_id("pay-reference").fill("6222")
    await desk.get_by_test_id("pay").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("paid")
    paid = await live_app.ticketing.order_status(held)
    assert [(p.kind, p.method, p.reference) for p in paid.payments] == [("payment", "card", "6222")]
    assert paid.paid_fen == paid.total_fen

    due = date.today() + timedelta(days=10)
    await desk.get_by_test_id("credit-due").fill(due.isoformat())
    await desk.get_by_test_id("book-credit").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("booked")
    await expect(desk.get_by_test_id("credit-until")).to_contain_text(due.isoformat())
    await desk.get_by_test_id("issue").click()
    await expect(desk.get_by_test_id("order-state")).to_have_text("issued")
    on_credit = await live_app.ticketing.order_status(
        await desk.get_by_test_id("booking-code").inner_text()
    )
    assert (on_credit.state, on_credit.paid_fen, on_credit.credit_due) == ("issued", 0, due)


async def test_an_open_work_order_is_answered_and_resolved_from_the_pop(
    served: str, browser: Browser, live_app: Application
) -> None:
    customer = await live_app.crm.create(
        SYSTEM, CustomerCreate(name="郑洁", phones=[PhoneIn(number=CALLER, primary=True)])
    )
    opened = await live_app.workorders.open(
        SYSTEM,
        WorkOrderCreate(
            type="complaint",
            title="司机态度差",
            customer_id=customer.id,
            phone=CALLER,
            department="customer-care",
            assignee="agent1",
        ),
    )
    desk = await _login(browser, served, "agent1", "/desk")
    await _call_pops(desk, live_app, "agent1", "call-wo2", "郑洁")

    await desk.get_by_test_id("open-work-orders").get_by_text(opened.code).click()
    await expect(desk.get_by_test_id("wo-state")).to_have_text("assigned")
    await desk.get_by_test_id("wo-note").fill("已向车队核实并致歉，赔付代金券")
    await desk.get_by_test_id("wo-public").check()
    await desk.get_by_test_id("wo-action").select_option("resolve")
    await desk.get_by_test_id("wo-update").click()
    await expect(desk.get_by_test_id("wo-state")).to_have_text("resolved")
    await expect(desk.get_by_test_id("wo-log")).to_contain_text("已向车队核实并致歉")
    await expect(desk.get_by_test_id("open-work-orders")).not_to_contain_text(opened.code)

    status = await live_app.workorders.public_status(opened.code, CALLER)
    assert status.state == "resolved"
    assert status.last_reply is not None
    assert "致歉" in status.last_reply


async def test_the_order_s_contact_is_called_back_with_one_click(
    served: str, browser: Browser
) -> None:
    desk = await _login(browser, served, "agent1", "/desk")
    tomorrow = date.today() + timedelta(days=1)
    await _book_one(desk, ("北京南", "上海虹桥"), tomorrow, "钱伟", "11010519491231002X")
    await expect(desk.get_by_test_id("order-phone")).to_have_text("+8613800138000")
    await desk.get_by_test_id("go-not-ready").click()  # agents dial out while not ready
    await expect(desk.get_by_test_id("agent-state")).to_have_text("未就绪")
    async with desk.expect_request("**/api/desk/dial") as dialled:
        await desk.get_by_test_id("order-call").click()
    assert json.loads((await dialled.value).post_data or "{}") == {"number": "+8613800138000"}
    # No phone is registered at 1001 here: the agent is told which phone failed.
    await expect(desk.get_by_test_id("desk-error")).to_contain_text("1001")


async def test_the_supervisor_moves_an_agent_between_queues_from_the_console(
    served: str, browser: Browser, live_app: Application
) -> None:
    console = await _login(browser, served, "supervisor", "/console")
    queues = console.locator("tr[data-agent=agent1]").get_by_test_id("agent-queues")
    chips = queues.locator(".chip")
    await expect(chips).to_have_count(3)
    await expect(chips).not_to_contain_text(["投诉 Complaints"])
    await queues.get_by_test_id("add-queue").select_option("complaint")
    await expect(chips).to_contain_text(["投诉 Complaints"])
    assert "complaint" in live_app.acd_runtime.router.agent_queues["agent1"]
    assert "agent1" in [m.agent for m in await live_app.acd.list_members("complaint")]

    await queues.get_by_test_id("leave-booking").click()
    await expect(queues.get_by_test_id("leave-booking")).to_have_count(0)
    assert "booking" not in live_app.acd_runtime.router.agent_queues["agent1"]
    assert "agent1" not in [m.agent for m in await live_app.acd.list_members("booking")]
    await console.reload()  # the change is stored, not only shown
    await expect(chips).to_contain_text(["投诉 Complaints"])
    await expect(queues.get_by_test_id("leave-booking")).to_have_count(0)


async def test_a_customer_is_found_noted_and_called_from_the_customers_page(
    served: str, browser: Browser, live_app: Application
) -> None:
    phone = PhoneIn(number="13922223333", primary=True)
    customer = await live_app.crm.create(SYSTEM, CustomerCreate(name="孙丽", phones=[phone]))
    await live_app.workorders.open(
        SYSTEM,
        WorkOrderCreate(
            type="lost_property",
            title="遗失雨伞 umbrella",
            customer_id=customer.id,
            department="customer-care",
        ),
    )
    page = await _login(browser, served, "agent1", "/desk")
    await page.goto(f"{served}/customers")
    await page.get_by_test_id("customer-query").fill("13922223333")
    await page.get_by_test_id("customer-query").press("Enter")
    results = page.get_by_test_id("customer-results").locator("tbody tr")
    await expect(results).to_have_count(1)
    await results.get_by_role("link", name="孙丽").click()
    detail = page.get_by_test_id("customer-detail")
    await expect(detail.get_by_test_id("customer-title")).to_have_text("孙丽")
    await expect(detail.get_by_test_id("customer-phones")).to_contain_text("+8613922223333")
    await expect(detail.get_by_test_id("customer-work-orders")).to_contain_text("遗失雨伞")

    await detail.get_by_test_id("note-text").fill("喜欢靠窗 window seat")
    await detail.get_by_test_id("add-note").click()
    await expect(detail.get_by_test_id("customer-timeline")).to_contain_text("喜欢靠窗")
    await page.reload()  # the page opens the same customer; the note is stored
    await expect(page.get_by_test_id("customer-timeline")).to_contain_text("喜欢靠窗")

    call = page.get_by_test_id("call-phone")
    await call.click()  # not logged in to the ACD yet: told what to do
    await expect(page.get_by_test_id("customers-error")).to_contain_text("log in at your desk")
    live_app.acd_runtime.login("agent1")
    async with page.expect_request("**/api/desk/dial") as dialled:
        await call.click()
    assert json.loads((await dialled.value).post_data or "{}") == {"number": "+8613922223333"}
    # No phone is registered at 1001 here: the agent is told which phone failed.
    await expect(page.get_by_test_id("customers-error")).to_contain_text("1001")


async def test_an_agent_too_long_in_one_state_raises_an_alert_on_the_console(
    served: str, browser: Browser, live_app: Application
) -> None:
    live_app.desk.state_limits["not_ready"] = 2  # seconds, for the test
    desk = await _login(browser, served, "agent2", "/desk")
    await desk.get_by_test_id("go-not-ready").click()
    await expect(desk.get_by_test_id("agent-state")).to_have_text("未就绪")
    console = await _login(browser, served, "supervisor", "/console")
    row = console.locator("tr[data-agent=agent2]")
    await expect(row).to_have_attribute("data-state", "not_ready")
    alert = console.get_by_test_id("alerts").locator("li[data-agent=agent2]")
    await expect(alert).to_contain_text("张伟：未就绪已", timeout=5000)
    await expect(row).to_have_class("overdue")
    floor = live_app.desk.floor_view()  # the server's view (a fresh console) says so too
    assert any(a.get("agent") == "agent2" for a in floor["alerts"])

    await desk.get_by_test_id("go-ready").click()
    await expect(alert).to_have_count(0)
    await expect(row).not_to_have_class("overdue")
