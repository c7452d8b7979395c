"""Events the notify area announces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SmsSent:
    """A message left through the gateway. Payload: outbox id, number, reference."""

    message_id: str
    to: str
    ref: str | None


@dataclass(frozen=True)
class SmsFailed:
    """A message was given up after its last attempt (or a permanent refusal)."""

    message_id: str
    to: str
    ref: str | None
    error: str


@dataclass(frozen=True)
class SmsReceived:
    """A customer texted our number (a rating, a reply). Payload: sender in E.164."""

    from_number: str
    to_number: str
    text: str
    at: datetime
