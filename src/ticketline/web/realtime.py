"""Live pushes to desktops and consoles: one WebSocket per browser tab.

Areas publish domain events on the bus; the composition root turns the ones a
screen cares about into `Push`es on topics (`staff:<id>` for one person,
`floor` for supervisors) and hands them to the hub. Every push gets a sequence
number. A client that reconnects says the last number it saw; the hub replays
what it missed from a bounded history, or — when the gap is too old — sends a
fresh snapshot built by the registered snapshot providers. A reload therefore
shows the same state as before (the current call, the agent's state).

A slow client never slows the others: each connection has a bounded queue and
is closed when it overflows; its reconnect gets a snapshot.

An agent has one desktop: a desk page connects with `?desk=1`, and a second
desk of the same person takes over. The first is told (`taken_over`) and
closed with 4409, and its page stops reconnecting, so two screens never act
on one agent's calls at once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal

log = logging.getLogger(__name__)

FLOOR = "floor"
HISTORY = 2000
QUEUE_LIMIT = 500
SnapshotProvider = Callable[[Principal], Awaitable[dict[str, Any] | None]]


def staff_topic(staff_id: str) -> str:
    return f"staff:{staff_id}"


@dataclass(frozen=True)
class Push:
    """One message for the screens subscribed to `topic`."""

    topic: str
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Delivered:
    seq: int
    push: Push

    def frame(self) -> str:
        return json.dumps(
            {"type": "push", "seq": self.seq, "kind": self.push.kind, "data": self.push.data},
            ensure_ascii=False,
            default=str,
        )


class SlowClient(Exception):
    """The client did not keep up; it is disconnected and will resync by snapshot."""


class TakenOver(Exception):
    """The same agent opened their desk elsewhere; this one is closed for good."""


TAKEN_OVER = 4409


@dataclass(eq=False)
class Subscriber:
    topics: frozenset[str]
    queue: asyncio.Queue[Delivered] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    overflowed: bool = False
    replaced: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, item: Delivered) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


def topics_for(principal: Principal) -> frozenset[str]:
    topics = {staff_topic(principal.staff_id)}
    if Perm.CALLS_SUPERVISE in principal.permissions:
        topics.add(FLOOR)
    return frozenset(topics)


class RealtimeHub:
    """Fans pushes out to subscribers and keeps a short history for resumption."""

    def __init__(self, history: int = HISTORY) -> None:
        self._seq = itertools.count(1)
        self._last = 0
        self._history: deque[Delivered] = deque(maxlen=history)
        self._subscribers: set[Subscriber] = set()
        self._snapshots: dict[str, SnapshotProvider] = {}
        self._desks: dict[str, Subscriber] = {}

    @property
    def last_seq(self) -> int:
        return self._last

    def add_snapshot(self, name: str, provider: SnapshotProvider) -> None:
        self._snapshots[name] = provider

    def subscribe(self, topics: Iterable[str]) -> Subscriber:
        subscriber = Subscriber(frozenset(topics))
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        for staff_id, desk in list(self._desks.items()):
            if desk is subscriber:
                del self._desks[staff_id]

    def claim_desk(self, staff_id: str, subscriber: Subscriber) -> None:
        """`subscriber` is now this person's desk; an earlier one is told to close."""
        earlier = self._desks.get(staff_id)
        self._desks[staff_id] = subscriber
        if earlier is not None and earlier is not subscriber:
            earlier.replaced.set()

    def publish(self, push: Push) -> int:
        self._last = next(self._seq)
        item = Delivered(self._last, push)
        self._history.append(item)
        for subscriber in self._subscribers:
            if push.topic in subscriber.topics:
                subscriber.offer(item)
        return self._last

    def missed_since(self, seq: int, topics: frozenset[str]) -> list[Delivered] | None:
        """What a client that saw `seq` missed, or None when history no longer reaches back."""
        if seq > self._last:
            return None
        if seq < self._last and (not self._history or self._history[0].seq > seq + 1):
            return None
        return [d for d in self._history if d.seq > seq and d.push.topic in topics]

    async def snapshot(self, principal: Principal) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, provider in self._snapshots.items():
            try:
                result[name] = await provider(principal)
            except Exception:
                log.exception("snapshot provider %s failed", name)
                result[name] = None
        return result


Authenticate = Callable[[WebSocket], Awaitable[Principal | None]]


def build_realtime_router(hub: RealtimeHub, authenticate: Authenticate) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
    async def realtime(websocket: WebSocket) -> None:
        principal = await authenticate(websocket)
        if principal is None or not _same_origin(websocket):
            await websocket.close(code=4401)
            return
        await websocket.accept()
        topics = topics_for(principal)
        subscriber = hub.subscribe(topics)
        if websocket.query_params.get("desk") == "1":
            hub.claim_desk(principal.staff_id, subscriber)
        try:
            await _resync(websocket, hub, principal, topics, websocket.query_params.get("since"))
            await _pump(websocket, subscriber)
        except (WebSocketDisconnect, SlowClient, TakenOver):
            pass
        finally:
            hub.unsubscribe(subscriber)

    return router


async def _resync(
    websocket: WebSocket,
    hub: RealtimeHub,
    principal: Principal,
    topics: frozenset[str],
    since: str | None,
) -> None:
    missed = hub.missed_since(int(since), topics) if since and since.isdigit() else None
    if missed is None:
        state = await hub.snapshot(principal)
        await websocket.send_text(
            json.dumps(
                {"type": "snapshot", "seq": hub.last_seq, "data": state},
                ensure_ascii=False,
                default=str,
            )
        )
        return
    for item in missed:
        await websocket.send_text(item.frame())


async def _pump(websocket: WebSocket, subscriber: Subscriber) -> None:
    receiving = asyncio.ensure_future(websocket.receive_text())
    getting = asyncio.ensure_future(subscriber.queue.get())
    replaced = asyncio.ensure_future(subscriber.replaced.wait())
    try:
        while True:
            done, _ = await asyncio.wait(
                {receiving, getting, replaced}, return_when=asyncio.FIRST_COMPLETED
            )
            if replaced in done:
                await websocket.send_text('{"type":"taken_over"}')
                await websocket.close(code=TAKEN_OVER)
                raise TakenOver
            if getting in done:
                if subscriber.overflowed:
                    await websocket.close(code=4408)
                    raise SlowClient
                await websocket.send_text(getting.result().frame())
                getting = asyncio.ensure_future(subscriber.queue.get())
            if receiving in done:
                if receiving.result() == "ping":
                    await websocket.send_text('{"type":"pong"}')
                receiving = asyncio.ensure_future(websocket.receive_text())
    finally:
        receiving.cancel()
        getting.cancel()
        replaced.cancel()


def _same_origin(websocket: WebSocket) -> bool:
    """Refuse cross-site WebSocket hijacking: a browser always sends Origin."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlparse(origin).netloc == websocket.headers.get("host")
