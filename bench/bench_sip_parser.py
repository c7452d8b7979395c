"""Parser and serializer throughput on a typical INVITE with SDP.

Run: ``uv run python bench/bench_sip_parser.py [iterations]``. Prints messages per second.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from ticketline.sip import parse

SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)

INVITE = (
    b"INVITE sip:4000@pbx.example.com;transport=udp SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-524287-1---a7c3e8e5f1d2;rport\r\n"
    b"Record-Route: <sip:192.0.2.1;lr>\r\n"
    b"Max-Forwards: 69\r\n"
    b"Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n"
    b'To: "Ticket Line" <sip:4000@pbx.example.com>\r\n'
    b'From: "Alice" <sip:alice@example.com>;tag=9fxced76sl\r\n'
    b"Call-ID: 3848276298220188511@192.0.2.10\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS, INFO, UPDATE\r\n"
    b"Supported: replaces, timer\r\n"
    b"User-Agent: Softphone 1.0\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: " + str(len(SDP)).encode() + b"\r\n"
    b"\r\n" + SDP
)


ROUNDS = 5


def measure(label: str, action: Callable[[], object], iterations: int) -> None:
    """Print the best and median rate over ROUNDS rounds (the machine is shared)."""
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(iterations):
            action()
        rates.append(iterations / (time.perf_counter() - started))
    best, median = max(rates), statistics.median(rates)
    print(f"{label}: best {best:,.0f} messages/s, median {median:,.0f} ({1e6 / best:.1f} µs each)")


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    message = parse(INVITE)
    print(f"INVITE of {len(INVITE)} bytes, {len(message.headers)} header lines, {iterations} runs")
    measure("parse", lambda: parse(INVITE), iterations)
    measure("serialize", message.serialize, iterations)
    measure("parse + serialize", lambda: parse(INVITE).serialize(), iterations)
    measure("parse + read Via/From/To/Contact", lambda: _parse_and_read(INVITE), iterations)


def _parse_and_read(data: bytes) -> object:
    message = parse(data)
    return message.vias, message.from_, message.to, message.contacts


if __name__ == "__main__":
    main()
