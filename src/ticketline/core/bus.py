"""In-process event bus: frozen dataclass events in, async handlers out.

Handlers subscribe to an event class (or a base class); a failing handler is
logged and does not stop the others, nor the publisher.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class HandlerFailure:
    """One handler that raised while an event was delivered."""

    handler: str
    event: object
    error: BaseException


class EventBus:
    """Delivers each published event to every handler of its class or a base class."""

    def __init__(self) -> None:
        self._handlers: defaultdict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        if not dataclasses.is_dataclass(event_type):
            raise TypeError(f"{event_type.__name__} is not a dataclass event")
        self._handlers[event_type].append(handler)

    def unsubscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].remove(handler)

    async def publish(self, event: object) -> list[HandlerFailure]:
        """Run every matching handler in subscription order; return the failures."""
        _require_frozen(event)
        failures: list[HandlerFailure] = []
        for handler in self._handlers_for(type(event)):
            try:
                await handler(event)
            except Exception as exc:
                name = getattr(handler, "__qualname__", repr(handler))
                log.exception("event handler %s failed on %s", name, type(event).__name__)
                failures.append(HandlerFailure(name, event, exc))
        return failures

    def _handlers_for(self, event_type: type) -> list[Handler]:
        found: list[Handler] = []
        for klass in event_type.__mro__:
            found.extend(self._handlers.get(klass, ()))
        return found


def _require_frozen(event: object) -> None:
    params = getattr(type(event), "__dataclass_params__", None)
    if params is None or not params.frozen:
        raise TypeError(f"{type(event).__name__} must be a frozen dataclass")
