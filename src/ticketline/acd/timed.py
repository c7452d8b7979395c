"""What happens when a router timer falls due: offers time out, rings widen, calls age.

Timers are set by the dispatcher and fired from `Dispatcher._run_timers` with the
clock stepped to the timer's due time, so a late tick makes the same decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketline.acd import overflow
from ticketline.acd.actions import Announce
from ticketline.acd.agents import AgentState, Trigger
from ticketline.acd.config import OverflowReason, QueueConfig
from ticketline.acd.matching import free_candidates
from ticketline.acd.strategies import order
from ticketline.acd.timers import Timer, TimerKind
from ticketline.acd.waiting import Phase, QueuedCall

if TYPE_CHECKING:
    from ticketline.acd.dispatch import Dispatcher


def fire(d: Dispatcher, timer: Timer) -> None:
    if timer.kind is TimerKind.WRAP_END:
        agent = d.agents.get(timer.target)
        if agent and agent.state is AgentState.WRAP_UP and agent.version == timer.token:
            d._change(agent, Trigger.WRAP_END)
        return
    call = d.calls.get(timer.target)
    if call is None or call.phase is Phase.CONNECTED:
        return
    if timer.kind in (TimerKind.OFFER_TIMEOUT, TimerKind.RING_STEP):
        if call.phase is Phase.RINGING and call.offer_token == timer.token:
            _offer_timer(d, call, timer.kind)
    elif call.generation == timer.token:
        _call_timer(d, call, timer.kind)


def _offer_timer(d: Dispatcher, call: QueuedCall, kind: TimerKind) -> None:
    if kind is TimerKind.OFFER_TIMEOUT:
        for agent_id in list(call.ringing):
            d._offer_failed(call, agent_id, stop=True)
        return
    config = d.queues[call.queue_id].config
    cands = free_candidates(call, d.queues, d.agents, d._moment)
    if cands:
        d._ring(call, [order(config.strategy, cands, d._ctx(call))[0].agent], ())
    when = d._moment.ts + config.ring_step
    d.timers.set(when, TimerKind.RING_STEP, call.call_id, call.offer_token)


def _call_timer(d: Dispatcher, call: QueuedCall, kind: TimerKind) -> None:
    queue = d.queues[call.queue_id]
    if kind is TimerKind.WIDEN:
        _widen(d, call, queue.config)
    elif kind is TimerKind.MAX_WAIT:
        if call.phase is Phase.WAITING and call.callback_number is None:
            overflow.send(d, call, OverflowReason.MAX_WAIT)
    elif kind is TimerKind.RETRY:
        d._dispatch_call(call)
    elif kind is TimerKind.ANNOUNCE and call.callback_number is None:
        position = queue.line.position(call)
        d._out.append(
            Announce(call.call_id, call.queue_id, position, d.estimated_wait(call.call_id))
        )
        when = d._moment.ts + queue.config.announce_every
        d.timers.set(when, TimerKind.ANNOUNCE, call.call_id, call.generation)


def _widen(d: Dispatcher, call: QueuedCall, config: QueueConfig) -> None:
    step = config.steps[call.step]
    call.step += 1
    call.drop += step.lower_levels
    d.queues[call.queue_id].line.widen(call, call.reach | frozenset(step.extra_queues))
    if call.step < len(config.steps):
        when = call.queue_entered + config.steps[call.step].after_seconds
        d.timers.set(when, TimerKind.WIDEN, call.call_id, call.generation)
    d._dispatch_call(call)
