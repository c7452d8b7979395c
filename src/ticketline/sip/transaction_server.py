"""Server transactions (RFC 3261 §17.2): INVITE (fig. 7) and non-INVITE (fig. 8)."""

from __future__ import annotations

import enum
from typing import ClassVar

from ticketline.sip.message import Request, Response, make_response
from ticketline.sip.transaction import (
    Action,
    CancelTimer,
    DeliverToTU,
    Input,
    Machine,
    SendMessage,
    SendResponse,
    StartTimer,
    Table,
    Terminated,
    Timeout,
    Timers,
    TransportFailed,
)


class InviteServerState(enum.Enum):
    """§17.2.1 states."""

    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class NonInviteServerState(enum.Enum):
    """§17.2.2 states."""

    TRYING = "trying"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    TERMINATED = "terminated"


def _outgoing(event: Input) -> Response:
    assert isinstance(event, SendResponse)
    return event.response


class InviteServerTransaction(Machine[InviteServerState]):
    """Answers a received INVITE; absorbs retransmissions and the ACK of a failure."""

    S = InviteServerState
    TABLE: ClassVar[Table] = {
        (S.PROCEEDING, "receive request"): (S.PROCEEDING, "_resend_last"),
        (S.PROCEEDING, "send 1xx"): (S.PROCEEDING, "_send"),
        (S.PROCEEDING, "send 2xx"): (S.TERMINATED, "_send_2xx"),
        (S.PROCEEDING, "send 3xx-6xx"): (S.COMPLETED, "_send_final"),
        (S.COMPLETED, "receive request"): (S.COMPLETED, "_resend_last"),
        (S.COMPLETED, "timer G"): (S.COMPLETED, "_retransmit"),
        (S.COMPLETED, "timer H"): (S.TERMINATED, "_time_out"),
        (S.COMPLETED, "receive ACK"): (S.CONFIRMED, "_confirm"),
        (S.CONFIRMED, "receive ACK"): (S.CONFIRMED, "_absorb"),
        (S.CONFIRMED, "receive request"): (S.CONFIRMED, "_absorb"),
        (S.CONFIRMED, "timer I"): (S.TERMINATED, "_terminate"),
        (S.PROCEEDING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.COMPLETED, "transport error"): (S.TERMINATED, "_transport_failed"),
    }

    def __init__(self, invite: Request, reliable: bool = False, timers: Timers = Timers()) -> None:
        super().__init__(invite, reliable, timers)
        self.state = InviteServerState.PROCEEDING
        self._interval = timers.t1
        self._last: Response | None = None

    def start(self) -> list[Action]:
        """Pass the INVITE to the TU and answer 100 Trying at once (§17.2.1)."""
        self._last = make_response(self.request, 100)
        return [DeliverToTU(self.request), SendMessage(self._last)]

    def _resend_last(self, _: Input) -> list[Action]:
        return [] if self._last is None else [SendMessage(self._last)]

    def _send(self, event: Input) -> list[Action]:
        self._last = _outgoing(event)
        return [SendMessage(self._last)]

    def _send_2xx(self, event: Input) -> list[Action]:
        # The TU retransmits 2xx until its ACK arrives (§13.3.1.4).
        return [SendMessage(_outgoing(event)), Terminated()]

    def _send_final(self, event: Input) -> list[Action]:
        self._last = _outgoing(event)
        actions: list[Action] = [SendMessage(self._last), self._timer_64t1("H")]
        if not self.reliable:
            actions.append(StartTimer("G", self._interval))
        return actions

    def _retransmit(self, event: Input) -> list[Action]:
        self._interval = min(2 * self._interval, self.timers.t2)
        return [*self._resend_last(event), StartTimer("G", self._interval)]

    def _time_out(self, _: Input) -> list[Action]:
        return [CancelTimer("G"), Timeout("H"), Terminated()]

    def _confirm(self, _: Input) -> list[Action]:
        return [CancelTimer("G"), CancelTimer("H"), self._wait_timer("I", self.timers.t4)]

    def _absorb(self, _: Input) -> list[Action]:
        return []

    def _terminate(self, _: Input) -> list[Action]:
        return [Terminated()]

    def _transport_failed(self, _: Input) -> list[Action]:
        return [CancelTimer("G"), CancelTimer("H"), TransportFailed(), Terminated()]


class NonInviteServerTransaction(Machine[NonInviteServerState]):
    """Answers a received non-INVITE request; replays its answer to retransmissions."""

    S = NonInviteServerState
    TABLE: ClassVar[Table] = {
        (S.TRYING, "receive request"): (S.TRYING, "_absorb"),
        (S.TRYING, "send 1xx"): (S.PROCEEDING, "_send"),
        (S.TRYING, "send 2xx"): (S.COMPLETED, "_send_final"),
        (S.TRYING, "send 3xx-6xx"): (S.COMPLETED, "_send_final"),
        (S.PROCEEDING, "receive request"): (S.PROCEEDING, "_resend_last"),
        (S.PROCEEDING, "send 1xx"): (S.PROCEEDING, "_send"),
        (S.PROCEEDING, "send 2xx"): (S.COMPLETED, "_send_final"),
        (S.PROCEEDING, "send 3xx-6xx"): (S.COMPLETED, "_send_final"),
        (S.COMPLETED, "receive request"): (S.COMPLETED, "_resend_last"),
        (S.COMPLETED, "timer J"): (S.TERMINATED, "_terminate"),
        (S.TRYING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.PROCEEDING, "transport error"): (S.TERMINATED, "_transport_failed"),
        (S.COMPLETED, "transport error"): (S.TERMINATED, "_transport_failed"),
    }

    def __init__(self, request: Request, reliable: bool = False, timers: Timers = Timers()) -> None:
        super().__init__(request, reliable, timers)
        self.state = NonInviteServerState.TRYING
        self._last: Response | None = None

    def start(self) -> list[Action]:
        """Pass the request to the TU."""
        return [DeliverToTU(self.request)]

    def _absorb(self, _: Input) -> list[Action]:
        return []

    def _resend_last(self, _: Input) -> list[Action]:
        return [] if self._last is None else [SendMessage(self._last)]

    def _send(self, event: Input) -> list[Action]:
        self._last = _outgoing(event)
        return [SendMessage(self._last)]

    def _send_final(self, event: Input) -> list[Action]:
        self._last = _outgoing(event)
        return [SendMessage(self._last), self._wait_timer("J", 64 * self.timers.t1)]

    def _terminate(self, _: Input) -> list[Action]:
        return [Terminated()]

    def _transport_failed(self, _: Input) -> list[Action]:
        return [CancelTimer("J"), TransportFailed(), Terminated()]
