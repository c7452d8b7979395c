"""Load a flow file: YAML with line numbers, the schema, then the checks across nodes.

Every mistake is reported as ``file:line: where: reason`` and all of them are
reported at once. A file that fails any check never becomes a `Flow`, so a
registry that already holds a working version keeps serving it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from ticketline.core.errors import TicketlineError
from ticketline.ivr import sayas
from ticketline.ivr.expr import ExprError, Expression, compile_expr
from ticketline.ivr.schema import (
    Branch,
    Collect,
    FlowDef,
    Goto,
    Hangup,
    Language,
    Lookup,
    Node,
    PromptRef,
    Queue,
    Schedule,
    SetVars,
    Sms,
    Transfer,
    Voicemail,
    caller_driven,
    targets,
)

MAX_FILE_BYTES = 512 * 1024

# Variables every call has before the flow sets any (see engine.CallState.builtins).
BUILTIN_VARS = frozenset(
    {
        "caller",
        "called",
        "call_id",
        "lang",
        "flow",
        "customer",
        "vip_tier",
        "now",
        "today",
        "hour",
        "minute",
        "weekday",
        "value",
        "digits",
        "speech",
    }
)


@dataclass(frozen=True)
class FlowProblem:
    """One mistake in a flow file, with where it is and why."""

    file: str
    line: int
    where: str
    reason: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{self.line}:{where} {self.reason}"


class FlowInvalid(TicketlineError):
    """A flow file that cannot be used; `problems` lists every mistake found."""

    code = "flow_invalid"
    status = 422

    def __init__(self, problems: Sequence[FlowProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "\n".join(str(p) for p in problems),
            details={"problems": [p.__dict__ for p in problems]},
        )


@dataclass(frozen=True)
class Flow:
    """A checked flow, ready to run; immutable, so a call keeps the version it began on."""

    definition: FlowDef
    version: str
    path: str
    lines: dict[str, int]
    expressions: dict[str, Expression]
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.definition.flow

    def node(self, node_id: str) -> Node:
        return self.definition.nodes[node_id]

    def expr(self, source: str) -> Expression:
        return self.expressions[source]


class _LineMap(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int
    lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records lines and refuses duplicate keys (YAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        result = _LineMap()
        result.line = node.start_mark.line + 1
        result.lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain values", key_node.start_mark
                )
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.lines[key] = key_node.start_mark.line + 1
        return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _LineLoader.construct_mapping,
)


def load_file(path: str | Path, actions: Iterable[str] | None = None) -> Flow:
    """Read and check one flow file; raise FlowInvalid listing every mistake."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FlowInvalid([FlowProblem(file.name, 0, "", f"cannot read: {exc.strerror}")]) from exc
    if len(data) > MAX_FILE_BYTES:
        problem = FlowProblem(file.name, 0, "", f"file over {MAX_FILE_BYTES} bytes")
        raise FlowInvalid([problem])
    return load_text(data.decode("utf-8", errors="replace"), file.name, actions, str(file))


def load_text(
    text: str, name: str = "<flow>", actions: Iterable[str] | None = None, path: str = ""
) -> Flow:
    """Check flow text; `actions` are the business actions lookups may name (None: any)."""
    raw = _parse_yaml(text, name)
    try:
        definition = FlowDef.model_validate(_stringify_keys(raw))
    except ValidationError as exc:
        raise FlowInvalid([_problem_of(error, raw, name) for error in exc.errors()]) from exc
    checker = _Checker(definition, raw, name, None if actions is None else set(actions))
    checker.run()
    if checker.problems:
        raise FlowInvalid(checker.problems)
    version = hashlib.sha256(text.encode()).hexdigest()[:12]
    lines = {node_id: _line_at(raw, ("nodes", node_id)) for node_id in definition.nodes}
    return Flow(definition, version, path, lines, checker.expressions, tuple(checker.warnings))


def _parse_yaml(text: str, name: str) -> _LineMap:
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise FlowInvalid([FlowProblem(name, line, "", f"YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise FlowInvalid([FlowProblem(name, 0, "", f"YAML: {exc}")]) from exc
    if not isinstance(raw, _LineMap):
        raise FlowInvalid([FlowProblem(name, 1, "", "a flow file must be a mapping")])
    return raw


def _stringify_keys(value: Any) -> Any:
    """YAML reads `1:` as an int; menu keys and node ids are text."""
    if isinstance(value, dict):
        return {str(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value


def _problem_of(error: Any, raw: _LineMap, name: str) -> FlowProblem:
    loc = tuple(str(part) for part in error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "union_tag_invalid":
        message = f"unknown node type {error.get('input', {}).get('type')!r}"
    return FlowProblem(name, _line_at(raw, loc), _where(loc, raw), message)


def _where(loc: Sequence[str], raw: _LineMap) -> str:
    """The path a person reads: the keys that exist in the file (no pydantic tag names)."""
    parts, current = [], raw
    for part in loc:
        if isinstance(current, dict) and part in (str(k) for k in current):
            key = next(k for k in current if str(k) == part)
            parts.append(part)
            current = current[key]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            parts.append(part)
            current = current[int(part)]
        elif not isinstance(current, dict | list):
            break
        elif part not in _PYDANTIC_TAGS:
            parts.append(part)
    return ".".join(parts)


_PYDANTIC_TAGS = {
    "say",
    "play",
    "announce",
    "menu",
    "collect",
    "set",
    "branch",
    "schedule",
    "lookup",
    "queue",
    "voicemail",
    "transfer",
    "sms",
    "language",
    "hangup",
    "goto",
    "str",
    "dict[str,str]",
    "dict[literal['zh','en'],str]",
}


def _line_at(raw: _LineMap, loc: Sequence[str]) -> int:
    """The line of the deepest part of `loc` found in the file."""
    line, current = raw.line, raw
    for part in loc:
        if isinstance(current, _LineMap):
            key = next((k for k in current if str(k) == part), None)
            if key is None:
                continue  # a pydantic tag (node type) or a missing field: stay on the parent
            line = current.lines.get(key, line)
            current = current[key]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
            line = getattr(current, "line", line)
    return line


@dataclass
class _Checker:
    """The checks that need the whole flow: references, expressions, prompts, loops."""

    flow: FlowDef
    raw: _LineMap
    name: str
    actions: set[str] | None
    problems: list[FlowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    expressions: dict[str, Expression] = field(default_factory=dict)

    def run(self) -> None:
        known = BUILTIN_VARS | self._assigned()
        self._check_start()
        self._check_prompts()
        for node_id, node in self.flow.nodes.items():
            self._check_targets(node_id, node)
            self._check_node(node_id, node, known)
        self._check_loops()
        self._check_reachable()

    def problem(self, loc: Sequence[str], reason: str) -> None:
        line = _line_at(self.raw, loc)
        self.problems.append(FlowProblem(self.name, line, ".".join(loc), reason))

    def _assigned(self) -> set[str]:
        names: set[str] = set()
        for node in self.flow.nodes.values():
            if isinstance(node, SetVars):
                names.update(node.vars)
            elif isinstance(node, Collect):
                names.add(node.var)
            elif isinstance(node, Lookup):
                names.add(node.into)
        return names

    def _check_start(self) -> None:
        if self.flow.start not in self.flow.nodes:
            self.problem(("start",), f"no node named {self.flow.start!r}")

    def _check_prompts(self) -> None:
        for prompt_id, prompt in self.flow.prompts.items():
            for lang in self.flow.languages:
                text = getattr(prompt, lang)
                if text is None and lang not in prompt.file:
                    self.problem(("prompts", prompt_id), f"no {lang} text or file")
                elif text is not None:
                    self._check_template(("prompts", prompt_id, lang), text)

    def _check_targets(self, node_id: str, node: Node) -> None:
        for where, target in targets(node).items():
            if target not in self.flow.nodes:
                loc = ("nodes", node_id, *where.split("."))
                self.problem(loc, f"no node named {target!r}")
        if node.max_visits is not None and node.on_limit is None:
            self.warnings.append(f"{node_id}: max_visits without on_limit hangs up at the limit")

    def _check_node(self, node_id: str, node: Node, known: AbstractSet[str]) -> None:
        base = ("nodes", node_id)
        for field_name in ("prompt", "timeout_prompt", "invalid_prompt"):
            ref = getattr(node, field_name, None)
            if ref is not None:
                self._check_prompt_ref((*base, field_name), ref)
        for loc, source in _expressions_of(node):
            self._check_expr((*base, *loc), source, known)
        self._check_specific(base, node, known)

    def _check_specific(self, base: tuple[str, ...], node: Node, known: AbstractSet[str]) -> None:
        if (
            isinstance(node, Lookup)
            and self.actions is not None
            and node.action not in self.actions
        ):
            choices = ", ".join(sorted(self.actions))
            self.problem((*base, "action"), f"unknown action {node.action!r} (known: {choices})")
        if isinstance(node, Schedule):
            self._check_calendar(base, node.calendar)
        if isinstance(node, Transfer):
            self._check_template((*base, "to"), node.to)

    def _check_calendar(self, base: tuple[str, ...], name: str) -> None:
        calendar = self.flow.calendars.get(name)
        if calendar is None:
            self.problem((*base, "calendar"), f"no calendar named {name!r}")
            return
        try:
            ZoneInfo(calendar.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(
                ("calendars", name, "timezone"), f"unknown time zone {calendar.timezone!r}"
            )

    def _check_prompt_ref(self, loc: tuple[str, ...], ref: PromptRef) -> None:
        if isinstance(ref, str):
            if ref not in self.flow.prompts:
                self.problem(loc, f"no prompt named {ref!r} in prompts")
            return
        for lang in self.flow.languages:
            if lang not in ref:
                self.problem(loc, f"no {lang} text")
        for lang, text in ref.items():
            self._check_template((*loc, lang), text)

    def _check_template(self, loc: tuple[str, ...], text: str) -> None:
        try:
            found = sayas.placeholders(text)
        except sayas.SayAsError as exc:
            self.problem(loc, str(exc))
            return
        known = BUILTIN_VARS | self._assigned()
        for name, _ in found:
            root = name.split(".")[0]
            if root not in known:
                self.problem(loc, f"unknown variable {root!r} in {{{name}}}")

    def _check_expr(self, loc: tuple[str, ...], source: str, known: AbstractSet[str]) -> None:
        try:
            expression = compile_expr(source)
        except ExprError as exc:
            self.problem(loc, str(exc))
            return
        unknown = sorted(expression.names - known)
        if unknown:
            self.problem(loc, f"unknown variable {unknown[0]!r} in {source!r}")
            return
        self.expressions[source] = expression

    def _check_loops(self) -> None:
        for cycle in _spinning_cycles(self.flow):
            path = " -> ".join([*cycle, cycle[0]])
            self.problem(
                ("nodes", cycle[0]),
                f"loop {path} never waits for the caller; give one node max_visits",
            )

    def _check_reachable(self) -> None:
        seen, todo = set(), [self.flow.start]
        while todo:
            current = todo.pop()
            if current in seen or current not in self.flow.nodes:
                continue
            seen.add(current)
            todo.extend(targets(self.flow.nodes[current]).values())
        for node_id in self.flow.nodes:
            if node_id not in seen:
                self.warnings.append(f"{node_id}: never reached from {self.flow.start}")


def _expressions_of(node: Node) -> list[tuple[tuple[str, ...], str]]:
    """Every expression a node carries, with where it sits."""
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(node, SetVars):
        found += [(("vars", k), v) for k, v in node.vars.items()]
    elif isinstance(node, Branch):
        found += [(("cases", str(i), "if"), c.when) for i, c in enumerate(node.cases)]
    elif isinstance(node, Lookup):
        found += [(("args", k), v) for k, v in node.args.items()]
    elif isinstance(node, Queue):
        found.append((("priority",), node.priority))
    elif isinstance(node, Sms):
        found += [(("values", k), v) for k, v in node.values.items()]
        found.append((("to",), node.to))
    elif isinstance(node, Language) and node.language not in ("zh", "en"):
        found.append((("language",), node.language))
    elif isinstance(node, Collect) and node.check:
        found.append((("check",), node.check))
    return found


def _spinning_cycles(flow: FlowDef) -> list[list[str]]:
    """Cycles of edges taken without caller input through nodes that have no max_visits.

    Tarjan's strongly connected components over that sub-graph: every component of
    more than one node, or a node that leads to itself, can spin without end.
    """
    graph: dict[str, list[str]] = {}
    for node_id, node in flow.nodes.items():
        if node.max_visits is not None or isinstance(node, Hangup | Goto | Queue | Voicemail):
            graph[node_id] = []
            continue
        graph[node_id] = [
            target
            for where, target in targets(node).items()
            if target in flow.nodes and not caller_driven(node, where)
        ]
    return [c for c in _components(graph) if len(c) > 1 or c[0] in graph[c[0]]]


def _components(graph: dict[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan, so a long chain of nodes cannot hit the recursion limit.
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))

    for node_id in graph:
        if node_id not in index:
            visit(node_id)
    return found
