"""The wire format between call control and a media process.

A frame is two lengths (JSON, blob), a JSON object and an optional blob of
raw bytes (audio). Requests carry `op` and, when they want a reply, `rid`;
replies carry `rid` with `ok` or `error`; events carry `ev`. The stream is
ordered, so fire-and-forget requests (`sending`, `stop`) take effect in the
order call control made them.
"""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

_LENGTHS = struct.Struct(">II")
MAX_JSON = 1 << 20
MAX_BLOB = 64 << 20  # the prompt library's longest audio (600 s of 16-bit 8 kHz) fits


class ProtocolError(Exception):
    """A frame that does not follow the format (the connection is dropped)."""


Message = dict[str, Any]


def frame(message: Message, blob: bytes = b"") -> bytes:
    """Serialize one message and its blob."""
    body = json.dumps(message, separators=(",", ":")).encode()
    return _LENGTHS.pack(len(body), len(blob)) + body + blob


async def read_frame(reader: asyncio.StreamReader) -> tuple[Message, bytes]:
    """Read one message and its blob; IncompleteReadError at the end of the stream."""
    json_len, blob_len = _LENGTHS.unpack(await reader.readexactly(_LENGTHS.size))
    if json_len > MAX_JSON or blob_len > MAX_BLOB:
        raise ProtocolError(f"frame too large: {json_len} + {blob_len} bytes")
    try:
        message = json.loads(await reader.readexactly(json_len))
    except ValueError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    blob = await reader.readexactly(blob_len) if blob_len else b""
    return message, blob
