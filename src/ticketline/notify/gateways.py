"""SMS gateways: where the outbox worker hands messages over.

`log` (the embedded default) only logs; `kannel` speaks Kannel's smsbox HTTP
`sendsms` interface; `smpp` speaks SMPP 3.4 to an SMSC (see smpp.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import httpx

from ticketline.notify.errors import GatewayError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """The gateway took the message; `message_id` is its reference, if it gives one."""

    message_id: str | None = None


class SmsGateway(Protocol):
    name: str

    async def send(self, to: str, body: str) -> Accepted: ...

    async def close(self) -> None: ...


class LogGateway:
    """Writes each message to the log and reports it accepted (embedded installs)."""

    name = "log"

    async def send(self, to: str, body: str) -> Accepted:
        log.info("SMS to %s: %s", to, body)
        return Accepted()

    async def close(self) -> None:
        return None


@dataclass
class KannelSettings:
    url: str  # e.g. http://127.0.0.1:13013/cgi-bin/sendsms
    username: str
    password: str
    sender: str
    timeout_s: float = 10.0


class KannelGateway:
    """Kannel smsbox `sendsms`: UTF-8 in, UCS-2 on the air so Chinese text survives."""

    name = "kannel"

    def __init__(self, settings: KannelSettings) -> None:
        self.settings = settings
        self._client = httpx.AsyncClient(timeout=settings.timeout_s)

    async def send(self, to: str, body: str) -> Accepted:
        params = {
            "username": self.settings.username,
            "password": self.settings.password,
            "from": self.settings.sender,
            "to": to,
            "text": body,
            "charset": "UTF-8",
            "coding": "2" if not body.isascii() else "0",
        }
        try:
            response = await self._client.get(self.settings.url, params=params)
        except httpx.HTTPError as exc:
            raise GatewayError(f"kannel unreachable: {exc}") from exc
        return _kannel_answer(response)

    async def close(self) -> None:
        await self._client.aclose()


def _kannel_answer(response: httpx.Response) -> Accepted:
    text = response.text.strip()
    if response.status_code in (200, 202) and ("Accepted" in text or "Queued" in text):
        return Accepted(message_id=None)
    # 4xx means Kannel refused this message (bad number, auth); 5xx/503 may pass.
    permanent = 400 <= response.status_code < 500 and response.status_code != 429
    raise GatewayError(f"kannel answered {response.status_code}: {text[:200]}", permanent=permanent)
