"""The flow engine driven by a simulated caller: what the caller hears, where calls go."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ticketline.core.clock import FixedClock
from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.engine import IvrDeps
from ticketline.ivr.events import IvrCallEnded, VoicemailLeft
from ticketline.ivr.loader import load_file
from ticketline.ivr.simulator import SimulatedQueue
from ticketline.ivr.stats import FlowStats

from .conftest import FLOWS, Simulate, flow_of

HOTLINE = load_file(FLOWS / "hotline.yaml")


def said(call: object) -> list[str]:
    return [line for line in call.transcript if line.startswith("say")]  # type: ignore[attr-defined]


async def test_english_caller_reaches_the_main_menu_and_an_agent(simulate: Simulate) -> None:
    call, trace = await simulate(HOTLINE, "2,0")
    assert said(call)[0].startswith("say[zh] 您好，欢迎致电")
    assert said(call)[1].startswith("say[en] For timetables and fares, press 1.")
    assert "queue english skill=None priority=0 -> connected" in call.transcript
    assert trace.outcome == "queued"
    assert trace.path[:7] == [
        "identify",
        "choose_language",
        "lang_en",
        "greet_known",
        "notices",
        "hours",
        "main",
    ]


async def test_silence_at_the_language_menu_means_mandarin(simulate: Simulate) -> None:
    call, _ = await simulate(HOTLINE, ",0")
    assert said(call)[1].startswith("say[zh] 查询车次时刻和票价请按1")


async def test_menu_retries_on_timeout_and_invalid_keys_then_falls_back(simulate: Simulate) -> None:
    call, trace = await simulate(HOTLINE, "2,,7,")
    assert "say[en] We did not receive your input." in call.transcript
    assert "say[en] Sorry, that is not a valid choice." in call.transcript
    assert sum(line.startswith("say[en] For timetables") for line in call.transcript) == 3
    assert [s.event for s in trace.steps if s.node == "main"] == [
        "enter",
        "timeout",
        "invalid",
        "timeout",
        "exit",
    ]
    assert ("main", "exit", "fallback") in [(s.node, s.event, s.label) for s in trace.steps]
    assert trace.outcome == "queued"


async def test_date_is_validated_and_read_back_before_use(simulate: Simulate) -> None:
    # 1399 is no date; 1201 is read back as a date and confirmed with 1.
    call, trace = await simulate(HOTLINE, "2,1,01#,02#,1399#,1201#,1")
    assert "say[en] You entered December 1, 2026. Press 1 to confirm, or 2 to enter it again." in (
        call.transcript
    )
    invalid = [s for s in trace.steps if s.node == "tt_date" and s.event == "invalid"]
    assert [s.label for s in invalid] == ["1399"]
    assert "tt_lookup" in trace.path


async def test_a_past_date_and_the_same_station_twice_are_refused(simulate: Simulate) -> None:
    _call, trace = await simulate(HOTLINE, "2,1,01#,01#,02#,20261101#,h")
    invalid = [(s.node, s.label) for s in trace.steps if s.event == "invalid"]
    assert invalid == [("tt_to", "01"), ("tt_date", "20261101")]
    assert trace.outcome == "caller_hangup"
    assert trace.steps[-1].event == "hangup"


async def test_keys_pressed_during_a_prompt_cut_it_short(simulate: Simulate) -> None:
    call, _ = await simulate(HOTLINE, "!2,!0")
    assert "  (cut short by 2)" in call.transcript
    assert any(line.startswith("queue english") for line in call.transcript)


async def test_type_ahead_keys_serve_the_next_menus(simulate: Simulate) -> None:
    _call, trace = await simulate(HOTLINE, "20")
    assert trace.outcome == "queued"


async def test_after_hours_caller_leaves_a_message(simulate: Simulate, deps: IvrDeps) -> None:
    published: list[object] = []

    async def publish(event: object) -> None:
        published.append(event)

    deps.publish = publish
    deps.clock = FixedClock(datetime(2026, 11, 23, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    call, trace = await simulate(HOTLINE, "1,1")
    assert any("现在是非工作时间" in line for line in call.transcript)
    assert trace.outcome == "voicemail"
    left = [e for e in published if isinstance(e, VoicemailLeft)]
    assert left[0].box == "hotline"
    assert left[0].path.endswith("/hotline/2026/11/23/sim-1.wav")
    ended = [e for e in published if isinstance(e, IvrCallEnded)]
    assert ended[0].outcome == "voicemail"
    assert not ended[0].contained


async def test_holidays_close_and_special_days_have_their_own_hours(
    simulate: Simulate, deps: IvrDeps
) -> None:
    deps.clock = FixedClock(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))  # National Day, 10:00
    _, trace = await simulate(HOTLINE, "1,h")
    assert "closed" in trace.path
    deps.clock = FixedClock(datetime(2026, 12, 31, 10, 0, tzinfo=UTC))  # 18:00 on New Year's Eve
    _, trace = await simulate(HOTLINE, "1,h")
    assert "closed" in trace.path
    deps.clock = FixedClock(datetime(2026, 12, 31, 8, 0, tzinfo=UTC))  # 16:00
    _, trace = await simulate(HOTLINE, "1,h")
    assert "main" in trace.path


async def test_lookup_outcomes_branch_and_the_reply_is_spoken(
    simulate: Simulate, deps: IvrDeps
) -> None:
    seen: list[Mapping[str, object]] = []

    async def timetable(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        seen.append(args)
        reply = {"zh": "有两个班次。", "en": "There are two trips."}
        return ActionResult("ok", {"reply": reply, "count": 2})

    deps.actions.register("timetable", timetable, args=("origin", "destination", "date"))
    call, trace = await simulate(HOTLINE, "2,1,01#,02#,1201#,1,h")
    assert seen == [{"origin": "01", "destination": "02", "date": "2026-12-01"}]
    assert "say[en] There are two trips." in call.transcript
    assert trace.served
    assert trace.contained


async def test_a_failing_action_takes_the_error_branch_and_the_call_goes_on(
    simulate: Simulate, deps: IvrDeps
) -> None:
    async def broken(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        raise RuntimeError("database down")

    deps.actions.register("timetable", broken)
    call, trace = await simulate(HOTLINE, "2,1,01#,02#,1201#,1,0")
    assert "say[en] Sorry, this service is not available right now." in " ".join(call.transcript)
    assert trace.outcome == "queued"
    assert ("tt_lookup", "error") in [(s.node, s.event) for s in trace.steps]


async def test_identified_vip_hears_their_name_and_queues_with_priority(
    simulate: Simulate, deps: IvrDeps
) -> None:
    async def identify(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        customer = {"id": "c1", "name": "王芳", "vip_tier": 3}
        return ActionResult("ok", {"customer": customer, "self_service": False})

    deps.actions.register("identify_caller", identify)
    queue = SimulatedQueue()
    deps.queue = queue
    call, _ = await simulate(HOTLINE, "1,0")
    assert "say[zh] 王芳，您好，欢迎您再次来电。" in call.transcript
    assert queue.requests[0].priority == 3
    assert queue.requests[0].customer_id == "c1"


async def test_busy_queue_offers_voicemail(simulate: Simulate, deps: IvrDeps) -> None:
    deps.queue = SimulatedQueue("no_agents")
    call, trace = await simulate(HOTLINE, "1,0")
    assert "say[zh] 抱歉，座席全忙。" in call.transcript
    assert trace.outcome == "voicemail"


async def test_visits_are_bounded_at_run_time(simulate: Simulate) -> None:
    flow = flow_of(
        """
        flow: bounded
        start: count
        nodes:
          count: {type: set, vars: {n: "1"}, next: check, max_visits: 3, on_limit: done}
          check:
            type: branch
            cases: [{if: "n > 0", then: count}]
            else: done
          done: {type: hangup, prompt: {zh: 再见, en: Bye}}
        """
    )
    call, trace = await simulate(flow, "")
    assert trace.path.count("count") == 3
    assert ("count", "limit") in [(s.node, s.event) for s in trace.steps]
    assert call.transcript[-2:] == ["say[zh] 再见", "hangup"]


async def test_goto_another_flow_continues_in_its_current_version(
    simulate: Simulate, deps: IvrDeps
) -> None:
    other = flow_of(
        """
        flow: other
        start: hi
        nodes:
          hi: {type: hangup, prompt: {zh: 另一个流程, en: Other flow}}
        """
    )
    first = flow_of(
        """
        flow: first
        start: jump
        nodes:
          jump: {type: goto, flow: other}
        """
    )
    deps.flows = {"other": other}.__getitem__
    call, trace = await simulate(first, "")
    assert call.transcript[-2:] == ["say[zh] 另一个流程", "hangup"]
    assert trace.path == ["jump", "hi"]


async def test_stats_count_entries_exits_timeouts_and_containment(simulate: Simulate) -> None:
    stats = FlowStats("hotline")
    for keys in ("1,0", "2,,0", "2,7,h", "1,h"):
        _, trace = await simulate(HOTLINE, keys)
        stats.add(trace)
    main = stats.nodes["main"]
    assert stats.calls == 4
    assert main.entries == 4
    assert main.exits["0"] == 2
    assert main.timeouts == 1
    assert main.invalid == 1
    assert main.hangups == 2
    assert stats.outcomes["queued"] == 2
    assert stats.containment_rate == 0.0
