"""Click to dial: the agent's own phone rings first, then the customer is called.

The agent is in the ACD's `outbound` state from the click until the call ends,
so no queue call is offered meanwhile; the call shows on the desk like any
other (the customer's record popped, hold, mute, hang up) and ends in the
usual wrap-up. If the agent's phone or the customer does not answer, the agent
is simply back in the state they were in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from ticketline.acd.agents import AgentState
from ticketline.core.errors import Conflict, InvalidInput
from ticketline.crm import phones
from ticketline.telephony.calls import LegFailed
from ticketline.telephony.control import CallControl
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.web.desk import DeskCall, DeskFeed

log = logging.getLogger(__name__)

OUTBOUND_WRAP_UP = 30  # seconds to note what the call was about
AGENT_ANSWER_SECONDS = 30.0
CUSTOMER_ANSWER_SECONDS = 60.0
MAY_DIAL = (AgentState.READY, AgentState.NOT_READY)


class AgentBusy(Conflict):
    code = "agent_busy"


class DialFailed(Conflict):
    code = "dial_failed"


@dataclass
class Dialer:
    """Starts outbound calls for agents and follows them to the end."""

    feed: DeskFeed
    control: CallControl
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def dial(self, username: str, number: str) -> str:
        """Ring the agent's phone for a call to `number`; returns the call's id at once."""
        if phones.try_normalize(number) is None:
            raise InvalidInput("number", f"{number!r} is not a phone number")
        agent = self.feed.runtime.router.agents.get(username)
        if agent is None:
            raise AgentBusy("you have no extension in the ACD; ask an administrator")
        current = self.feed.calls.get(username)
        if agent.state is AgentState.LOGGED_OUT:
            raise AgentBusy("log in at your desk first (ready or not ready), then call")
        if agent.state not in MAY_DIAL or current is not None:
            raise AgentBusy("finish the current call and its wrap-up first")
        self.feed.runtime.start_outbound(username)
        try:
            leg = await self.control.dial(agent.extension, number, role="agent")
        except (LegFailed, ChannelError) as failure:
            self.feed.runtime.end_outbound(username)
            raise DialFailed(
                f"your phone {agent.extension} cannot be reached: {failure}"
            ) from failure
        call = DeskCall(
            call_id=leg.call_id,
            number=number,
            queue="",
            state="dialing",
            offered_at=self.feed.clock.now(),
            caller=None,
        )
        self.feed.calls[username] = call
        task = asyncio.get_running_loop().create_task(
            self._follow(username, call, leg, number), name=f"desk-dial-{leg.call_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call.call_id

    async def _follow(self, username: str, call: DeskCall, agent: Channel, number: str) -> None:
        customer: Channel | None = None
        talked = False
        try:
            await self.feed.refresh_caller(username, call)
            await asyncio.wait_for(agent.wait_answered(), AGENT_ANSWER_SECONDS)
            agent.start_moh()  # something to hear while the customer's phone rings
            customer = await self.control.dial(number, call=agent.leg.call, role="outbound")
            await _answered_while_up(customer, agent)
            agent.stop_moh()
            self.control.bridge(customer, agent)
            customer.record()
            talked = True
            call.answered_at = self.feed.clock.now()
            await self.feed.set_call_state(username, "talking")
            await _first_to_end(agent, customer)
        except (LegFailed, ChannelError, TimeoutError) as failure:
            log.info("outbound call %s to %s: %s", call.call_id, number, failure)
        except Exception:
            log.exception("outbound call %s failed", call.call_id)
        finally:
            for leg in (customer, agent):
                if leg is not None and not leg.ended:
                    with contextlib.suppress(Exception):
                        await leg.hangup("normal_clearing")
            if not talked and self.feed.calls.get(username) is call:
                del self.feed.calls[username]
            self.feed.runtime.end_outbound(username, OUTBOUND_WRAP_UP if talked else 0)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _answered_while_up(customer: Channel, agent: Channel) -> None:
    """The customer answers; raises if they do not in time or the agent gives up first."""
    answered = asyncio.ensure_future(customer.wait_answered())
    gave_up = asyncio.ensure_future(agent.wait_ended())
    try:
        done, _ = await asyncio.wait(
            {answered, gave_up},
            timeout=CUSTOMER_ANSWER_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        answered.cancel()
        gave_up.cancel()
    if gave_up in done:
        raise ChannelError("the agent hung up before the customer answered")
    if answered not in done:
        raise TimeoutError("the customer did not answer")
    answered.result()  # LegFailed when the customer was busy or refused


async def _first_to_end(a: Channel, b: Channel) -> None:
    ends = {asyncio.ensure_future(a.wait_ended()), asyncio.ensure_future(b.wait_ended())}
    try:
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for end in ends:
            end.cancel()
