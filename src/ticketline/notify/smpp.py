"""An SMPP 3.4 transmitter: the PDUs as data, and an asyncio client that sends SMS.

Only what an SMS sender needs: bind_transmitter, submit_sm (UCS-2 for Chinese,
message_payload for long texts), enquire_link, unbind, generic_nack.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
from dataclasses import dataclass, field

from ticketline.notify.errors import GatewayError
from ticketline.notify.gateways import Accepted

BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
UNBIND = 0x00000006
ENQUIRE_LINK = 0x00000015
GENERIC_NACK = 0x80000000
RESPONSE_BIT = 0x80000000
MESSAGE_PAYLOAD_TAG = 0x0424
HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024
SHORT_MESSAGE_LIMIT = 140
# Status codes that no retry can fix: invalid destination, message too long, etc.
LINK_ERRORS = (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError)
PERMANENT_STATUSES = frozenset({0x0B, 0x01, 0x0A, 0x33, 0x45, 0x61, 0x62})


@dataclass(frozen=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes = b""

    def serialize(self) -> bytes:
        return (
            HEADER.pack(HEADER.size + len(self.body), self.command_id, self.status, self.sequence)
            + self.body
        )

    @classmethod
    def parse(cls, data: bytes) -> Pdu:
        if len(data) < HEADER.size:
            raise ValueError(f"SMPP PDU shorter than its header: {len(data)} bytes")
        length, command_id, status, sequence = HEADER.unpack_from(data)
        if length != len(data):
            raise ValueError(f"SMPP command_length {length} but {len(data)} bytes")
        return cls(command_id, status, sequence, data[HEADER.size :])


def c_string(text: str, limit: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) >= limit:
        raise ValueError(f"{text!r} is longer than {limit - 1} octets")
    return raw + b"\x00"


def read_c_string(body: bytes, offset: int = 0) -> tuple[str, int]:
    end = body.find(b"\x00", offset)
    if end < 0:
        raise ValueError("unterminated C-octet string in PDU")
    return body[offset:end].decode("ascii", "replace"), end + 1


def bind_transmitter_body(system_id: str, password: str, system_type: str = "") -> bytes:
    return (
        c_string(system_id, 16)
        + c_string(password, 9)
        + c_string(system_type, 13)
        + bytes([0x34, 0, 0])
        + c_string("", 41)
    )


def encode_text(text: str) -> tuple[int, bytes]:
    """data_coding and octets: 0x00 (SMSC default, ASCII) or 0x08 (UCS-2)."""
    if text.isascii():
        return 0x00, text.encode("ascii")
    return 0x08, text.encode("utf-16-be")


def submit_sm_body(source: str, destination: str, text: str) -> bytes:
    coding, payload = encode_text(text)
    fixed = (
        c_string("", 6)
        + bytes([5, 0])
        + c_string(source, 21)
        + bytes([1, 1])
        + c_string(destination, 21)
        + bytes([0, 0, 0])
        + c_string("", 17)
        + c_string("", 17)
        + bytes([0, 0, coding, 0])
    )
    if len(payload) <= SHORT_MESSAGE_LIMIT:
        return fixed + bytes([len(payload)]) + payload
    tlv = struct.pack(">HH", MESSAGE_PAYLOAD_TAG, len(payload)) + payload
    return fixed + bytes([0]) + tlv


@dataclass
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str
    source: str
    system_type: str = ""
    timeout_s: float = 10.0


@dataclass
class SmppGateway:
    """Keeps one bound transmitter session; reconnects on the next send after a failure."""

    settings: SmppSettings
    name: str = "smpp"
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, to: str, body: str) -> Accepted:
        async with self._lock:
            try:
                await self._ensure_bound()
                reply = await self._request(
                    SUBMIT_SM, submit_sm_body(self.settings.source, to, body)
                )
            except LINK_ERRORS as exc:
                await self._drop()
                raise GatewayError(f"SMPP link failed: {exc!r}") from exc
        if reply.status != 0:
            raise GatewayError(
                f"SMSC refused submit_sm with status 0x{reply.status:08X}",
                permanent=reply.status in PERMANENT_STATUSES,
            )
        message_id, _ = read_c_string(reply.body)
        return Accepted(message_id=message_id or None)

    async def close(self) -> None:
        async with self._lock:
            if self._writer is not None:
                with contextlib.suppress(*LINK_ERRORS):
                    await self._request(UNBIND, b"")
            await self._drop()

    async def _ensure_bound(self) -> None:
        if self._writer is not None:
            return
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.settings.host, self.settings.port), self.settings.timeout_s
        )
        reply = await self._request(
            BIND_TRANSMITTER,
            bind_transmitter_body(
                self.settings.system_id, self.settings.password, self.settings.system_type
            ),
        )
        if reply.status != 0:
            await self._drop()
            raise GatewayError(
                f"SMSC refused bind with status 0x{reply.status:08X}", permanent=True
            )

    async def _request(self, command_id: int, body: bytes) -> Pdu:
        assert self._writer is not None
        assert self._reader is not None
        sequence = next(self._sequence)
        self._writer.write(Pdu(command_id, 0, sequence, body).serialize())
        await self._writer.drain()
        while True:
            reply = await asyncio.wait_for(self._read_pdu(), self.settings.timeout_s)
            if reply.command_id == ENQUIRE_LINK:
                self._writer.write(Pdu(ENQUIRE_LINK | RESPONSE_BIT, 0, reply.sequence).serialize())
                continue
            if reply.sequence == sequence and reply.command_id in (
                command_id | RESPONSE_BIT,
                GENERIC_NACK,
            ):
                return reply

    async def _read_pdu(self) -> Pdu:
        assert self._reader is not None
        header = await self._reader.readexactly(HEADER.size)
        (length,) = struct.unpack_from(">I", header)
        if not HEADER.size <= length <= MAX_PDU:
            raise ValueError(f"SMPP command_length {length} out of range")
        return Pdu.parse(header + await self._reader.readexactly(length - HEADER.size))

    async def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None
