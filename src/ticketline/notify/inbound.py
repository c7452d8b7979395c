"""Text messages customers send us, as the SMS gateway hands them over.

Kannel's smsbox calls a URL for every message it receives (an `sms-service` with
`get-url`); we check the shared token, validate the sender and the text, and announce
`SmsReceived` on the bus. Other areas decide what a message means (a work order
rating, a reply); the CRM timeline keeps it on the customer's history.
"""

from __future__ import annotations

import secrets
import unicodedata

from ticketline.core.bus import EventBus
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput, NotFound, PermissionDenied
from ticketline.notify.events import SmsReceived
from ticketline.notify.service import normalize_phone

MAX_TEXT = 1000


class InboundSms:
    def __init__(self, bus: EventBus, clock: Clock, token: str) -> None:
        self.bus = bus
        self.clock = clock
        self.token = token

    async def receive(self, token: str, sender: str, receiver: str, text: str) -> SmsReceived:
        if not self.token:
            raise NotFound("receiving SMS is not configured (TICKETLINE_SMS_INBOUND_TOKEN)")
        if not secrets.compare_digest(token.encode(), self.token.encode()):
            raise PermissionDenied("wrong token for the SMS inbound URL")
        try:
            number = normalize_phone(sender)
        except InvalidInput as exc:
            raise InvalidInput("from", exc.details["reason"]) from exc
        clean = unicodedata.normalize("NFKC", text).strip()
        if not clean:
            raise InvalidInput("text", "the message is empty")
        if len(clean) > MAX_TEXT:
            raise InvalidInput("text", f"longer than {MAX_TEXT} characters")
        event = SmsReceived(number, receiver.strip()[:32], clean, self.clock.now())
        await self.bus.publish(event)
        return event
