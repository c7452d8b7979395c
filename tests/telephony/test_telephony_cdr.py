"""Call detail records: every call and leg stored, durations right, nothing left open."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ticketline.app import Application
from ticketline.core.clock import FixedClock
from ticketline.core.paging import PageRequest
from ticketline.telephony import cdr
from ticketline.telephony.cdr import Answered, CallOpened, Closed, LegOpened


async def place_call(app: Application, clock: FixedClock, call_id: str = "c1") -> None:
    start = clock.now()
    app.cdr.record(
        CallOpened(
            call_id, f"sip-{call_id}", "inbound", "+8613800138000", "95105", start, trunk="carrier"
        )
    )
    app.cdr.record(
        LegOpened(
            f"{call_id}-a",
            call_id,
            "caller",
            "inbound",
            "sip:+8613800138000@10.0.0.1",
            f"sip-{call_id}",
            start,
        )
    )
    app.cdr.record(
        LegOpened(
            f"{call_id}-b",
            call_id,
            "agent",
            "outbound",
            "sip:1001@127.0.0.1",
            f"sip-{call_id}-b",
            start + timedelta(seconds=5),
        )
    )
    app.cdr.record(Answered(call_id, start + timedelta(seconds=8), leg_id=f"{call_id}-b"))
    app.cdr.record(Answered(call_id, start + timedelta(seconds=8)))
    end = start + timedelta(seconds=68)
    app.cdr.record(Closed(call_id, end, "normal", "caller", leg_id=f"{call_id}-a"))
    app.cdr.record(Closed(call_id, end, "normal", "caller", leg_id=f"{call_id}-b"))
    app.cdr.record(Closed(call_id, end, "normal", "caller"))


async def test_a_finished_call_has_its_legs_and_durations(
    application: Application, clock: FixedClock
) -> None:
    await application.cdr.start(clock.now())
    await place_call(application, clock)
    await application.cdr.stop()
    found = await cdr.search_calls(application.db, cdr.CdrQuery(), PageRequest())
    [call] = found.items
    assert (call.caller, call.callee, call.trunk) == ("+8613800138000", "95105", "carrier")
    assert call.duration_ms == 68_000
    assert call.talk_ms == 60_000
    assert (call.end_cause, call.hangup_by, call.status) == ("normal", "caller", "ended")
    legs = await cdr.legs_of(application.db, call.id)
    assert [leg.role for leg in legs] == ["caller", "agent"]
    assert all(leg.status == "ended" for leg in legs)
    assert legs[1].answered_at == clock.now() + timedelta(seconds=8)


async def test_calls_open_at_a_restart_are_closed_on_the_next_start(
    application: Application, clock: FixedClock
) -> None:
    await application.cdr.start(clock.now())
    start = clock.now()
    application.cdr.record(CallOpened("c2", "sip-c2", "inbound", "100", "200", start))
    application.cdr.record(
        LegOpened("c2-a", "c2", "caller", "inbound", "sip:100@x", "sip-c2", start)
    )
    application.cdr.record(Answered("c2", start + timedelta(seconds=2)))
    await application.cdr.stop()  # the process dies with the call up

    clock.advance(timedelta(seconds=30))
    restarted = cdr.CdrRecorder(application.db)
    assert await restarted.start(clock.now()) == 1
    await restarted.stop()
    [call] = (await cdr.search_calls(application.db, cdr.CdrQuery(), PageRequest())).items
    assert (call.status, call.end_cause, call.hangup_by) == ("ended", "process_restart", "system")
    assert call.duration_ms == 30_000
    assert call.talk_ms == 28_000
    [leg] = await cdr.legs_of(application.db, "c2")
    assert leg.end_cause == "process_restart"


async def test_search_filters_by_caller_extension_and_time(
    application: Application, clock: FixedClock
) -> None:
    await application.cdr.start(clock.now())
    await place_call(application, clock, "c3")
    clock.advance(timedelta(hours=2))
    application.cdr.record(
        CallOpened("c4", "sip-c4", "internal", "1001", "1002", clock.now(), extension="1001")
    )
    await application.cdr.stop()
    by_ext = await cdr.search_calls(application.db, cdr.CdrQuery(extension="1001"), PageRequest())
    assert [c.id for c in by_ext.items] == ["c4"]
    recent = await cdr.search_calls(
        application.db, cdr.CdrQuery(since=clock.now() - timedelta(minutes=1)), PageRequest()
    )
    assert [c.id for c in recent.items] == ["c4"]
    by_caller = await cdr.search_calls(
        application.db, cdr.CdrQuery(caller="+8613800138000"), PageRequest()
    )
    assert [c.id for c in by_caller.items] == ["c3"]


@pytest.mark.parametrize("calls", [300])
async def test_a_burst_of_calls_is_written_completely(
    application: Application, clock: FixedClock, calls: int
) -> None:
    await application.cdr.start(clock.now())
    for n in range(calls):
        await place_call(application, clock, f"burst{n}")
    await application.cdr.drain()
    found = await cdr.search_calls(
        application.db, cdr.CdrQuery(end_cause="normal"), PageRequest(1, 10)
    )
    assert found.total == calls
    await application.cdr.stop()


async def test_the_cdr_page_lists_and_filters_calls(client, demo_app, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.webclient import browser_login

    await demo_app.cdr.start(clock.now())
    await place_call(demo_app, clock, "p1")
    demo_app.cdr.record(
        CallOpened("p2", "sip-p2", "internal", "1001", "1002", clock.now(), extension="1001")
    )
    await demo_app.cdr.stop()
    await browser_login(client, "supervisor")
    page = await client.get("/calls")
    assert page.status_code == 200
    assert "共 2 通" in page.text
    assert "+8613800138000" in page.text
    assert "68.0 s" in page.text
    filtered = await client.get("/calls", params={"extension": "1001"})
    assert "共 1 通" in filtered.text
    assert "+8613800138000" not in filtered.text
    await browser_login(client, "agent1")
    assert (await client.get("/calls")).status_code == 403
