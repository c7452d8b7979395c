"""The flows of an installation: loaded from a folder, reloaded when a file changes.

A changed file is checked in full before it replaces anything: a broken edit is
reported (log and `FlowRejected` event) while the previous version keeps
serving. Calls hold the `Flow` object they started with, so a reload only
affects calls that start afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ticketline.core.errors import NotFound
from ticketline.ivr.events import FlowRejected, FlowReloaded
from ticketline.ivr.loader import Flow, FlowInvalid, FlowProblem, load_file

log = logging.getLogger(__name__)

DEFAULT_FLOWS_DIR = Path(__file__).parent / "flows"


@dataclass(frozen=True)
class ReloadReport:
    """What a reload did: flows now serving a new version, files refused with reasons."""

    loaded: tuple[str, ...] = ()
    rejected: tuple[FlowProblem, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass
class FlowRegistry:
    """Current version of every flow in `folder` (`*.yaml`), by flow name and by number."""

    folder: Path
    actions: Callable[[], Iterable[str]] | None = None
    publish: Callable[[object], Awaitable[object]] | None = None
    default_flow: str = "hotline"
    _flows: dict[str, Flow] = field(default_factory=dict)
    _stamps: dict[Path, tuple[int, int]] = field(default_factory=dict)
    _by_path: dict[Path, str] = field(default_factory=dict)
    _watcher: asyncio.Task[None] | None = None
    _loaded: bool = False

    def get(self, name: str) -> Flow:
        if not self._loaded:
            self.reload()
        try:
            return self._flows[name]
        except KeyError:
            raise NotFound(f"no IVR flow named {name!r}") from None

    def names(self) -> list[str]:
        if not self._loaded:
            self.reload()
        return sorted(self._flows)

    def for_number(self, called: str) -> Flow:
        """The flow that answers calls to `called`: one listing it, else the default flow."""
        digits = called.lstrip("+")
        if not self._loaded:
            self.reload()
        for flow in self._flows.values():
            if any(n.lstrip("+") == digits for n in flow.definition.numbers):
                return flow
        return self.get(self.default_flow)

    def reload(self) -> ReloadReport:
        """Check every changed file; swap in those that pass, keep the old version otherwise."""
        self._loaded = True
        files = sorted(self.folder.glob("*.yaml")) if self.folder.is_dir() else []
        loaded: list[str] = []
        rejected: list[FlowProblem] = []
        for path in files:
            stamp = _stamp(path)
            if stamp is None or self._stamps.get(path) == stamp:
                continue
            self._stamps[path] = stamp
            try:
                flow = self._load(path)
            except FlowInvalid as exc:
                rejected.extend(exc.problems)
                continue
            self._flows[flow.name] = flow
            self._by_path[path] = flow.name
            loaded.append(flow.name)
        removed = self._forget_deleted(set(files))
        return ReloadReport(tuple(loaded), tuple(rejected), tuple(removed))

    def _load(self, path: Path) -> Flow:
        flow = load_file(path, None if self.actions is None else self.actions())
        owner = next((p for p, n in self._by_path.items() if n == flow.name and p != path), None)
        if owner is not None:
            problem = FlowProblem(
                path.name, 1, "flow", f"name {flow.name!r} is used by {owner.name}"
            )
            raise FlowInvalid([problem])
        return flow

    def _forget_deleted(self, present: set[Path]) -> list[str]:
        removed = []
        for path in [p for p in self._by_path if p not in present]:
            removed.append(self._by_path.pop(path))
            self._flows.pop(removed[-1], None)
            self._stamps.pop(path, None)
        return removed

    async def reload_and_announce(self) -> ReloadReport:
        """Reload, log and publish what changed (the admin action and the watcher use this)."""
        report = self.reload()
        for name in report.loaded:
            flow = self._flows[name]
            log.info("IVR flow %s now at version %s", name, flow.version)
            if self.publish is not None:
                await self.publish(FlowReloaded(name, flow.version, flow.path))
        by_file: dict[str, list[str]] = {}
        for problem in report.rejected:
            by_file.setdefault(problem.file, []).append(str(problem))
        for file, problems in by_file.items():
            log.warning(
                "IVR flow %s refused; previous version kept:\n%s", file, "\n".join(problems)
            )
            if self.publish is not None:
                await self.publish(FlowRejected(file, tuple(problems)))
        return report

    def start_watching(self, interval: float = 1.0) -> None:
        """Poll the folder for changed files (no extra dependency; a stat per file per tick)."""
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(interval), name="ivr-flow-watcher")

    async def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload_and_announce()
            except Exception:  # the watcher must outlive one bad tick
                log.exception("IVR flow reload failed")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
