"""The desk's and the console's HTTP API: what is not already another area's API.

For the agent: controls on the current call (hold, resume, mute, hang up,
transfer, keys) through the call-control API, registering a new caller as a
customer from the screen pop, and the wrap-up. For the supervisor: listening in,
whispering or barging from their own phone, and hanging up an agent's call.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ticketline.acd.runtime import AcdRuntime
from ticketline.acd.schemas import WrapUpIn as AcdWrapUpIn
from ticketline.acd.wrapups import CallFacts
from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.admin.service import AdminService
from ticketline.core.errors import Conflict, InvalidInput
from ticketline.crm import phones
from ticketline.crm.schemas import (
    CustomerCreate,
    Gender,
    LocaleName,
    Name,
    PhoneIn,
    TravellerIn,
    TravellerOut,
)
from ticketline.telephony.control import CallControl, TransferFailed
from ticketline.telephony.control_channel import Channel, ChannelError
from ticketline.ticketing.identity import normalize_document
from ticketline.ticketing.schemas import PassengerIn
from ticketline.web import desk_consult
from ticketline.web.desk import DeskCall, DeskFeed
from ticketline.web.desk_dial import Dialer

log = logging.getLogger(__name__)


# -- the desk's API ---------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallGone(Conflict):
    code = "call_gone"


class CallActionFailed(Conflict):
    code = "call_action_failed"


class CallActionIn(_In):
    call_id: str = Field(min_length=1, max_length=64)
    target: str | None = Field(default=None, min_length=1, max_length=64)
    digits: str | None = Field(default=None, pattern=r"^[0-9*#A-D]{1,32}$")


class WrapUpIn(_In):
    call_id: str | None = Field(default=None, min_length=1, max_length=64)
    disposition: str = Field(min_length=1, max_length=32)
    notes: str = Field(default="", max_length=2000)
    order: str = Field(default="", max_length=16)
    work_order: str = Field(default="", max_length=20)
    next: str = Field(pattern=r"^(ready|not_ready)$")
    reason: str | None = Field(default=None, max_length=32)


class RegisterIn(_In):
    """A new caller registered from the screen pop, with the number they call from."""

    call_id: str = Field(min_length=1, max_length=64)
    name: Name
    gender: Gender = "U"
    locale: LocaleName = "zh_CN"


class TravellersIn(_In):
    travellers: list[PassengerIn] = Field(min_length=1, max_length=9)


class DialIn(_In):
    number: str = Field(min_length=3, max_length=32)


class AlreadyKnown(Conflict):
    code = "already_known"


CALL_ACTIONS = (
    "hold", "resume", "mute", "unmute", "hangup", "transfer", "dtmf",
    "consult", "conference", "complete", "cancel_consult",
)  # fmt: skip
Agent = Annotated[Principal, Depends(require(Perm.CALLS_HANDLE))]
CrmReader = Annotated[Principal, Depends(require(Perm.CRM_READ))]
CrmWriter = Annotated[Principal, Depends(require(Perm.CRM_WRITE))]


def build_desk_router(feed: DeskFeed, control: CallControl) -> APIRouter:
    router = APIRouter(prefix="/api/desk", tags=["desk"])

    @router.post("/call/{action}", status_code=204)
    async def call_action(action: str, body: CallActionIn, who: Agent) -> None:
        """Hold, resume, hang up, transfer or send keys on the agent's current call."""
        if action not in CALL_ACTIONS:
            raise InvalidInput("action", f"one of {', '.join(CALL_ACTIONS)}")
        call = feed.calls.get(who.username)
        if call is None or call.call_id != body.call_id or call.state == "wrap_up":
            raise CallGone("this call has ended or is no longer yours")
        caller = _caller_channel(control, body.call_id)
        try:
            await _carry_out(action, body, caller, control, feed, who.username)
        except (ChannelError, TransferFailed) as failure:
            raise CallActionFailed(str(failure)) from failure

    dialer = Dialer(feed, control)

    @router.post("/dial", status_code=202)
    async def dial(body: DialIn, who: Agent) -> dict[str, str]:
        """Click to call: the agent's phone rings, then the customer's."""
        return {"call_id": await dialer.dial(who.username, body.number)}

    @router.post("/register", status_code=201)
    async def register(body: RegisterIn, who: Agent) -> dict[str, str]:
        """Make the caller on the screen a customer; the pop shows them at once."""
        call = feed.calls.get(who.username)
        if call is None or call.call_id != body.call_id:
            raise CallGone("this call is no longer on your screen")
        if call.caller is not None and call.caller.known:
            raise AlreadyKnown(f"the caller is already customer {call.caller.customer_id}")
        if phones.try_normalize(call.number) is None:
            raise InvalidInput("number", "the caller's number is withheld or not a phone number")
        phone = PhoneIn(number=call.number, primary=True)
        data = CustomerCreate(name=body.name, gender=body.gender, locale=body.locale,
                              phones=[phone])  # fmt: skip
        customer = await feed.crm.create(who.actor, data)
        await feed.refresh_caller(who.username, call)
        return {"id": customer.id}

    @router.get("/travellers/{customer_id}")
    async def travellers(customer_id: str, _: CrmReader) -> list[TravellerOut]:
        """The customer's saved travellers, to fill in the passengers of a booking."""
        return await feed.crm.travellers(customer_id)

    @router.post("/travellers/{customer_id}")
    async def remember(customer_id: str, body: TravellersIn, who: CrmWriter) -> list[TravellerOut]:
        """Save the passengers just booked for the customer; documents checked as booked."""
        checked = [
            TravellerIn(
                name=p.name,
                id_type=p.id_type,
                id_number=normalize_document(f"travellers.{i}.id_number", p.id_type, p.id_number),
                passenger_type=p.passenger_type,
            )
            for i, p in enumerate(body.travellers)
        ]
        return await feed.crm.remember_travellers(who.actor, customer_id, checked)

    @router.post("/wrapup", status_code=204)
    async def wrap_up(body: WrapUpIn, who: Agent) -> None:
        """Store the wrap-up (disposition, notes, links), then ready or not ready.

        The page sends the call it showed, so a wrap-up typed while the wrap-up
        time ran out is still stored; nothing changes when it cannot be stored.
        """
        call = feed.calls.get(who.username)
        if call is not None and body.call_id not in (None, call.call_id):
            raise CallGone("this call is no longer on your screen")
        call_id = call.call_id if call is not None else body.call_id
        if call_id is None:
            raise InvalidInput("call_id", "there is no call to wrap up")
        await feed.acd.wrapups.record(who.username, _acd_wrap_up(call_id, body), _facts(call))
        if feed.calls.get(who.username) is call:
            feed.calls.pop(who.username, None)
        if body.next == "ready":
            feed.runtime.ready(who.username)
        else:
            feed.runtime.pause(who.username, body.reason or "after_call")
        await feed._push_call(who.username)

    return router


def _acd_wrap_up(call_id: str, body: WrapUpIn) -> AcdWrapUpIn:
    try:
        return AcdWrapUpIn(
            call_id=call_id,
            disposition=body.disposition,
            notes=body.notes,
            order=body.order,
            work_order=body.work_order.strip().upper(),
        )
    except ValidationError as bad:
        first = bad.errors()[0]
        field_name = str(first["loc"][0]) if first["loc"] else "body"
        hint = "like WO-2612-0042" if field_name == "work_order" else first["msg"]
        raise InvalidInput(field_name, hint) from bad


def _facts(call: DeskCall | None) -> CallFacts:
    if call is None:
        return CallFacts()
    customer = call.caller.customer_id if call.caller is not None else None
    return CallFacts(call.number, call.queue, customer)


def _caller_channel(control: CallControl, call_id: str) -> Channel:
    """The customer's side of `call_id`: the inbound leg, or the leg a click to dial
    called (agents' legs share the call id)."""
    legs = [c for c in control.channels.values() if call_id in (c.call_id, c.id) and not c.ended]
    for channel in legs:
        if channel.leg.direction == "inbound" or channel.leg.role == "outbound":
            return channel
    if legs:
        return legs[0]
    raise CallGone("this call has ended")


async def _carry_out(
    action: str,
    body: CallActionIn,
    caller: Channel,
    control: CallControl,
    feed: DeskFeed,
    username: str,
) -> None:
    if action in ("consult", "conference", "complete", "cancel_consult"):
        await _consulting(action, body, caller, control, feed, username)
    elif action == "hangup" and username in feed.consults:
        # Hanging up while consulting or in conference leaves the other two talking.
        await desk_consult.complete(caller, control, feed, username)
    elif action == "hangup":
        agent = control.bridged_to(caller) or feed.held.pop(username, None)
        await (agent if agent is not None and not agent.ended else caller).hangup("normal_clearing")
    elif action == "hold":
        agent = control.bridged_to(caller)
        control.unbridge(caller)
        caller.start_moh()
        feed.held[username] = agent
        await feed.set_call_state(username, "held")
    elif action == "resume":
        feed.consults.pop(username, None)  # a consulted party who hung up leaves nothing
        agent = feed.held.pop(username, None)
        caller.stop_moh()
        if agent is None or agent.ended:
            raise CallGone("your phone is no longer on this call")
        control.bridge(caller, agent)
        await feed.set_call_state(username, "talking")
    elif action in ("mute", "unmute"):
        agent = control.bridged_to(caller) or feed.held.get(username)
        if agent is None or agent.ended:
            raise CallGone("your phone is no longer on this call")
        agent.mute() if action == "mute" else agent.unmute()
        await feed.set_muted(username, action == "mute")
    elif action == "transfer":
        if not body.target:
            raise InvalidInput("target", "a queue, an extension or a number to transfer to")
        await _transfer(caller, body.target, control, feed.runtime)
    elif action == "dtmf":
        if not body.digits:
            raise InvalidInput("digits", "the keys to send")
        await caller.send_dtmf(body.digits)


async def _consulting(
    action: str,
    body: CallActionIn,
    caller: Channel,
    control: CallControl,
    feed: DeskFeed,
    username: str,
) -> None:
    if action == "consult":
        if not body.target:
            raise InvalidInput("target", "an agent, an extension or a number to consult")
        agent = feed.runtime.router.agents.get(body.target)  # an agent by name: their phone
        target = agent.extension if agent is not None else body.target
        await desk_consult.consult(caller, target, control, feed, username)
    elif action == "conference":
        await desk_consult.conference(caller, control, feed, username)
    elif action == "complete":
        await desk_consult.complete(caller, control, feed, username)
    else:
        await desk_consult.cancel(caller, control, feed, username)


async def _transfer(
    caller: Channel, target: str, control: CallControl, runtime: AcdRuntime
) -> None:
    """To a queue: the caller waits there again. To an agent (by user name): the ACD
    rings their phone and counts them on the call. Elsewhere (an extension or a
    number): a blind transfer that, if nobody answers, puts the caller back in the
    queue they came from."""
    if target in runtime.router.queues:
        await runtime.transfer_to_queue(caller, target)
        return
    if target in runtime.router.agents and caller.call_id in runtime.router.calls:
        await runtime.transfer_to_agent(caller, target)
        return
    call = runtime.router.calls.get(caller.call_id)
    if call is None:
        await control.blind_transfer(caller, target)
        return
    queue, request = call.queue_id, runtime.transferred(caller.call_id, target)
    if runtime.phones is not None:
        await runtime.phones.release_agent(caller.call_id, "transferred")
    try:
        await control.blind_transfer(caller, target)
    except TransferFailed:
        if not caller.ended:
            await runtime.requeue(caller, queue, request)
        raise


# -- the supervisor's actions -----------------------------------------------------------

SNOOP_ANSWER_SECONDS = 30.0
Supervisor = Annotated[Principal, Depends(require(Perm.CALLS_SUPERVISE))]


class NoExtension(Conflict):
    code = "no_extension"


class ConsoleIn(_In):
    agent_id: str = Field(min_length=1, max_length=64)
    mode: str = Field(default="listen", pattern=r"^(listen|whisper|barge)$")


class HandOverIn(_In):
    """A waiting call the supervisor sends to an agent (themselves, if they take calls)."""

    call_id: str = Field(min_length=1, max_length=64)
    agent_id: str = Field(min_length=1, max_length=64)


def build_console_router(feed: DeskFeed, control: CallControl) -> APIRouter:
    router = APIRouter(prefix="/api/console", tags=["console"])

    @router.post("/pickup", status_code=204)
    async def hand_over(body: HandOverIn, _: Supervisor) -> None:
        """Connect a waiting (or ringing) call to an agent who is ready, paused or wrapping up."""
        feed.runtime.pickup(body.agent_id, body.call_id)

    @router.post("/hangup", status_code=204)
    async def hang_up(body: ConsoleIn, _: Supervisor) -> None:
        """End the call an agent is on (both sides)."""
        await _agent_call(feed, control, body.agent_id).hangup("normal_clearing")

    @router.post("/snoop", status_code=204)
    async def snoop(body: ConsoleIn, who: Supervisor) -> None:
        """Ring the supervisor's phone and join it to an agent's call: listen, whisper, barge."""
        caller = _agent_call(feed, control, body.agent_id)
        agent = control.bridged_to(caller)
        if agent is None:
            raise CallGone("the agent is not talking to the caller right now")
        extension = await _extension_of(feed.admin, who.username)
        supervisor = await control.dial(extension, caller_id=f"snoop-{body.agent_id}")
        try:
            await asyncio.wait_for(supervisor.wait_answered(), SNOOP_ANSWER_SECONDS)
            control.snoop(supervisor, agent, body.mode)
        except (TimeoutError, ChannelError) as failure:
            await supervisor.hangup("no_answer")
            raise CallActionFailed(f"your phone did not join the call: {failure}") from failure

    return router


def _agent_call(feed: DeskFeed, control: CallControl, agent_id: str) -> Channel:
    call = feed.calls.get(agent_id)
    if call is None or call.state == "wrap_up":
        raise CallGone(f"{agent_id} is not on a call")
    return _caller_channel(control, call.call_id)


async def _extension_of(admin: AdminService, username: str) -> str:
    for extension, owner in await admin.list_extensions():
        if owner == username and extension.enabled:
            return extension.number
    raise NoExtension("you have no phone extension to listen with; ask an administrator")
