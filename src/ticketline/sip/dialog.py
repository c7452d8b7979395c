"""Dialogs (RFC 3261 §12): identity, state, CSeq counters, route set, remote target.

A :class:`Dialog` is a frozen value: every step returns the next dialog (and,
where relevant, what to send). State moves follow the one table ``_MOVES``;
an input it does not list raises :class:`DialogError`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from ticketline.sip.address import NameAddress
from ticketline.sip.headers import Headers
from ticketline.sip.message import Request, Response, make_response
from ticketline.sip.uri import SipUri, Uri
from ticketline.sip.via import Via

TARGET_REFRESH_METHODS = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})
_CONTACT_METHODS = TARGET_REFRESH_METHODS


class DialogError(Exception):
    """A message that does not belong to this dialog or its state."""


class DialogState(enum.Enum):
    """§12 states."""

    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


# (state, response class) -> next state, for responses to the dialog-creating INVITE.
_MOVES = {
    (DialogState.EARLY, "1xx"): DialogState.EARLY,
    (DialogState.EARLY, "2xx"): DialogState.CONFIRMED,
    (DialogState.EARLY, "3xx-6xx"): DialogState.TERMINATED,
    (DialogState.CONFIRMED, "2xx"): DialogState.CONFIRMED,  # 2xx retransmission
    (DialogState.CONFIRMED, "bye"): DialogState.TERMINATED,
    (DialogState.EARLY, "bye"): DialogState.TERMINATED,
}


def _response_class(status: int) -> str:
    if status < 200:
        return "1xx"
    return "2xx" if status < 300 else "3xx-6xx"


@dataclass(frozen=True)
class DialogId:
    """Call-ID plus local and remote tags."""

    call_id: str
    local_tag: str
    remote_tag: str


@dataclass(frozen=True)
class Dialog:
    """One side's view of a dialog."""

    id: DialogId
    state: DialogState
    local_address: NameAddress
    remote_address: NameAddress
    remote_target: Uri
    local_target: Uri
    route_set: tuple[NameAddress, ...] = ()
    local_cseq: int = 0
    remote_cseq: int | None = None

    @classmethod
    def from_uac_response(cls, request: Request, response: Response, local_target: Uri) -> Dialog:
        """The dialog a UAC holds after a 1xx/2xx with a To tag (§12.1.2)."""
        remote_tag = response.to.tag
        local_tag = request.from_.tag
        if remote_tag is None or local_tag is None or not 100 < response.status < 300:
            raise DialogError("only a tagged 101-299 response to a tagged request makes a dialog")
        state = DialogState.EARLY if response.status < 200 else DialogState.CONFIRMED
        return cls(
            id=DialogId(request.call_id, local_tag, remote_tag),
            state=state,
            local_address=request.from_,
            remote_address=response.to,
            remote_target=_contact_uri(response, default=request.uri),
            local_target=local_target,
            route_set=tuple(reversed(response.record_routes)),
            local_cseq=request.cseq[0],
        )

    @classmethod
    def from_uas_request(
        cls, request: Request, local_tag: str, local_target: Uri, confirmed: bool = False
    ) -> Dialog:
        """The dialog a UAS holds once it answers ``request`` with a tagged 1xx/2xx (§12.1.1)."""
        return cls(
            id=DialogId(request.call_id, local_tag, request.from_.tag or ""),
            state=DialogState.CONFIRMED if confirmed else DialogState.EARLY,
            local_address=request.to.with_tag(local_tag),
            remote_address=request.from_,
            remote_target=_contact_uri(request, default=request.from_.uri),
            local_target=local_target,
            route_set=request.record_routes,
            remote_cseq=request.cseq[0],
        )

    def _moved(self, event: str) -> DialogState:
        next_state = _MOVES.get((self.state, event))
        if next_state is None:
            raise DialogError(f"dialog in {self.state.name} cannot take {event}")
        return next_state

    def on_response(self, response: Response) -> Dialog:
        """Apply a response to the INVITE that created the dialog (UAC side)."""
        if response.to.tag != self.id.remote_tag or response.call_id != self.id.call_id:
            raise DialogError("response belongs to another dialog")
        state = self._moved(_response_class(response.status))
        if state is DialogState.CONFIRMED and self.state is DialogState.EARLY:
            return replace(
                self,
                state=state,
                remote_target=_contact_uri(response, default=self.remote_target),
                route_set=tuple(reversed(response.record_routes)),
            )
        return replace(self, state=state)

    def on_sent_final(self, status: int) -> Dialog:
        """Apply the final response we sent to the dialog-creating request (UAS side)."""
        return replace(self, state=self._moved(_response_class(status)))

    def on_bye(self) -> Dialog:
        """A BYE was sent or received: the dialog is over."""
        return replace(self, state=self._moved("bye"))

    def create_request(
        self, method: str, via: Via, body: bytes = b"", content_type: str | None = None
    ) -> tuple[Dialog, Request]:
        """A new in-dialog request (BYE, re-INVITE, INFO, REFER ...) and the updated dialog."""
        if self.state is DialogState.TERMINATED:
            raise DialogError("the dialog is terminated")
        cseq = self.local_cseq + 1
        dialog = replace(self, local_cseq=cseq)
        return dialog, self._build(method, cseq, via, body, content_type)

    def create_ack(self, invite_cseq: int, via: Via, body: bytes = b"") -> Request:
        """The ACK for a 2xx to the (re-)INVITE with CSeq ``invite_cseq`` (§13.2.2.4)."""
        content_type = "application/sdp" if body else None
        return self._build("ACK", invite_cseq, via, body, content_type)

    def _build(
        self, method: str, cseq: int, via: Via, body: bytes, content_type: str | None
    ) -> Request:
        uri, routes = self._request_target()
        fields = [
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            *(("Route", str(route)) for route in routes),
            ("To", str(self.remote_address)),
            ("From", str(self.local_address)),
            ("Call-ID", self.id.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        if method in _CONTACT_METHODS:
            fields.append(("Contact", f"<{self.local_target}>"))
        if content_type is not None:
            fields.append(("Content-Type", content_type))
        fields.append(("Content-Length", str(len(body))))
        return Request(method, uri, Headers.of(fields), body)

    def _request_target(self) -> tuple[Uri, tuple[NameAddress, ...]]:
        """Request-URI and Route set per §12.2.1.1 (loose and strict routing)."""
        if not self.route_set:
            return self.remote_target, ()
        first = self.route_set[0].uri
        if isinstance(first, SipUri) and first.param("lr") is not None:
            return self.remote_target, self.route_set
        # Strict router: it becomes the Request-URI; the remote target goes last.
        return first, (*self.route_set[1:], NameAddress(self.remote_target))

    def receive_request(self, request: Request) -> tuple[Dialog, Response | None]:
        """Check an in-dialog request (§12.2.2): the next dialog and a refusal, if any.

        A CSeq lower than the last one seen is refused with 500; target-refresh
        requests update the remote target from their Contact.
        """
        if (request.call_id, request.to.tag, request.from_.tag) != (
            self.id.call_id,
            self.id.local_tag,
            self.id.remote_tag,
        ):
            return self, make_response(request, 481)
        if request.method in ("ACK", "CANCEL"):
            return self, None
        number = request.cseq[0]
        if self.remote_cseq is not None and number < self.remote_cseq:
            return self, make_response(request, 500, "CSeq Out of Order")
        dialog = replace(self, remote_cseq=number)
        if request.method in TARGET_REFRESH_METHODS and request.contacts:
            dialog = replace(dialog, remote_target=request.contacts[0].uri)
        return dialog, None


def _contact_uri(message: Request | Response, default: Uri) -> Uri:
    contacts = message.contacts
    return contacts[0].uri if contacts else default
