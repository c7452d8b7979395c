"""Shared pieces of the RFC 3261 §17 transaction machines: inputs, actions, timers, keys.

Each machine (transaction_client.py, transaction_server.py) keeps every legal
move in ONE table ``(state, input kind) -> (next state, handler)``; a handler
only computes the actions. An input missing from the table raises
:class:`TransactionError`. Machines never touch sockets or clocks: timers come in
as :class:`TimerFired` and go out as :class:`StartTimer`/:class:`CancelTimer`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from ticketline.sip.message import Message, Request, Response
from ticketline.sip.via import MAGIC_COOKIE


class TransactionError(Exception):
    """An input the current state does not accept (a bug in the caller)."""


@dataclass(frozen=True)
class Timers:
    """RFC 3261 timer base values in seconds (§17.1.1.1, table 4)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0


# Inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the transport matched to this transaction."""

    message: Message


@dataclass(frozen=True)
class SendResponse:
    """The TU answers the request of a server transaction."""

    response: Response


@dataclass(frozen=True)
class TimerFired:
    """A timer this machine started has expired (name is the RFC letter)."""

    name: str


@dataclass(frozen=True)
class TransportError:
    """The transport could not send a message of this transaction."""


Input = ReceivedMessage | SendResponse | TimerFired | TransportError

# Actions --------------------------------------------------------------------


@dataclass(frozen=True)
class SendMessage:
    """Send (or resend) this message to the peer."""

    message: Message


@dataclass(frozen=True)
class StartTimer:
    """(Re)start timer ``name`` to fire after ``seconds`` (0: fire at once)."""

    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    """Stop timer ``name`` if it runs."""

    name: str


@dataclass(frozen=True)
class DeliverToTU:
    """Pass this message up to the transaction user."""

    message: Message


@dataclass(frozen=True)
class Timeout:
    """The transaction timed out (timer B, F or H); the TU treats it as a 408."""

    timer: str


@dataclass(frozen=True)
class TransportFailed:
    """The transport failed; the TU treats it as a 503 (§8.1.3.1)."""


@dataclass(frozen=True)
class Terminated:
    """The transaction is over; the transport forgets it."""


Action = (
    SendMessage | StartTimer | CancelTimer | DeliverToTU | Timeout | TransportFailed | Terminated
)

# The table machinery ------------------------------------------------------------

S = TypeVar("S", bound=enum.Enum)
Table = dict[tuple[enum.Enum, str], tuple[enum.Enum, str]]
"""``(state, input kind) -> (next state, handler method name)``."""


def response_kind(response: Response) -> str:
    """``1xx``, ``2xx`` or ``3xx-6xx``."""
    if response.status < 200:
        return "1xx"
    return "2xx" if response.status < 300 else "3xx-6xx"


def input_kind(event: Input) -> str:
    """The column of the transition table an input falls in."""
    if isinstance(event, TimerFired):
        return f"timer {event.name}"
    if isinstance(event, TransportError):
        return "transport error"
    if isinstance(event, SendResponse):
        return "send " + response_kind(event.response)
    message = event.message
    if isinstance(message, Response):
        return "receive " + response_kind(message)
    return "receive ACK" if message.method == "ACK" else "receive request"


class Machine(Generic[S]):
    """Dispatches inputs through the subclass's ``TABLE``."""

    TABLE: ClassVar[Table]
    state: S

    def __init__(self, request: Request, reliable: bool, timers: Timers) -> None:
        self.request = request
        self.reliable = reliable
        self.timers = timers

    def handle(self, event: Input) -> list[Action]:
        """Apply one input; return the actions to carry out, in order."""
        kind = input_kind(event)
        move = self.TABLE.get((self.state, kind))
        if move is None:
            raise TransactionError(f"{type(self).__name__} in {self.state.name} got {kind}")
        next_state, handler_name = move
        actions: list[Action] = getattr(self, handler_name)(event)
        self.state = next_state  # type: ignore[assignment]
        return actions

    @property
    def terminated(self) -> bool:
        """True once the machine reached its Terminated state."""
        return self.state.name == "TERMINATED"

    def _timer_64t1(self, name: str) -> StartTimer:
        return StartTimer(name, 64 * self.timers.t1)

    def _wait_timer(self, name: str, unreliable_seconds: float) -> StartTimer:
        return StartTimer(name, 0 if self.reliable else unreliable_seconds)


# Matching (§17.1.3, §17.2.3) ----------------------------------------------------


def client_key(message: Message) -> tuple[str, str]:
    """Key matching a response to its client transaction: top branch and CSeq method."""
    return (message.top_via.branch or "", message.cseq[1])


def server_key(request: Request) -> tuple[str, ...]:
    """Key matching a request to its server transaction.

    ACK matches the INVITE it acknowledges (non-2xx ACKs share its branch).
    Requests without the magic cookie fall back to RFC 2543 style matching.
    """
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if branch.startswith(MAGIC_COOKIE) and branch != MAGIC_COOKIE:
        return (branch, via.sent_by.lower(), method)
    return (
        str(request.uri),
        request.to.tag or "",
        request.from_.tag or "",
        request.call_id,
        str(request.cseq[0]),
        str(via),
        method,
    )
