"""A multipart/form-data body read as it arrives, so a file part can be streamed.

Starlette's form parser reads the whole body before the handler runs; this reader
hands the file part on chunk by chunk, so the caller may stop (and answer 413)
as soon as a limit is passed. Small fields sent before the file are kept in `fields`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:  # the library defines its callback types only for type checkers
    from python_multipart.multipart import MultipartCallbacks

from ticketline.core.errors import InvalidInput

MAX_FIELD_BYTES = 4096
ENVELOPE_BYTES = 64 * 1024  # room for the part headers and small fields around the file


def declared_too_large(content_length: str | None, max_file_bytes: int) -> bool:
    """The body announces more than a file of `max_file_bytes` plus its envelope."""
    length = content_length or ""
    return length.isdigit() and int(length) > max_file_bytes + ENVELOPE_BYTES


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class _Begin:
    name: str
    filename: str | None


_END = object()


class MultipartReader:
    """Events from the body: where a part begins, its bytes, where it ends."""

    def __init__(self, content_type: str, body: AsyncIterator[bytes]) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise InvalidInput("body", "send multipart/form-data with a file part")
        self.fields: dict[str, str] = {}
        self._body = body
        self._boundary = boundary
        self._events = self._run()

    async def file(self, name: str) -> str:
        """Read on to the file part `name` and return the filename it was sent with."""
        async for event in self._events:
            if isinstance(event, _Begin) and event.name == name and event.filename is not None:
                return event.filename
            await self._field(event)
        raise InvalidInput(name, "no file was sent")

    async def chunks(self) -> AsyncIterator[bytes]:
        """The bytes of the current file part, as they arrive."""
        async for event in self._events:
            if event is _END:
                return
            if isinstance(event, bytes):
                yield event
        raise InvalidInput("file", "the upload ended before the file did")

    async def _field(self, event: object) -> None:
        if not isinstance(event, _Begin) or event.filename is not None:
            return
        value = bytearray()
        async for data in self._events:
            if data is _END:
                break
            if isinstance(data, bytes):
                value += data
            if len(value) > MAX_FIELD_BYTES:
                raise InvalidInput(event.name, f"longer than {MAX_FIELD_BYTES} bytes")
        self.fields[event.name] = value.decode("utf-8", errors="replace")

    async def _run(self) -> AsyncIterator[object]:
        events: list[object] = []
        part = _Part()
        header = [b"", b""]

        def begin() -> None:
            nonlocal part
            part = _Part()

        def header_end() -> None:
            part.headers[header[0].lower()] = header[1]
            header[0] = header[1] = b""

        def headers_done() -> None:
            _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
            name = options.get(b"name", b"").decode("utf-8", errors="replace")
            raw = options.get(b"filename")
            filename = raw.decode("utf-8", errors="replace") if raw is not None else None
            events.append(_Begin(name, filename))

        def header_field(data: bytes, start: int, end: int) -> None:
            header[0] += data[start:end]

        def header_value(data: bytes, start: int, end: int) -> None:
            header[1] += data[start:end]

        callbacks: MultipartCallbacks = {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_header_end": header_end,
            "on_headers_finished": headers_done,
            "on_part_data": lambda data, start, end: events.append(data[start:end]),
            "on_part_end": lambda: events.append(_END),
        }
        parser = MultipartParser(self._boundary, callbacks)
        async for chunk in self._body:
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise InvalidInput("body", f"malformed multipart body: {exc}") from exc
            for event in events:
                yield event
            events.clear()


def upload_doc(name: str = "file") -> dict[str, object]:
    """OpenAPI for an endpoint reading its body with MultipartReader: one file part."""
    part = {"type": "string", "format": "binary"}
    schema = {"type": "object", "required": [name], "properties": {name: part}}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
