"""The queue log: one line per thing that happened, the source of every ACD report.

Modelled on Asterisk's queue_log. The router produces entries as it decides;
the service writes them in batches (QueueLogWriter) off the routing path.
Fields used by each event:

    enter              position, data.priority, data.caller
    offer              agent, data.agents (ring set)
    no_answer          agent, wait
    connect            agent, wait, position (original), data.pickup
    abandon            position, wait
    timeout            wait (max wait reached, before overflow)
    overflow           wait, data.reason, data.kind, data.target
    transfer           agent, wait, talk, data.target
    complete           agent, wait, talk, data.hung_up_by
    callback_requested position, wait
    callback_done      agent, data.reached
    agent_login, agent_logout, agent_pause, agent_unpause, agent_state
                       agent, data.before, data.after, data.reason
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ticketline.acd.agents import AgentState, AgentStateChanged


class QueueEvent(StrEnum):
    ENTER = "enter"
    OFFER = "offer"
    NO_ANSWER = "no_answer"
    CONNECT = "connect"
    ABANDON = "abandon"
    TIMEOUT = "timeout"
    OVERFLOW = "overflow"
    TRANSFER = "transfer"
    COMPLETE = "complete"
    CALLBACK_REQUESTED = "callback_requested"
    CALLBACK_DONE = "callback_done"
    AGENT_LOGIN = "agent_login"
    AGENT_LOGOUT = "agent_logout"
    AGENT_PAUSE = "agent_pause"
    AGENT_UNPAUSE = "agent_unpause"
    AGENT_STATE = "agent_state"


@dataclass(frozen=True)
class QueueLogEntry:
    """One line of the queue log. Payload per event: see the module docstring."""

    at: datetime
    event: QueueEvent
    queue_id: str | None = None
    call_id: str | None = None
    agent_id: str | None = None
    position: int | None = None
    wait: float | None = None
    talk: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def agent_entry(change: AgentStateChanged) -> QueueLogEntry:
    """The queue log line for an agent's state change."""
    before, after = change.before, change.after
    if before is AgentState.LOGGED_OUT:
        event = QueueEvent.AGENT_LOGIN
    elif after is AgentState.LOGGED_OUT:
        event = QueueEvent.AGENT_LOGOUT
    elif after is AgentState.NOT_READY:
        event = QueueEvent.AGENT_PAUSE
    elif before is AgentState.NOT_READY and after is AgentState.READY:
        event = QueueEvent.AGENT_UNPAUSE
    else:
        event = QueueEvent.AGENT_STATE
    return QueueLogEntry(
        at=change.at,
        event=event,
        agent_id=change.agent_id,
        data={
            "before": before.value,
            "after": after.value,
            "reason": change.reason,
            "trigger": change.trigger.value,
        },
    )
