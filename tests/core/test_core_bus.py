"""The event bus delivers to every handler, survives failing ones, wants frozen events."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ticketline.core.bus import EventBus


@dataclass(frozen=True)
class OrderBooked:
    order_id: str


@dataclass(frozen=True)
class VipOrderBooked(OrderBooked):
    tier: str


@dataclass
class Mutable:
    value: int


async def test_every_subscriber_gets_the_event_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def first(event: OrderBooked) -> None:
        seen.append(f"first:{event.order_id}")

    async def second(event: OrderBooked) -> None:
        seen.append(f"second:{event.order_id}")

    bus.subscribe(OrderBooked, first)
    bus.subscribe(OrderBooked, second)
    assert await bus.publish(OrderBooked("A1")) == []
    assert seen == ["first:A1", "second:A1"]


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def broken(event: OrderBooked) -> None:
        raise RuntimeError("boom")

    async def healthy(event: OrderBooked) -> None:
        seen.append(event.order_id)

    bus.subscribe(OrderBooked, broken)
    bus.subscribe(OrderBooked, healthy)
    failures = await bus.publish(OrderBooked("A2"))
    assert seen == ["A2"]
    assert len(failures) == 1
    assert isinstance(failures[0].error, RuntimeError)


async def test_handlers_of_a_base_class_hear_subclass_events() -> None:
    bus = EventBus()
    seen: list[object] = []

    async def any_order(event: OrderBooked) -> None:
        seen.append(event)

    bus.subscribe(OrderBooked, any_order)
    await bus.publish(VipOrderBooked("A3", "gold"))
    assert seen == [VipOrderBooked("A3", "gold")]


async def test_unsubscribed_handlers_hear_nothing() -> None:
    bus = EventBus()
    seen: list[object] = []

    async def handler(event: OrderBooked) -> None:
        seen.append(event)

    bus.subscribe(OrderBooked, handler)
    bus.unsubscribe(OrderBooked, handler)
    await bus.publish(OrderBooked("A4"))
    assert seen == []


async def test_events_must_be_frozen_dataclasses() -> None:
    bus = EventBus()
    with pytest.raises(TypeError, match="frozen"):
        await bus.publish(Mutable(1))
    with pytest.raises(TypeError, match="dataclass"):
        bus.subscribe(str, lambda e: None)  # type: ignore[arg-type,return-value]
