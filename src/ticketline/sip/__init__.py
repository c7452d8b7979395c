"""Sans-IO SIP: parse bytes into frozen messages, serialize them back, and run the
RFC 3261 transaction and dialog state machines as pure tables (no sockets, no clocks)."""

from ticketline.sip.address import NameAddress, parse_address
from ticketline.sip.errors import SipParseError
from ticketline.sip.framer import StreamFramer
from ticketline.sip.headers import Headers
from ticketline.sip.message import Message, Request, Response, make_response
from ticketline.sip.parser import MAX_MESSAGE_SIZE, parse
from ticketline.sip.uri import AbsoluteUri, SipUri, TelUri, Uri, parse_uri
from ticketline.sip.via import Via, parse_via

__all__ = [
    "MAX_MESSAGE_SIZE",
    "AbsoluteUri",
    "Headers",
    "Message",
    "NameAddress",
    "Request",
    "Response",
    "SipParseError",
    "SipUri",
    "StreamFramer",
    "TelUri",
    "Uri",
    "Via",
    "make_response",
    "parse",
    "parse_address",
    "parse_uri",
    "parse_via",
]
