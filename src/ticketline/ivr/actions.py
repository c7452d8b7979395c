"""Named business actions a flow's `lookup` node may call.

An action takes the call's context and the arguments the flow computed, calls
the business areas' service functions, and returns an outcome (`ok`,
`not_found`, `invalid`, ...) with values the flow reads (``result.status``) and
usually a `reply`: ready-to-speak text per language. Actions are registered by
name in one registry; the loader refuses a flow that names an unknown action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ticketline.core.errors import TicketlineError


@dataclass(frozen=True)
class ActionContext:
    """Who is calling, in which language, and when."""

    call_id: str
    caller: str
    lang: str
    now: datetime
    customer_id: str | None = None


@dataclass(frozen=True)
class ActionResult:
    """An outcome the flow branches on, and values it may read or speak."""

    outcome: str
    values: Mapping[str, object] = field(default_factory=dict)


Action = Callable[[ActionContext, Mapping[str, object]], Awaitable[ActionResult]]


@dataclass(frozen=True)
class ActionSpec:
    """A declared action: its function once bound, the arguments it needs, its outcomes."""

    name: str
    run: Action | None
    args: tuple[str, ...]
    outcomes: tuple[str, ...]
    doc: str


class UnknownAction(TicketlineError):
    code = "ivr_unknown_action"
    status = 404


class ActionUnavailable(TicketlineError):
    """A declared action whose business area is not wired in this installation."""

    code = "ivr_action_unavailable"
    status = 503


class ActionRegistry:
    """The actions of one installation, by name."""

    def __init__(self) -> None:
        self._specs: dict[str, ActionSpec] = {}

    def register(
        self,
        name: str,
        run: Action | None,
        *,
        args: tuple[str, ...] = (),
        outcomes: tuple[str, ...] = ("ok",),
        doc: str = "",
    ) -> None:
        """Declare an action; `run` None declares it without binding it yet."""
        if name in self._specs:
            raise ValueError(f"action {name!r} registered twice")
        self._specs[name] = ActionSpec(name, run, args, outcomes, doc or (run.__doc__ or ""))

    def bind(self, name: str, run: Action) -> None:
        """Give a declared action its implementation."""
        spec = self.spec(name)
        self._specs[name] = ActionSpec(name, run, spec.args, spec.outcomes, spec.doc)

    def unbound(self) -> list[str]:
        return sorted(name for name, spec in self._specs.items() if spec.run is None)

    def names(self) -> set[str]:
        return set(self._specs)

    def spec(self, name: str) -> ActionSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownAction(f"no IVR action named {name!r}") from None

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    async def call(
        self, name: str, context: ActionContext, args: Mapping[str, object]
    ) -> ActionResult:
        """Run an action; a missing argument is an `invalid` outcome, not a crash."""
        spec = self.spec(name)
        missing = [a for a in spec.args if args.get(a) in (None, "")]
        if missing:
            return ActionResult("invalid", {"missing": missing})
        if spec.run is None:
            raise ActionUnavailable(f"IVR action {name!r} is not wired to its business area")
        return await spec.run(context, args)
