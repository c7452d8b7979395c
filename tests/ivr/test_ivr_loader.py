"""Flow files: every mistake reported with file, line and reason; loops bounded."""

from __future__ import annotations

import textwrap

import pytest

from ticketline.ivr.loader import FlowInvalid, load_file, load_text

from .conftest import FLOWS

GOOD = """\
flow: tiny
languages: [zh, en]
start: hello
nodes:
  hello:
    type: say
    prompt: {zh: 您好, en: Hello}
    next: bye
  bye: {type: hangup}
"""


def problems(text: str, actions: set[str] | None = None) -> list[str]:
    with pytest.raises(FlowInvalid) as caught:
        load_text(textwrap.dedent(text), "f.yaml", actions)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_flows_load_cleanly() -> None:
    for name in ("hotline.yaml", "theatre.yaml"):
        flow = load_file(FLOWS / name)
        assert flow.definition.languages == ["zh", "en"]
        assert flow.warnings == ()


def test_a_good_flow_gets_a_version_from_its_content() -> None:
    first = load_text(GOOD)
    assert load_text(GOOD).version == first.version
    assert load_text(GOOD.replace("Hello", "Hi")).version != first.version


def test_unknown_node_type_is_reported_on_its_line() -> None:
    found = problems(GOOD.replace("type: say", "type: shout"))
    assert found == ["f.yaml:5: nodes.hello: unknown node type 'shout'"]


def test_unknown_field_and_missing_field_name_the_place() -> None:
    text = GOOD.replace("    next: bye\n", "    nxt: bye\n")
    found = problems(text)
    assert "f.yaml:8: nodes.hello.nxt: unknown field" in found
    assert any(p.startswith("f.yaml:5: nodes.hello.next:") and "required" in p for p in found)


def test_reference_to_a_missing_node_names_line_and_target() -> None:
    found = problems(GOOD.replace("next: bye", "next: byebye"))
    assert found == ["f.yaml:8: nodes.hello.next: no node named 'byebye'"]


def test_every_language_needs_its_text() -> None:
    found = problems(GOOD.replace("{zh: 您好, en: Hello}", "{zh: 您好}"))
    assert found == ["f.yaml:7: nodes.hello.prompt: no en text"]


def test_yaml_errors_and_duplicate_keys_carry_lines() -> None:
    assert problems("flow: x\nstart: [\n")[0].startswith("f.yaml:3: YAML:")
    duplicated = GOOD + "  bye: {type: hangup}\n"
    assert problems(duplicated) == ["f.yaml:10: YAML: duplicate key 'bye'"]


def test_expressions_are_checked_at_load() -> None:
    text = GOOD.replace("start: hello", "start: check") + (
        "  check:\n"
        "    type: branch\n"
        "    cases:\n"
        '      - {if: "vip_tierr > 2", then: bye}\n'
        "      - {if: \"__import__('os')\", then: bye}\n"
        "    else: hello\n"
    )
    found = problems(text)
    assert (
        "f.yaml:13: nodes.check.cases.0.if: unknown variable 'vip_tierr' in 'vip_tierr > 2'"
        in found
    )
    assert any("cases.1.if" in p and "only these functions" in p for p in found)


def test_unknown_actions_and_calendars_are_refused() -> None:
    text = """\
    flow: t
    start: find
    nodes:
      find:
        type: lookup
        action: fly_to_moon
        outcomes: {ok: when}
        error: when
      when: {type: schedule, calendar: office, open: bye, closed: bye}
      bye: {type: hangup}
    """
    found = problems(text, actions={"timetable", "fares"})
    assert (
        "f.yaml:6: nodes.find.action: unknown action 'fly_to_moon' (known: fares, timetable)"
        in found
    )
    assert "f.yaml:9: nodes.when.calendar: no calendar named 'office'" in found


def test_a_loop_that_never_waits_for_the_caller_is_refused() -> None:
    text = """\
    flow: spin
    start: a
    nodes:
      a: {type: set, vars: {n: "1"}, next: b}
      b:
        type: branch
        cases: [{if: "n > 0", then: a}]
        else: done
      done: {type: hangup}
    """
    found = problems(text)
    assert found == [
        "f.yaml:4: nodes.a: loop a -> b -> a never waits for the caller; give one node max_visits"
    ]


def test_loops_through_caller_input_or_with_max_visits_are_allowed() -> None:
    bounded = """\
    flow: retry
    start: a
    nodes:
      a: {type: set, vars: {n: "1"}, next: b, max_visits: 3, on_limit: done}
      b:
        type: branch
        cases: [{if: "n > 0", then: a}]
        else: done
      done: {type: hangup}
    """
    assert load_text(textwrap.dedent(bounded)).name == "retry"
    menu_loop = """\
    flow: again
    start: m
    nodes:
      m:
        type: menu
        prompt: {zh: 按1重听, en: Press 1 to repeat}
        options: {"1": say}
        fallback: done
      say: {type: say, prompt: {zh: 好, en: OK}, next: m}
      done: {type: hangup}
    """
    assert load_text(textwrap.dedent(menu_loop)).name == "again"


def test_a_fallback_loop_spins_without_the_caller_and_is_refused() -> None:
    text = """\
    flow: deaf
    start: m
    nodes:
      m:
        type: menu
        prompt: {zh: 请按1, en: Press 1}
        options: {"1": done}
        fallback: m
      done: {type: hangup}
    """
    assert "loop m -> m never waits" in problems(text)[0]


def test_bad_calendar_values_are_named() -> None:
    text = GOOD + "calendars:\n  office:\n    weekly: {mon-fry: ['08:00-21:00'], sat: ['9-5']}\n"
    found = problems(text)
    assert any("calendars.office.weekly" in p and "mon-fry" in p for p in found)
