"""`ticketline ivr ...`: check, simulate, draw and pre-render flows.

The composition root passes `open_deps`, which builds the IVR's dependencies
(business actions bound to the database, the prompt cache, SMS) for a clock;
without it the commands run with no business actions and text-only prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from ticketline.core.clock import Clock, FixedClock, SystemClock
from ticketline.ivr.actions import ActionRegistry
from ticketline.ivr.engine import IvrDeps, run_call
from ticketline.ivr.graph import mermaid
from ticketline.ivr.loader import Flow, FlowInvalid, load_file
from ticketline.ivr.prompts import PromptCache
from ticketline.ivr.simulator import SimulatedCall, SimulatedQueue, TextPrompts, parse_script
from ticketline.ivr.stats import CallTrace, FlowStats

DepsFactory = Callable[[Clock], AbstractAsyncContextManager[IvrDeps]]
FlowArg = Annotated[Path, typer.Argument(help="A flow file (YAML)", exists=True, dir_okay=False)]
console = Console(soft_wrap=True)


@contextlib.asynccontextmanager
async def _bare_deps(clock: Clock) -> AsyncIterator[IvrDeps]:
    yield IvrDeps(prompts=TextPrompts(), actions=ActionRegistry(), clock=clock)


def build_cli(open_deps: DepsFactory | None = None) -> typer.Typer:
    """The `ivr` command group."""
    app = typer.Typer(help="Voice menus: check, simulate and draw flows.", no_args_is_help=True)
    factory = open_deps or _bare_deps

    @app.command("check")
    def check(flows: Annotated[list[Path], typer.Argument(help="Flow files")]) -> None:
        """Validate flow files; print every mistake as file:line: where: reason."""
        failed = False
        for path in flows:
            try:
                flow = load_file(path, _action_names(factory))
            except FlowInvalid as exc:
                failed = True
                for problem in exc.problems:
                    console.print(f"[red]{problem}[/red]", highlight=False)
                continue
            console.print(f"{path}: ok, flow {flow.name} version {flow.version}", highlight=False)
            for warning in flow.warnings:
                console.print(f"[yellow]warning[/yellow] {path}: {warning}", highlight=False)
        if failed:
            raise typer.Exit(1)

    @app.command("simulate")
    def simulate(
        flow_file: FlowArg,
        keys: Annotated[str, typer.Option(help="Caller input, one item per wait: '1,20261201#'")],
        caller: Annotated[str, typer.Option(help="Calling number")] = "13800138000",
        called: Annotated[str, typer.Option(help="Dialled number")] = "95105",
        at: Annotated[str | None, typer.Option(help="Time of the call, ISO 8601")] = None,
        queue_outcome: Annotated[
            str, typer.Option(help="What the ACD does with a hand-off")
        ] = "connected",
    ) -> None:
        """Run a flow with a scripted caller and print what would be said and done."""
        flow = _load_or_exit(flow_file, factory)
        clock = FixedClock(_parse_at(at)) if at else SystemClock()
        call = SimulatedCall(parse_script(keys), caller=caller, called=called)
        trace = asyncio.run(_simulate(flow, call, factory, clock, queue_outcome))
        for line in call.transcript:
            console.print(line, highlight=False, markup=False)
        stats = FlowStats(flow.name)
        stats.add(trace)
        console.print(f"path: {' > '.join(trace.path)}", highlight=False, markup=False)
        console.print(f"outcome: {trace.outcome} (self-service: {trace.contained})")

    @app.command("graph")
    def graph(
        flow_file: FlowArg,
        output: Annotated[Path | None, typer.Option("-o", help="Write here (.mmd)")] = None,
    ) -> None:
        """Write the flow as a Mermaid diagram."""
        text = mermaid(_load_or_exit(flow_file, factory))
        if output is None:
            console.print(text, highlight=False, markup=False)
        else:
            output.write_text(text, encoding="utf-8")
            console.print(f"wrote {output}")

    @app.command("prompts")
    def prompts(flow_file: FlowArg) -> None:
        """Render a flow's fixed prompts into the cache (both languages) ahead of calls."""
        flow = _load_or_exit(flow_file, factory)
        started = time.perf_counter()
        rendered = asyncio.run(_render(flow, factory))
        took = time.perf_counter() - started
        console.print(f"{flow.name}: {rendered} prompts rendered in {took:.2f} s")

    return app


async def _render(flow: Flow, factory: DepsFactory) -> int:
    async with factory(SystemClock()) as deps:
        if not isinstance(deps.prompts, PromptCache):
            raise typer.BadParameter("no prompt cache configured")
        return await deps.prompts.render_flow(flow)


async def _simulate(
    flow: Flow, call: SimulatedCall, factory: DepsFactory, clock: Clock, queue_outcome: str
) -> CallTrace:
    async with factory(clock) as deps:
        deps.queue = deps.queue or SimulatedQueue(queue_outcome)
        return await run_call(flow, call, deps)


def _action_names(factory: DepsFactory) -> set[str] | None:
    if factory is _bare_deps:
        return None

    async def names() -> set[str]:
        async with factory(SystemClock()) as deps:
            return deps.actions.names()

    return asyncio.run(names())


def _load_or_exit(path: Path, factory: DepsFactory) -> Flow:
    try:
        return load_file(path, _action_names(factory))
    except FlowInvalid as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]", highlight=False)
        raise typer.Exit(1) from exc


def _parse_at(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--at: not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
