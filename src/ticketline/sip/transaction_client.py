"""Client transactions (RFC 3261 §17.1): INVITE (fig. 5) and non-INVITE (fig. 6)."""

from __future__ import annotations

import enum
from typing import ClassVar

from ticketline.sip.headers import Headers
from ticketline.sip.message import Request, Response
from ticketline.sip.transaction import (
    Action,
    CancelTimer,
    DeliverToTU,
    Input,
    Machine,
    ReceivedMessage,
    SendMessage,
    StartTimer,
    Table,
    Terminated,
    Timeout,
    Timers,
    TransportFailed,
)


class InviteClientState(enum.Enum):
    """§17.1.1 states."""

    CALLING = "calling"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class NonInviteClientState(enum.Enum):
    """§17.1.2 states."""

    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


def _response(event: Input) -> Response:
    assert isinstance(event, ReceivedMessage)
    assert isinstance(event.message, Response)
    return event.message


def make_non2xx_ack(invite: Request, response: Response) -> Request:
    """The ACK a client transaction sends for a 300-699 answer (§17.1.1.3)."""
    copied = [(n, v) for n, v in invite.headers if n in ("Call-ID", "From", "Route")]
    fields = [
        ("Via", invite.headers.get_all("Via")[0]),
        *copied,
        ("To", response.headers.get("To") or ""),
        ("CSeq", f"{invite.cseq[0]} ACK"),
        ("Max-Forwards", "70"),
        ("Content-Length", "0"),
    ]
    return Request("ACK", invite.uri, Headers.of(fields))


class InviteClientTransaction(Machine[InviteClientState]):
    """Sends an INVITE and drives it to a final answer."""

    S = InviteClientState
    TABLE: ClassVar[Table] = {
        (S.CALLING, "timer A"): (S.CALLING, "_retransmit"),
        (S.CALLING, "timer B"): (S.TERMINATED, "_time_out"),
        (S.CALLING, "receive 1xx"): (S.PROCEEDING, "_first_provisional"),
        (S.PROCEEDING, "receive 1xx"): (S.PROCEEDING, "_deliver"),
        (S.CALLING, "receive 2xx"): (S.TERMINATED, "_accept"),
        (S.PROCEEDING, "receive 2xx"): (S.TERMINATED, "_accept"),
        (S.CALLING, "receive 3xx-6xx"): (S.COMPLETED, "_reject"),
        (S.PROCEEDING, "receive 3xx-6xx"): (S.COMPLETED, "_reject"),
        (S.COMPLETED, "receive 3xx-6xx"): (S.COMPLETED, "_resend_ack"),
        (S.COMPLETED, "timer D"): (S.TERMINATED, "_terminate"),
        (S.CALLING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.PROCEEDING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.COMPLETED, "transport error"): (S.TERMINATED, "_transport_failed"),
    }

    def __init__(self, invite: Request, reliable: bool = False, timers: Timers = Timers()) -> None:
        super().__init__(invite, reliable, timers)
        self.state = InviteClientState.CALLING
        self._interval = timers.t1
        self._ack: Request | None = None

    def start(self) -> list[Action]:
        """Send the INVITE and start timers A (unreliable only) and B."""
        actions: list[Action] = [SendMessage(self.request), self._timer_64t1("B")]
        if not self.reliable:
            actions.insert(1, StartTimer("A", self._interval))
        return actions

    def _retransmit(self, _: Input) -> list[Action]:
        self._interval *= 2
        return [SendMessage(self.request), StartTimer("A", self._interval)]

    def _time_out(self, _: Input) -> list[Action]:
        return [CancelTimer("A"), Timeout("B"), Terminated()]

    def _first_provisional(self, event: Input) -> list[Action]:
        return [CancelTimer("A"), CancelTimer("B"), DeliverToTU(_response(event))]

    def _deliver(self, event: Input) -> list[Action]:
        return [DeliverToTU(_response(event))]

    def _accept(self, event: Input) -> list[Action]:
        # The TU (dialog) ACKs 2xx itself and absorbs their retransmissions.
        return [CancelTimer("A"), CancelTimer("B"), DeliverToTU(_response(event)), Terminated()]

    def _reject(self, event: Input) -> list[Action]:
        response = _response(event)
        self._ack = make_non2xx_ack(self.request, response)
        return [
            CancelTimer("A"),
            CancelTimer("B"),
            SendMessage(self._ack),
            DeliverToTU(response),
            self._wait_timer("D", 32.0),
        ]

    def _resend_ack(self, _: Input) -> list[Action]:
        assert self._ack is not None
        return [SendMessage(self._ack)]

    def _terminate(self, _: Input) -> list[Action]:
        return [Terminated()]

    def _transport_failed(self, _: Input) -> list[Action]:
        return [CancelTimer("A"), CancelTimer("B"), CancelTimer("D"), TransportFailed(),
                Terminated()]  # fmt: skip


class NonInviteClientTransaction(Machine[NonInviteClientState]):
    """Sends a non-INVITE request (BYE, REGISTER, OPTIONS ...) until it is answered."""

    S = NonInviteClientState
    TABLE: ClassVar[Table] = {
        (S.TRYING, "timer E"): (S.TRYING, "_retransmit"),
        (S.PROCEEDING, "timer E"): (S.PROCEEDING, "_retransmit"),
        (S.TRYING, "timer F"): (S.TERMINATED, "_time_out"),
        (S.PROCEEDING, "timer F"): (S.TERMINATED, "_time_out"),
        (S.TRYING, "receive 1xx"): (S.PROCEEDING, "_deliver"),
        (S.PROCEEDING, "receive 1xx"): (S.PROCEEDING, "_deliver"),
        (S.TRYING, "receive 2xx"): (S.COMPLETED, "_complete"),
        (S.TRYING, "receive 3xx-6xx"): (S.COMPLETED, "_complete"),
        (S.PROCEEDING, "receive 2xx"): (S.COMPLETED, "_complete"),
        (S.PROCEEDING, "receive 3xx-6xx"): (S.COMPLETED, "_complete"),
        (S.COMPLETED, "receive 1xx"): (S.COMPLETED, "_absorb"),
        (S.COMPLETED, "receive 2xx"): (S.COMPLETED, "_absorb"),
        (S.COMPLETED, "receive 3xx-6xx"): (S.COMPLETED, "_absorb"),
        (S.COMPLETED, "timer K"): (S.TERMINATED, "_terminate"),
        (S.TRYING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.PROCEEDING, "transport error"): (S.TERMINATED, "_transport_failed"),
    }

    def __init__(self, request: Request, reliable: bool = False, timers: Timers = Timers()) -> None:
        super().__init__(request, reliable, timers)
        self.state = NonInviteClientState.TRYING
        self._interval = timers.t1

    def start(self) -> list[Action]:
        """Send the request and start timers E (unreliable only) and F."""
        actions: list[Action] = [SendMessage(self.request), self._timer_64t1("F")]
        if not self.reliable:
            actions.insert(1, StartTimer("E", self._interval))
        return actions

    def _retransmit(self, _: Input) -> list[Action]:
        # Trying doubles up to T2; once a 1xx arrived, retransmit every T2 (§17.1.2.2).
        in_trying = self.state is NonInviteClientState.TRYING
        self._interval = min(2 * self._interval, self.timers.t2) if in_trying else self.timers.t2
        return [SendMessage(self.request), StartTimer("E", self._interval)]

    def _time_out(self, _: Input) -> list[Action]:
        return [CancelTimer("E"), Timeout("F"), Terminated()]

    def _deliver(self, event: Input) -> list[Action]:
        return [DeliverToTU(_response(event))]

    def _complete(self, event: Input) -> list[Action]:
        return [
            CancelTimer("E"),
            CancelTimer("F"),
            DeliverToTU(_response(event)),
            self._wait_timer("K", self.timers.t4),
        ]

    def _absorb(self, _: Input) -> list[Action]:
        return []

    def _terminate(self, _: Input) -> list[Action]:
        return [Terminated()]

    def _transport_failed(self, _: Input) -> list[Action]:
        return [CancelTimer("E"), CancelTimer("F"), TransportFailed(), Terminated()]
