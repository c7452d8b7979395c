"""What happened in a call (its trace) and per-node figures over many calls.

A trace is the list of steps one call took through a flow. `FlowStats` adds
traces up: entries per node, exits by branch, timeouts, invalid input,
hang-ups, and the containment rate — the share of calls that ended in
self-service (never reached an agent, a transfer or voicemail).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Event = Literal["enter", "exit", "timeout", "invalid", "hangup", "error", "limit"]
Outcome = Literal[
    "self_service",
    "queued",
    "transferred",
    "voicemail",
    "caller_hangup",
    "error",
    "handled",
    "abandoned",
]
# Outcomes where the caller never needed a person.
CONTAINED: frozenset[str] = frozenset({"self_service"})


@dataclass(frozen=True)
class Step:
    """One thing that happened at a node; `label` names the branch of an exit."""

    node: str
    event: Event
    label: str = ""


@dataclass
class CallTrace:
    """The path of one call through a flow, and how it ended."""

    call_id: str
    flow: str
    version: str
    caller: str
    started_at: datetime
    steps: list[Step] = field(default_factory=list)
    ended_at: datetime | None = None
    outcome: Outcome = "caller_hangup"
    served: bool = False  # at least one self-service look-up answered the caller

    @property
    def contained(self) -> bool:
        """Ended without a person: the flow said goodbye, or the caller left after an answer."""
        return self.outcome in CONTAINED or (self.outcome == "caller_hangup" and self.served)

    @property
    def path(self) -> list[str]:
        """The nodes entered, in order."""
        return [s.node for s in self.steps if s.event == "enter"]

    def add(self, node: str, event: Event, label: str = "") -> None:
        self.steps.append(Step(node, event, label))


@dataclass
class NodeStats:
    entries: int = 0
    exits: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    invalid: int = 0
    hangups: int = 0
    errors: int = 0


@dataclass
class FlowStats:
    """Figures of one flow over the traces added to it."""

    flow: str
    calls: int = 0
    contained: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    nodes: dict[str, NodeStats] = field(default_factory=dict)

    def add(self, trace: CallTrace) -> None:
        self.calls += 1
        self.contained += trace.contained
        self.outcomes[trace.outcome] += 1
        for step in trace.steps:
            node = self.nodes.setdefault(step.node, NodeStats())
            if step.event == "enter":
                node.entries += 1
            elif step.event == "exit":
                node.exits[step.label] += 1
            elif step.event == "timeout":
                node.timeouts += 1
            elif step.event == "invalid":
                node.invalid += 1
            elif step.event == "hangup":
                node.hangups += 1
            else:
                node.errors += 1

    @property
    def containment_rate(self) -> float:
        return self.contained / self.calls if self.calls else 0.0
