import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media.dtmf import (
    DigitEnded,
    DigitStarted,
    DtmfEvent,
    DtmfReceiver,
    DtmfSender,
    TelephoneEvent,
    event_for_digit,
)
from ticketline.media.rtp import RtpPacket


def test_parse_rfc4733_payload_bytes() -> None:
    # RFC 4733 §2.3: event=5, E=1, R=0, volume=10, duration=800 (100 ms at 8 kHz)
    event = TelephoneEvent.parse(bytes.fromhex("058a0320"))
    assert event == TelephoneEvent(event=5, end=True, volume=10, duration=800)
    assert event.digit == "5"
    assert event.serialize() == bytes.fromhex("058a0320")


def test_reserved_bit_is_ignored() -> None:
    assert TelephoneEvent.parse(bytes.fromhex("0b4a00a0")) == TelephoneEvent(11, False, 10, 160)


def test_bad_payload_length() -> None:
    with pytest.raises(ValueError, match="must be 4 bytes, got 3"):
        TelephoneEvent.parse(b"\x01\x02\x03")


@given(st.integers(0, 255), st.booleans(), st.integers(0, 63), st.integers(0, 0xFFFF))
def test_payload_round_trip(event: int, end: bool, volume: int, duration: int) -> None:
    payload = TelephoneEvent(event, end, volume, duration)
    assert TelephoneEvent.parse(payload.serialize()) == payload


def test_digit_codes() -> None:
    assert [event_for_digit(d) for d in "0123456789*#ABCD"] == list(range(16))
    assert event_for_digit("a") == 12
    assert TelephoneEvent(16).digit is None
    with pytest.raises(ValueError, match="not a DTMF digit"):
        event_for_digit("E")


def test_sender_packet_train() -> None:
    packets = DtmfSender(ssrc=42, duration_ms=100).packets("#", sequence=65534, timestamp=1000)
    events = [TelephoneEvent.parse(p.payload) for p in packets]
    assert [p.sequence for p in packets] == [65534, 65535, 0, 1, 2, 3, 4]
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert {p.timestamp for p in packets} == {1000}
    assert {p.payload_type for p in packets} == {101}
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {e.event for e in events} == {11}


def test_sender_rejects_too_long_digit() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        DtmfSender(ssrc=1, duration_ms=9000)


def feed_all(receiver: DtmfReceiver, packets: list[RtpPacket], start: float) -> list[DtmfEvent]:
    out: list[DtmfEvent] = []
    for index, packet in enumerate(packets):
        out += receiver.feed(packet.timestamp, packet.marker, packet.payload, start + index * 0.02)
    return out


def test_receiver_reports_each_press_once() -> None:
    sender = DtmfSender(ssrc=1, duration_ms=100)
    receiver = DtmfReceiver()
    events = feed_all(receiver, sender.packets("7", 10, 8000), 0.0)
    assert events == [DigitStarted("7"), DigitEnded("7", 100)]


def test_repeated_digit_is_two_presses_but_retransmissions_are_not() -> None:
    sender = DtmfSender(ssrc=1, duration_ms=60)
    first = sender.packets("3", 10, 8000)
    second = sender.packets("3", 20, 16000)
    # Retransmitted start and a late duplicate end of the first press.
    stream = [first[0], *first, first[-1], *second]
    events = feed_all(DtmfReceiver(), stream, 0.0)
    assert events == [
        DigitStarted("3"),
        DigitEnded("3", 60),
        DigitStarted("3"),
        DigitEnded("3", 60),
    ]


def test_missing_end_packets_close_on_timeout() -> None:
    packets = DtmfSender(ssrc=1, duration_ms=100).packets("9", 0, 0)[:3]
    receiver = DtmfReceiver(end_timeout=0.3)
    assert feed_all(receiver, packets, 0.0) == [DigitStarted("9")]
    assert receiver.poll(0.2) == []
    assert receiver.poll(0.4) == [DigitEnded("9", 60)]
    assert receiver.poll(1.0) == []
    # A straggler of that press must not restart it.
    assert receiver.feed(0, False, packets[1].payload, 1.1) == []


def test_missing_end_packets_close_when_next_press_starts() -> None:
    sender = DtmfSender(ssrc=1, duration_ms=100)
    first = sender.packets("1", 0, 0)[:2]
    second = sender.packets("2", 10, 2000)
    events = feed_all(DtmfReceiver(), first + second, 0.0)
    assert events == [
        DigitStarted("1"),
        DigitEnded("1", 40),
        DigitStarted("2"),
        DigitEnded("2", 100),
    ]


def test_only_end_packets_still_give_one_press() -> None:
    packets = DtmfSender(ssrc=1, duration_ms=80).packets("A", 0, 500)[-3:]
    assert feed_all(DtmfReceiver(), packets, 0.0) == [DigitStarted("A"), DigitEnded("A", 80)]


def test_older_press_and_non_digit_events_are_ignored() -> None:
    receiver = DtmfReceiver()
    new = DtmfSender(ssrc=1).packets("5", 0, 0xFFFFFF00)
    old = DtmfSender(ssrc=1).packets("6", 0, 0xFFFFF000)
    assert feed_all(receiver, new, 0.0) == [DigitStarted("5"), DigitEnded("5", 100)]
    assert feed_all(receiver, old, 1.0) == []
    flash = TelephoneEvent(16, False, 10, 160).serialize()
    assert receiver.feed(0x100, True, flash, 2.0) == []
    # Timestamp wraparound: a press after 2**32 is still newer.
    later = DtmfSender(ssrc=1).packets("8", 0, 0x20)
    assert feed_all(receiver, later, 3.0) == [DigitStarted("8"), DigitEnded("8", 100)]


@given(st.lists(st.sampled_from("0123456789*#ABCD"), min_size=1, max_size=8))
def test_any_digit_string_survives_duplicated_packets(digits: list[str]) -> None:
    sender = DtmfSender(ssrc=1, duration_ms=80)
    stream: list[RtpPacket] = []
    for index, digit in enumerate(digits):
        train = sender.packets(digit, index * 10, index * 4000)
        duplicated = [p for p in train for _ in range(2)]
        stream += duplicated
    events = feed_all(DtmfReceiver(), stream, 0.0)
    assert [e.digit for e in events if isinstance(e, DigitStarted)] == digits
    assert [e.digit for e in events if isinstance(e, DigitEnded)] == digits
