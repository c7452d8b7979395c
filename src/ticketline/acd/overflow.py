"""Overflow and callbacks: what happens to a caller a queue cannot keep.

On max length (at entry), max wait, or no agent logged in (at entry, or when the
last member logs out) the queue's overflow rule applies; with no rule the caller
goes to voicemail. Overflow to another queue keeps the caller's first entry time,
so they keep their place by waiting time there too; a queue already visited on
this call is not entered again (voicemail instead), so overflow never loops.
A callback keeps the entry in line at its place: when its turn comes the agent is
rung first, and the customer is dialled once the agent answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketline.acd.actions import SendOverflow
from ticketline.acd.config import OverflowKind, OverflowReason, OverflowRule
from ticketline.acd.matching import QueueState
from ticketline.acd.queuelog import QueueEvent
from ticketline.acd.waiting import Phase, QueuedCall

if TYPE_CHECKING:
    from ticketline.acd.dispatch import Dispatcher

VOICEMAIL = OverflowRule(OverflowKind.VOICEMAIL)


def on_entry(router: Dispatcher, call: QueuedCall, queue: QueueState) -> bool:
    """Overflow a call that just entered a full or unstaffed queue; say if it did."""
    config = queue.config
    if config.max_length is not None and len(queue.line) > config.max_length:
        send(router, call, OverflowReason.MAX_LENGTH)
        return True
    if call.callback_number is None and queue.logged_in == 0:
        send(router, call, OverflowReason.NO_AGENTS)
        return True
    return False


def if_unstaffed(router: Dispatcher, queue: QueueState) -> None:
    """The last member logged out: waiting callers (not callbacks) overflow."""
    if queue.logged_in > 0:
        return
    for call in queue.line.calls():
        if call.phase is Phase.WAITING and call.callback_number is None:
            send(router, call, OverflowReason.NO_AGENTS)


def send(router: Dispatcher, call: QueuedCall, reason: OverflowReason) -> None:
    """Apply the queue's overflow rule to `call`."""
    queue = router.queues[call.queue_id]
    rule = _usable_rule(router, call, queue.config.overflow or VOICEMAIL)
    wait = router._waited(call)
    if reason is OverflowReason.MAX_WAIT:
        router._log(QueueEvent.TIMEOUT, call, wait=wait)
    data = {"reason": reason.value, "kind": rule.kind.value, "target": rule.target_queue}
    router._log(QueueEvent.OVERFLOW, call, wait=wait, data=dict(data))
    if rule.kind is OverflowKind.CALLBACK:
        router._out.append(SendOverflow(call.call_id, call.queue_id, rule.kind, reason))
        to_callback(router, call, call.request.caller)
        return
    router._stop_offer(call)
    queue.line.remove(call)
    if rule.kind is OverflowKind.QUEUE and rule.target_queue is not None:
        router._admit(call, router.queues[rule.target_queue])
        return
    del router.calls[call.call_id]
    router._out.append(SendOverflow(call.call_id, call.queue_id, OverflowKind.VOICEMAIL, reason))


def to_callback(router: Dispatcher, call: QueuedCall, number: str) -> None:
    """Keep the caller's place as a callback request to `number`."""
    router._stop_offer(call)
    call.callback_number = number
    queue = router.queues[call.queue_id]
    router._log(
        QueueEvent.CALLBACK_REQUESTED,
        call,
        position=queue.line.position(call),
        wait=router._waited(call),
        data={"number": number},
    )
    router._dispatch_call(call)


def _usable_rule(router: Dispatcher, call: QueuedCall, rule: OverflowRule) -> OverflowRule:
    if rule.kind is OverflowKind.CALLBACK and not call.request.caller:
        return VOICEMAIL  # nobody to call back
    if rule.kind is OverflowKind.QUEUE:
        target = rule.target_queue
        if target is None or target not in router.queues or target in call.visited:
            return VOICEMAIL
    return rule
