"""Client and server transaction machines wired together in memory (h11's helpers idea)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ticketline.sip import Request, Response, make_response, parse
from ticketline.sip.message import Message
from ticketline.sip.transaction import (
    Action,
    CancelTimer,
    DeliverToTU,
    Input,
    ReceivedMessage,
    SendMessage,
    SendResponse,
    StartTimer,
    Terminated,
    Timeout,
    TimerFired,
    TransactionError,
    TransportError,
    TransportFailed,
    client_key,
    server_key,
)
from ticketline.sip.transaction_client import (
    InviteClientState,
    InviteClientTransaction,
    NonInviteClientState,
    NonInviteClientTransaction,
)
from ticketline.sip.transaction_server import (
    InviteServerState,
    InviteServerTransaction,
    NonInviteServerState,
    NonInviteServerTransaction,
)


def request(method: str, branch: str = "z9hG4bK74bf9") -> Request:
    data = (
        f"{method} sip:bob@biloxi.example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch={branch}\r\n"
        "Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n"
        "From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl\r\n"
        f"Call-ID: 3848276298220188511@atlanta.example.com\r\nCSeq: 1 {method}\r\n"
        "Contact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    message = parse(data)
    assert isinstance(message, Request)
    return message


Machine = (
    InviteClientTransaction
    | NonInviteClientTransaction
    | InviteServerTransaction
    | NonInviteServerTransaction
)


@dataclass
class Side:
    """One transaction machine plus what it asked of its environment."""

    machine: Machine
    timers: dict[str, float] = field(default_factory=dict)
    delivered: list[Message] = field(default_factory=list)
    outcomes: list[Action] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)


class Wire:
    """Connects a client and a server machine; every message goes through bytes.

    Messages are queued and delivered after the sender's actions are applied,
    as a real network would; ``losses`` names messages to drop (status or method).
    """

    def __init__(
        self,
        client: InviteClientTransaction | NonInviteClientTransaction,
        losses: tuple[int | str, ...] = (),
    ) -> None:
        self.client = Side(client)
        self.server: Side | None = None
        self.losses = list(losses)
        self._in_flight: list[tuple[Side | None, Message]] = []
        self._apply(self.client, client.start())
        self._pump()

    def _apply(self, side: Side, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, SendMessage):
                side.sent.append(action.message)
                self._transmit(side, action.message)
            elif isinstance(action, StartTimer):
                side.timers[action.name] = action.seconds
            elif isinstance(action, CancelTimer):
                side.timers.pop(action.name, None)
            elif isinstance(action, DeliverToTU):
                side.delivered.append(action.message)
            else:
                side.outcomes.append(action)

    def _transmit(self, sender: Side, message: Message) -> None:
        label = message.status if isinstance(message, Response) else message.method
        if label in self.losses:
            self.losses.remove(label)
            return
        recipient = None if sender is self.client else self.client
        self._in_flight.append((recipient, parse(message.serialize())))

    def _pump(self) -> None:
        while self._in_flight:
            recipient, message = self._in_flight.pop(0)
            if recipient is None:
                self._to_server(message)
            else:
                self._apply(recipient, recipient.machine.handle(ReceivedMessage(message)))

    def _to_server(self, message: Message) -> None:
        assert isinstance(message, Request)
        if self.server is not None:
            self._apply(self.server, self.server.machine.handle(ReceivedMessage(message)))
            return
        machine: Machine = (
            InviteServerTransaction(message)
            if message.method == "INVITE"
            else NonInviteServerTransaction(message)
        )
        self.server = Side(machine)
        self._apply(self.server, machine.start())

    def feed(self, side: Side, event: Input) -> None:
        self._apply(side, side.machine.handle(event))
        self._pump()

    def fire(self, side: Side, name: str) -> None:
        assert name in side.timers, f"timer {name} is not running"
        del side.timers[name]
        self.feed(side, TimerFired(name))

    def respond(self, status: int) -> None:
        assert self.server is not None
        incoming = self.server.machine.request
        self.feed(self.server, SendResponse(make_response(incoming, status, to_tag="8321234356")))

    @property
    def srv(self) -> Side:
        assert self.server is not None
        return self.server


def statuses(messages: list[Message]) -> list[int | str]:
    return [m.status if isinstance(m, Response) else m.method for m in messages]


def test_invite_rejected_with_ack_and_confirmation() -> None:
    wire = Wire(InviteClientTransaction(request("INVITE")))
    assert wire.client.timers == {}  # the 100 Trying stopped A and B
    assert statuses(wire.srv.sent) == [100]
    assert wire.client.machine.state is InviteClientState.PROCEEDING
    assert wire.client.timers == {}
    wire.respond(180)
    wire.respond(486)
    assert statuses(wire.client.delivered) == [100, 180, 486]
    ack = wire.client.sent[-1]
    assert isinstance(ack, Request)
    assert ack.method == "ACK"
    assert server_key(ack) == server_key(wire.srv.machine.request)
    assert ack.to.tag == "8321234356"
    assert wire.srv.machine.state is InviteServerState.CONFIRMED
    assert wire.srv.timers == {"I": 5.0}
    assert wire.client.timers == {"D": 32.0}
    wire.fire(wire.srv, "I")
    wire.fire(wire.client, "D")
    assert wire.srv.outcomes == [Terminated()]
    assert wire.client.outcomes == [Terminated()]
    assert wire.client.machine.terminated
    assert wire.srv.machine.terminated


def test_lost_invite_is_retransmitted_on_timer_a_with_doubling() -> None:
    wire = Wire(InviteClientTransaction(request("INVITE")), losses=("INVITE", "INVITE"))
    wire.fire(wire.client, "A")
    assert wire.client.timers["A"] == 1.0
    assert wire.server is None
    wire.fire(wire.client, "A")
    assert wire.client.timers == {}  # the 100 Trying of the third copy stopped A and B
    assert statuses(wire.client.sent) == ["INVITE"] * 3
    assert wire.srv.machine.state is InviteServerState.PROCEEDING


def test_invite_times_out_on_timer_b() -> None:
    client = InviteClientTransaction(request("INVITE"))
    actions = client.start()
    assert SendMessage(client.request) in actions
    assert client.handle(TimerFired("B")) == [CancelTimer("A"), Timeout("B"), Terminated()]
    with pytest.raises(TransactionError):
        client.handle(TimerFired("A"))


def test_2xx_ends_both_invite_transactions() -> None:
    wire = Wire(InviteClientTransaction(request("INVITE")))
    wire.respond(200)
    assert wire.srv.outcomes == [Terminated()]
    assert statuses(wire.client.delivered) == [100, 200]
    assert wire.client.outcomes == [Terminated()]
    assert "ACK" not in statuses(wire.client.sent)  # the dialog ACKs a 2xx, not the transaction


def test_lost_final_response_and_lost_ack_are_recovered() -> None:
    wire = Wire(InviteClientTransaction(request("INVITE")), losses=(603, "ACK"))
    wire.respond(603)
    assert wire.srv.timers == {"G": 0.5, "H": 32.0}
    wire.fire(wire.srv, "G")  # the 603 arrives now; the client's ACK is lost
    assert wire.srv.timers["G"] == 1.0
    assert wire.srv.machine.state is InviteServerState.COMPLETED
    wire.fire(wire.srv, "G")  # 603 again: the client re-sends its ACK
    assert statuses(wire.client.sent) == ["INVITE", "ACK", "ACK"]
    assert statuses(wire.client.delivered) == [100, 603]  # the TU sees one 603
    assert wire.srv.machine.state is InviteServerState.CONFIRMED


def test_g_interval_caps_at_t2_and_h_times_out() -> None:
    server = InviteServerTransaction(request("INVITE"))
    server.start()
    server.handle(SendResponse(make_response(server.request, 500)))
    intervals = []
    for _ in range(5):
        actions = server.handle(TimerFired("G"))
        intervals += [a.seconds for a in actions if isinstance(a, StartTimer)]
    assert intervals == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert server.handle(TimerFired("H"))[-2:] == [Timeout("H"), Terminated()]


def test_reliable_transport_starts_no_retransmission_timers() -> None:
    client = InviteClientTransaction(request("INVITE"), reliable=True)
    assert [a for a in client.start() if isinstance(a, StartTimer)] == [StartTimer("B", 32.0)]
    client.handle(ReceivedMessage(make_response(client.request, 404, to_tag="x")))
    assert client.state is InviteClientState.COMPLETED
    bye = NonInviteClientTransaction(request("BYE"), reliable=True)
    bye.start()
    actions = bye.handle(ReceivedMessage(make_response(bye.request, 200)))
    assert StartTimer("K", 0) in actions


def test_non_invite_retransmits_with_e_and_completes() -> None:
    wire = Wire(NonInviteClientTransaction(request("BYE")))
    assert wire.srv.delivered == [wire.srv.machine.request]
    for expected in (1.0, 2.0, 4.0, 4.0):
        wire.fire(wire.client, "E")  # the server absorbs retransmissions in Trying
        assert wire.client.timers["E"] == expected
    assert wire.srv.sent == []
    wire.respond(100)
    assert wire.client.machine.state is NonInviteClientState.PROCEEDING
    wire.fire(wire.client, "E")
    assert statuses(wire.srv.sent) == [100, 100]  # a retransmission replays the 1xx
    wire.respond(200)
    assert wire.client.timers == {"K": 5.0}
    assert wire.srv.timers == {"J": 32.0}
    assert statuses(wire.client.delivered) == [100, 100, 200]
    wire.fire(wire.client, "K")
    wire.fire(wire.srv, "J")
    assert wire.client.machine.terminated
    assert wire.srv.machine.terminated


def test_non_invite_server_replays_final_to_retransmissions() -> None:
    wire = Wire(NonInviteClientTransaction(request("OPTIONS")), losses=(200,))
    wire.respond(200)
    assert wire.client.machine.state is NonInviteClientState.TRYING
    wire.fire(wire.client, "E")
    assert statuses(wire.srv.sent) == [200, 200]
    assert wire.srv.machine.state is NonInviteServerState.COMPLETED
    assert wire.client.machine.state is NonInviteClientState.COMPLETED
    with pytest.raises(TransactionError):
        wire.respond(500)


def test_non_invite_timeout_on_timer_f() -> None:
    client = NonInviteClientTransaction(request("REGISTER"))
    client.start()
    assert client.handle(TimerFired("F")) == [CancelTimer("E"), Timeout("F"), Terminated()]


def test_transport_error_is_reported() -> None:
    client = NonInviteClientTransaction(request("BYE"))
    client.start()
    actions = client.handle(TransportError())
    assert TransportFailed() in actions
    assert client.terminated


def test_matching_keys() -> None:
    invite = request("INVITE")
    response = make_response(invite, 180, to_tag="t")
    assert client_key(response) == client_key(invite) == ("z9hG4bK74bf9", "INVITE")
    bye = request("BYE")
    assert server_key(bye) != server_key(invite)
    legacy = request("INVITE", branch="1234")
    assert server_key(legacy)[0] == "sip:bob@biloxi.example.com"


def test_state_enums_are_disjoint_per_machine() -> None:
    table = NonInviteServerTransaction.TABLE
    assert all(isinstance(state, NonInviteServerState) for state, _ in table)
    assert all(isinstance(next_state, NonInviteServerState) for next_state, _ in table.values())
