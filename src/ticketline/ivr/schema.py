"""The shape of a flow file: pydantic models, one per node type, strict about extras.

A flow is a mapping of named nodes. Every field that names another node is a
`NodeRef`; the loader checks those references, the expressions, the prompts and
the loops after this schema has accepted the shape (see `loader.py`).
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Lang = Literal["zh", "en"]
NodeRef = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][\w.-]*$")]
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
VarName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$", max_length=40)]
# A prompt is the id of an entry in `prompts:`, or inline text per language.
PromptRef = str | dict[Lang, Annotated[str, Field(min_length=1, max_length=2000)]]

_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromptDef(Strict):
    """A named prompt: text per language, optionally a recorded file per language."""

    zh: str | None = Field(None, max_length=2000)
    en: str | None = Field(None, max_length=2000)
    file: dict[Lang, str] = Field(default_factory=dict)


class Calendar(Strict):
    """Opening hours by weekday, public holidays (closed) and special days (own hours)."""

    timezone: str = "Asia/Shanghai"
    weekly: dict[str, list[str]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    special_days: dict[date, list[str]] = Field(default_factory=dict)

    @field_validator("weekly")
    @classmethod
    def _weekdays(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        expanded: dict[str, list[str]] = {}
        for key, ranges in value.items():
            for day in _expand_days(key):
                expanded[day] = [_check_range(r) for r in ranges]
        return expanded

    @field_validator("special_days")
    @classmethod
    def _special(cls, value: dict[date, list[str]]) -> dict[date, list[str]]:
        return {day: [_check_range(r) for r in ranges] for day, ranges in value.items()}


def _expand_days(key: str) -> list[str]:
    """'mon-fri' -> ['mon', ..., 'fri']; 'sat' -> ['sat']."""
    first, _, last = key.partition("-")
    if first not in WEEKDAYS or (last and last not in WEEKDAYS):
        raise ValueError(f"{key!r} is not a weekday or range such as mon-fri")
    start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
    if end < start:
        raise ValueError(f"{key!r} runs backwards")
    return list(WEEKDAYS[start : end + 1])


def _check_range(text: str) -> str:
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time range such as 08:00-21:00")
    start, end = parse_range(text)
    if end <= start and end != time(0, 0):
        raise ValueError(f"{text!r} ends before it starts")
    return text


def parse_range(text: str) -> tuple[time, time]:
    """'08:00-21:00' -> (08:00, 21:00); '24:00' reads as midnight at the end of the day."""
    start, end = text.split("-")
    end_time = time(0, 0) if end == "24:00" else time.fromisoformat(end)
    return time.fromisoformat(start), end_time


class NodeBase(Strict):
    """Fields every node may carry: a bound on visits per call and where to go past it."""

    max_visits: int | None = Field(None, ge=1, le=100)
    on_limit: NodeRef | None = None
    note: str | None = Field(None, max_length=500)


class Say(NodeBase):
    type: Literal["say"]
    prompt: PromptRef
    barge_in: bool = True
    next: NodeRef


class Play(NodeBase):
    type: Literal["play"]
    file: str = Field(min_length=1, max_length=300)
    barge_in: bool = True
    next: NodeRef


class Announce(NodeBase):
    """Play the announcements an operator has scheduled for this flow right now."""

    type: Literal["announce"]
    barge_in: bool = True
    next: NodeRef


class Menu(NodeBase):
    type: Literal["menu"]
    prompt: PromptRef
    options: dict[Key, NodeRef] = Field(min_length=1)
    words: dict[Key, list[str]] = Field(default_factory=dict)
    timeout: float = Field(5.0, gt=0, le=60)
    retries: int = Field(3, ge=1, le=10)
    timeout_prompt: PromptRef | None = None
    invalid_prompt: PromptRef | None = None
    fallback: NodeRef

    @model_validator(mode="after")
    def _words_for_options(self) -> Menu:
        extra = set(self.words) - set(self.options)
        if extra:
            raise ValueError(f"words given for keys that are not options: {sorted(extra)}")
        return self


Validation = Literal["digits", "date", "time", "phone", "amount"]


class Collect(NodeBase):
    type: Literal["collect"]
    prompt: PromptRef
    var: VarName
    min: int = Field(1, ge=1, le=32)
    max: int = Field(20, ge=1, le=32)
    terminator: Literal["#", "*", ""] = "#"
    timeout: float = Field(8.0, gt=0, le=60)
    inter_digit_timeout: float = Field(4.0, gt=0, le=30)
    validate_as: Validation = Field("digits", alias="validate")
    pattern: str | None = Field(None, max_length=200)
    check: str | None = Field(None, max_length=500)
    confirm: bool = False
    retries: int = Field(3, ge=1, le=10)
    invalid_prompt: PromptRef | None = None
    next: NodeRef
    fallback: NodeRef

    @model_validator(mode="after")
    def _lengths(self) -> Collect:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern: {exc}") from exc
        return self


class SetVars(NodeBase):
    type: Literal["set"]
    vars: dict[VarName, str] = Field(min_length=1)
    next: NodeRef


class Case(Strict):
    when: str = Field(alias="if", min_length=1, max_length=500)
    then: NodeRef


class Branch(NodeBase):
    type: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    otherwise: NodeRef = Field(alias="else")


class Schedule(NodeBase):
    type: Literal["schedule"]
    calendar: str
    open: NodeRef
    closed: NodeRef
    holiday: NodeRef | None = None


class Lookup(NodeBase):
    """Call a named business action; branch on its outcome (ok, not_found, ...)."""

    type: Literal["lookup"]
    action: str = Field(min_length=1, max_length=64)
    args: dict[VarName, str] = Field(default_factory=dict)
    into: VarName = "result"
    outcomes: dict[str, NodeRef] = Field(min_length=1)
    error: NodeRef


class Queue(NodeBase):
    """Hand the caller to an ACD queue; come back here only if the queue gives them back."""

    type: Literal["queue"]
    queue: str = Field(min_length=1, max_length=64)
    skill: str | None = Field(None, max_length=64)
    priority: str = "0"
    outcomes: dict[str, NodeRef] = Field(default_factory=dict)
    next: NodeRef


class Voicemail(NodeBase):
    type: Literal["voicemail"]
    box: str = Field(min_length=1, max_length=64)
    prompt: PromptRef | None = None
    max_seconds: int = Field(120, ge=5, le=600)
    next: NodeRef


class Transfer(NodeBase):
    type: Literal["transfer"]
    to: str = Field(min_length=1, max_length=64)
    prompt: PromptRef | None = None
    next: NodeRef


class Sms(NodeBase):
    type: Literal["sms"]
    template: str = Field(min_length=1, max_length=64)
    to: str = "caller"
    values: dict[str, str] = Field(default_factory=dict)
    next: NodeRef
    error: NodeRef


class Language(NodeBase):
    type: Literal["language"]
    language: str = Field(min_length=1, max_length=200)
    next: NodeRef


class Hangup(NodeBase):
    type: Literal["hangup"]
    prompt: PromptRef | None = None
    outcome: Literal["self_service", "abandoned", "handled"] = "self_service"


class Goto(NodeBase):
    type: Literal["goto"]
    node: NodeRef | None = None
    flow: str | None = None

    @model_validator(mode="after")
    def _target(self) -> Goto:
        if self.node is None and self.flow is None:
            raise ValueError("goto needs a node, a flow, or both")
        return self


Node = Annotated[
    Say
    | Play
    | Announce
    | Menu
    | Collect
    | SetVars
    | Branch
    | Schedule
    | Lookup
    | Queue
    | Voicemail
    | Transfer
    | Sms
    | Language
    | Hangup
    | Goto,
    Field(discriminator="type"),
]


class FlowDef(Strict):
    """A whole flow file."""

    flow: str = Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")
    title: str = Field("", max_length=200)
    languages: list[Lang] = Field(["zh", "en"], min_length=1)
    language: Lang = "zh"
    numbers: list[Annotated[str, Field(pattern=r"^\+?[0-9]{2,20}$")]] = Field(default_factory=list)
    start: NodeRef
    max_steps: int = Field(300, ge=10, le=5000)
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    prompts: dict[str, PromptDef] = Field(default_factory=dict)
    nodes: dict[NodeRef, Node] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_language(self) -> FlowDef:
        if self.language not in self.languages:
            raise ValueError(f"language {self.language!r} is not among languages")
        return self


def targets(node: Node) -> dict[str, str]:
    """Every node a node may lead to, by the field (or key) that names it."""
    found: dict[str, str] = {}
    for name in ("next", "fallback", "open", "closed", "holiday", "error", "on_limit"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            found[name] = value
    if isinstance(node, Branch):
        found.update({f"cases.{i}": case.then for i, case in enumerate(node.cases)})
        found["else"] = node.otherwise
    if isinstance(node, Menu):
        found.update({f"options.{key}": target for key, target in node.options.items()})
    if isinstance(node, Lookup | Queue):
        found.update({f"outcomes.{key}": target for key, target in node.outcomes.items()})
    if isinstance(node, Goto) and node.flow is None and node.node is not None:
        found["node"] = node.node
    return found


def caller_driven(node: Node, field: str) -> bool:
    """True when following `field` out of `node` needs fresh input from the caller.

    A loop through such an edge waits for the caller each time round, so it cannot spin;
    every other edge is taken without the caller.
    """
    if isinstance(node, Menu):
        return field.startswith("options.")
    if isinstance(node, Collect):
        return field == "next"
    return False
