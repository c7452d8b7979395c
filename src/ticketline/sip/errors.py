"""Typed errors of the SIP layer."""

from __future__ import annotations


class SipParseError(ValueError):
    """Bytes or a header value that are not valid SIP.

    ``status`` is the response a server should answer with (400 Bad Request,
    505 Version Not Supported, 513 Message Too Large ...); a transport that
    cannot answer (a broken response, a stream that lost framing) drops the data.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
