"""Consult a third party while the caller holds, then transfer or conference.

The agent's phone and the consulted party talk in a small conference room of
the call (`consult-<call id>`), not a two-party bridge: a bridge ends both
sides when one hangs up, and the agent must stay on the line when the third
party does. From there the agent can

- complete the transfer: the caller is bridged to the third party and the
  agent's phone is released to wrap-up (the ACD logs a transfer);
- conference: the caller joins the room and all three hear each other; when
  the agent leaves (or hangs up), the other two stay connected;
- go back to the caller: the consulted party is hung up.
"""

from __future__ import annotations

import asyncio

from ticketline.core.errors import Conflict
from ticketline.telephony.calls import LegFailed
from ticketline.telephony.control import CallControl
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.web.desk import Consult, DeskFeed

CONSULT_ANSWER_SECONDS = 30.0


class NotConsulting(Conflict):
    code = "not_consulting"


class ConsultFailed(Conflict):
    code = "consult_failed"


def room_of(caller: Channel) -> str:
    return f"consult-{caller.call_id}"


async def consult(
    caller: Channel, target: str, control: CallControl, feed: DeskFeed, username: str
) -> None:
    """Hold the caller and call `target` from the agent's phone."""
    agent = control.bridged_to(caller)
    if agent is None or agent.ended:
        raise NotConsulting("the caller must be talking to you to consult someone")
    control.unbridge(caller)
    caller.start_moh()
    feed.held[username] = agent
    await feed.set_call_state(username, "consulting")
    third: Channel | None = None
    try:
        third = await control.dial(target, call=caller.leg.call, role="consult")
        async with asyncio.timeout(CONSULT_ANSWER_SECONDS):
            await third.wait_answered()
    except (LegFailed, ChannelError, TimeoutError) as failure:
        if third is not None and not third.ended:
            await third.hangup("no_answer")  # stop it ringing
        await _back_to_caller(caller, agent, control, feed, username)
        reason = str(failure) or "no answer"
        raise ConsultFailed(f"{target} could not be consulted: {reason}") from failure
    room = room_of(caller)
    control.conference_add(room, agent)
    control.conference_add(room, third)
    consulted = Consult(third, target)
    feed.consults[username] = consulted
    watcher = asyncio.create_task(_end_with_agent(agent, consulted, feed, username))
    _watchers.add(watcher)
    watcher.add_done_callback(_watchers.discard)


_watchers: set[asyncio.Task[None]] = set()


async def _end_with_agent(
    agent: Channel, consulted: Consult, feed: DeskFeed, username: str
) -> None:
    """The agent's phone hung up mid-consultation: the consulted party is not left
    alone in the room (the ACD ends the held caller's call as for any agent hang-up)."""
    await agent.wait_ended()
    if feed.consults.get(username) is consulted:
        del feed.consults[username]
        if not consulted.channel.ended:
            await consulted.channel.hangup("normal_clearing")


async def conference(caller: Channel, control: CallControl, feed: DeskFeed, username: str) -> None:
    """All three hear each other."""
    _third_party(feed, username)
    caller.stop_moh()
    control.conference_add(room_of(caller), caller)
    await feed.set_call_state(username, "conference")


async def complete(caller: Channel, control: CallControl, feed: DeskFeed, username: str) -> None:
    """Leave the caller with the third party; the agent's phone goes to wrap-up."""
    third = _third_party(feed, username)
    target = feed.consults.pop(username).target
    feed.held.pop(username, None)
    runtime = feed.runtime
    if caller.call_id in runtime.router.calls:
        runtime.transferred(caller.call_id, target)
        if runtime.phones is not None:
            await runtime.phones.release_agent(caller.call_id, "transferred")
    caller.stop_moh()
    await control.attended_transfer(caller, third)


async def cancel(caller: Channel, control: CallControl, feed: DeskFeed, username: str) -> None:
    """Hang up the consulted party and talk to the caller again."""
    consulted = feed.consults.pop(username, None)
    agent = feed.held.get(username)
    if agent is None or agent.ended:
        raise NotConsulting("your phone is no longer on this call")
    if consulted is not None and not consulted.channel.ended:
        await consulted.channel.hangup("normal_clearing")
    await _back_to_caller(caller, agent, control, feed, username)


async def _back_to_caller(
    caller: Channel, agent: Channel, control: CallControl, feed: DeskFeed, username: str
) -> None:
    feed.held.pop(username, None)
    caller.stop_moh()
    control.bridge(caller, agent)
    await feed.set_call_state(username, "talking")


def _third_party(feed: DeskFeed, username: str) -> Channel:
    consulted = feed.consults.get(username)
    if consulted is None:
        raise NotConsulting("you are not consulting anyone on this call")
    if consulted.channel.ended:
        feed.consults.pop(username, None)
        raise NotConsulting("the consulted party has hung up; go back to the caller")
    return consulted.channel
