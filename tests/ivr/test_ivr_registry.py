"""Reloading flows: a broken edit never replaces a working flow; calls keep their version."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ticketline.ivr.actions import ActionContext, ActionResult
from ticketline.ivr.engine import IvrDeps, run_call
from ticketline.ivr.events import FlowRejected, FlowReloaded
from ticketline.ivr.registry import FlowRegistry
from ticketline.ivr.simulator import SimulatedCall, parse_script

from .conftest import FLOWS

TINY = """\
flow: tiny
numbers: ["95200"]
start: ask
nodes:
  ask:
    type: lookup
    action: wait
    outcomes: {ok: bye}
    error: bye
  bye: {type: hangup, prompt: {zh: 旧版本, en: old version}}
"""


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 10_000_000  # a new mtime even on coarse clocks
    os.utime(path, ns=(stamp, stamp))


def test_loads_a_folder_and_routes_numbers(tmp_path: Path) -> None:
    for name in ("hotline.yaml", "theatre.yaml"):
        shutil.copy(FLOWS / name, tmp_path / name)
    registry = FlowRegistry(tmp_path)
    report = registry.reload()
    assert sorted(report.loaded) == ["hotline", "theatre"]
    assert registry.for_number("+95106").name == "theatre"
    assert registry.for_number("02161234567").name == "hotline"  # the default flow
    assert registry.reload().loaded == ()  # nothing changed, nothing reloaded


async def test_a_broken_edit_is_reported_and_the_working_version_stays(tmp_path: Path) -> None:
    events: list[object] = []

    async def publish(event: object) -> None:
        events.append(event)

    path = tmp_path / "tiny.yaml"
    write(path, TINY)
    registry = FlowRegistry(tmp_path, publish=publish)
    await registry.reload_and_announce()
    working = registry.get("tiny")
    write(path, TINY.replace("next: bye", "next: nowhere").replace("error: bye", "error: nowhere"))
    report = await registry.reload_and_announce()
    assert [str(p) for p in report.rejected] == [
        "tiny.yaml:9: nodes.ask.error: no node named 'nowhere'"
    ]
    assert registry.get("tiny") is working
    assert isinstance(events[0], FlowReloaded)
    assert isinstance(events[-1], FlowRejected)
    assert events[-1].problems == ("tiny.yaml:9: nodes.ask.error: no node named 'nowhere'",)


async def test_a_call_in_progress_finishes_on_the_version_it_started_with(
    tmp_path: Path, deps: IvrDeps
) -> None:
    path = tmp_path / "tiny.yaml"
    write(path, TINY)
    registry = FlowRegistry(tmp_path)
    registry.reload()
    inside, release = asyncio.Event(), asyncio.Event()

    async def wait(ctx: ActionContext, args: Mapping[str, object]) -> ActionResult:
        inside.set()
        await release.wait()
        return ActionResult("ok")

    deps.actions.register("wait", wait)
    old_call = SimulatedCall(parse_script(""), call_id="old")
    running = asyncio.create_task(run_call(registry.for_number("95200"), old_call, deps))
    await inside.wait()
    write(path, TINY.replace("旧版本", "新版本"))
    registry.reload()
    release.set()
    await running
    new_call = SimulatedCall(parse_script(""), call_id="new")
    await run_call(registry.for_number("95200"), new_call, deps)
    assert "say[zh] 旧版本" in old_call.transcript
    assert "say[zh] 新版本" in new_call.transcript


async def test_the_watcher_picks_up_a_changed_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    write(path, TINY)
    registry = FlowRegistry(tmp_path)
    registry.reload()
    before = registry.get("tiny").version
    registry.start_watching(interval=0.01)
    try:
        write(path, TINY.replace("旧版本", "新版本"))
        for _ in range(500):
            if registry.get("tiny").version != before:
                break
            await asyncio.sleep(0.01)
    finally:
        await registry.stop_watching()
    assert registry.get("tiny").version != before


def test_a_deleted_file_takes_its_flow_away(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    write(path, TINY)
    registry = FlowRegistry(tmp_path)
    registry.reload()
    path.unlink()
    assert registry.reload().removed == ("tiny",)
    assert registry.names() == []
