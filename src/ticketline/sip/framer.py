"""Stream (TCP/TLS) framing: split a byte stream into messages by Content-Length."""

from __future__ import annotations

import re

from ticketline.sip.errors import SipParseError
from ticketline.sip.message import Message
from ticketline.sip.parser import MAX_MESSAGE_SIZE, parse

_CONTENT_LENGTH_RE = re.compile(rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


class StreamFramer:
    """Collects stream bytes and returns each complete message as it arrives.

    Framing errors (bad Content-Length, oversized header) cannot be recovered on
    a stream: the framer reports the error, sets :attr:`broken` and ignores
    further data — the transport should close the connection (RFC 3261 §18.3).
    A well-framed but malformed message is reported and the stream goes on.
    """

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self._buffer = bytearray()
        self._max = max_message_size
        self.broken = False

    def feed(self, data: bytes) -> list[Message | SipParseError]:
        """Add bytes; return the messages (or parse errors) now complete."""
        if self.broken:
            return []
        self._buffer += data
        events: list[Message | SipParseError] = []
        while not self.broken:
            event = self._next_event()
            if event is None:
                break
            events.append(event)
        return events

    def _next_event(self) -> Message | SipParseError | None:
        self._skip_keepalives()
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return (
                self._fail("header section too large", 513)
                if len(self._buffer) > self._max
                else None
            )
        length = self._content_length(bytes(self._buffer[:end]))
        if isinstance(length, SipParseError):
            return length
        total = end + 4 + length
        if total > self._max:
            return self._fail(f"message of {total} bytes is too large", 513)
        if len(self._buffer) < total:
            return None
        chunk = bytes(self._buffer[:total])
        del self._buffer[:total]
        try:
            return parse(chunk)
        except SipParseError as error:
            return error

    def _skip_keepalives(self) -> None:
        start = 0
        while self._buffer[start : start + 2] == b"\r\n":
            start += 2
        if start:
            del self._buffer[:start]

    def _content_length(self, head: bytes) -> int | SipParseError:
        values = _CONTENT_LENGTH_RE.findall(head)
        if not values:
            return 0  # RFC 3261 §18.3 makes it mandatory; treat its absence as an empty body
        text = values[0].strip()
        if len(values) > 1 or not text.isdigit() or len(text) > 9:
            return self._fail(f"bad Content-Length {values!r} on a stream")
        return int(text)

    def _fail(self, message: str, status: int = 400) -> SipParseError:
        self.broken = True
        self._buffer.clear()
        return SipParseError(message, status)
