"""Trunks that register to their provider: REGISTER with digest auth, refreshed in time.

One :class:`TrunkRegistration` task per enabled trunk with ``registers`` set. It
answers the provider's 401/407 challenge, refreshes at 80% of the granted expiry,
and retries after ``retry_after`` seconds when the provider refuses or is silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ticketline.sip import Headers, Request, Response, SipUri
from ticketline.sip.digest import answer_challenge
from ticketline.sip.uri import Uri
from ticketline.sip.via import Via
from ticketline.telephony.messages import USER_AGENT
from ticketline.telephony.models import Trunk
from ticketline.telephony.transactions import TransactionLayer, new_tag
from ticketline.telephony.transport import Peer

log = logging.getLogger(__name__)

REQUESTED_EXPIRES = 3600


class RegistrationHost(Protocol):
    """What a registration needs from the SIP server."""

    @property
    def layer(self) -> TransactionLayer:
        """The transaction layer."""

    def via(self, peer: Peer) -> Via:
        """A fresh Via for ``peer``."""

    def contact(self, peer: Peer) -> Uri:
        """Our Contact URI for ``peer``."""


@dataclass
class RegistrationStatus:
    """What an operator sees: state (registering/registered/failed), last answer, expiry."""

    state: str = "registering"
    last_status: int | None = None
    expires: int | None = None
    refreshes: int = 0


class TrunkRegistration:
    """Keeps one trunk registered with its provider."""

    def __init__(
        self,
        host: RegistrationHost,
        trunk: Trunk,
        peer: Peer,
        retry_after: float = 30.0,
        on_change: Callable[[TrunkRegistration], None] | None = None,
    ) -> None:
        self.host = host
        self.trunk = trunk
        self.peer = peer
        self.retry_after = retry_after
        self.on_change = on_change
        self.status = RegistrationStatus()
        self._call_id = f"{secrets.token_hex(8)}@ticketline"
        self._tag = new_tag()
        self._cseq = 0
        self._task: asyncio.Task[None] | None = None
        self.registered = asyncio.Event()

    def start(self) -> None:
        """Begin registering (and refreshing) in the background."""
        self._task = asyncio.create_task(self._run(), name=f"register-{self.trunk.name}")

    async def stop(self, unregister: bool = True) -> None:
        """Stop refreshing; send REGISTER with Expires 0 when registered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if unregister and self.status.state == "registered":
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._register(0), 2.0)

    async def _run(self) -> None:
        while True:
            try:
                response = await self._register(REQUESTED_EXPIRES)
            except Exception:
                log.exception("trunk %s: REGISTER failed", self.trunk.name)
                response = None
            delay = self._after(response)
            await asyncio.sleep(delay)

    def _after(self, response: Response | None) -> float:
        status = self.status
        status.last_status = None if response is None else response.status
        if response is not None and response.is_success:
            expires = _granted(response, self.host.contact(self.peer)) or REQUESTED_EXPIRES
            status.state, status.expires = "registered", expires
            status.refreshes += 1
            self.registered.set()
            self._changed()
            return max(expires * 0.8, 1.0)
        status.state = "failed"
        self.registered.clear()
        log.warning("trunk %s: registration refused (%s)", self.trunk.name, status.last_status)
        self._changed()
        return self.retry_after

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)

    async def _register(self, expires: int) -> Response:
        request = self._request(expires)
        response = await self.host.layer.request(request, self.peer).final
        if response.status in (401, 407) and self.trunk.username and self.trunk.password:
            request = self._request(expires, response)
            response = await self.host.layer.request(request, self.peer).final
        return response

    def _request(self, expires: int, challenge: Response | None = None) -> Request:
        self._cseq += 1
        trunk = self.trunk
        uri = SipUri(trunk.host, port=trunk.port)
        aor = SipUri(trunk.host, trunk.username or trunk.name)
        fields = [
            ("Via", str(self.host.via(self.peer))),
            ("Max-Forwards", "70"),
            ("From", f"<{aor}>;tag={self._tag}"),
            ("To", f"<{aor}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<{self.host.contact(self.peer)}>"),
            ("Expires", str(expires)),
            ("User-Agent", USER_AGENT),
        ]
        if challenge is not None:
            fields.append(_authorization(challenge, str(uri), trunk))
        fields.append(("Content-Length", "0"))
        return Request("REGISTER", uri, Headers.of(fields))


def _authorization(challenge: Response, uri: str, trunk: Trunk) -> tuple[str, str]:
    proxy = challenge.status == 407
    header = challenge.headers.get("Proxy-Authenticate" if proxy else "WWW-Authenticate") or ""
    value = answer_challenge(header, "REGISTER", uri, trunk.username or "", trunk.password or "",
                             cnonce=new_tag())  # fmt: skip
    return ("Proxy-Authorization" if proxy else "Authorization", value)


def _granted(response: Response, contact: Uri) -> int | None:
    """The expiry the registrar granted our contact (Contact expires=, else Expires)."""
    for address in response.contacts:
        if str(address.uri) == str(contact) and address.expires is not None:
            return address.expires
    return response.expires
