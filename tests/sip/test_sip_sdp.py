"""SDP parse/serialize and offer/answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketline.sip.offer_answer import PCMA, PCMU, NoCommonCodec, make_offer, negotiate
from ticketline.sip.sdp import (
    Connection,
    MediaDescription,
    Origin,
    RtpMap,
    SdpParseError,
    SessionDescription,
    parse_sdp,
)

OFFER = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"b=AS:64\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 18 8 0 96\r\n"
    b"a=rtpmap:18 G729/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:96 telephone-event/8000\r\n"
    b"a=fmtp:96 0-15\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
    b"m=video 51372 RTP/AVP 31\r\n"
    b"a=rtpmap:31 H261/90000\r\n"
)


def test_parse_fields() -> None:
    sdp = parse_sdp(OFFER)
    assert sdp.origin == Origin("alice", "2890844526", "2890844527", "192.0.2.10")
    assert sdp.connection == Connection("192.0.2.10")
    audio, video = sdp.media
    assert audio.formats == ("18", "8", "0", "96")
    assert audio.rtpmaps[96] == RtpMap(96, "telephone-event", 8000)
    assert audio.fmtps == {96: "0-15"}
    assert (audio.ptime, audio.direction) == (20, "sendrecv")
    assert video.port == 51372


def test_round_trip_is_byte_exact() -> None:
    assert parse_sdp(OFFER).serialize() == OFFER


@pytest.mark.parametrize(
    "data",
    [b"", b"v=1\r\n", b"v=0\r\ns=-\r\nt=0 0\r\n", b"v=0\r\no=a b\r\ns=-\r\nt=0 0\r\n",
     OFFER.replace(b"m=audio 49170", b"m=audio x"), OFFER + b"garbage\r\n"],
)  # fmt: skip
def test_malformed_sdp(data: bytes) -> None:
    with pytest.raises(SdpParseError):
        parse_sdp(data)


def test_answer_picks_first_common_codec_in_offer_order_and_keeps_dtmf_type() -> None:
    result = negotiate(parse_sdp(OFFER), "198.51.100.1", 20000, "42")
    assert result.codec == PCMA
    assert (result.payload_type, result.dtmf_payload_type) == (8, 96)
    assert (result.remote_address, result.remote_port) == ("192.0.2.10", 49170)
    audio, video = result.answer.media
    assert audio.formats == ("8", "96")
    assert audio.fmtps == {96: "0-15"}
    assert audio.direction == "sendrecv"
    assert video.port == 0
    assert parse_sdp(result.answer.serialize()) == result.answer


@pytest.mark.parametrize(
    ("offered", "answered"),
    [("sendonly", "recvonly"), ("recvonly", "sendonly"), ("inactive", "inactive")],
)
def test_answer_mirrors_direction(offered: str, answered: str) -> None:
    offer = OFFER.replace(b"a=sendrecv", b"a=" + offered.encode())
    result = negotiate(parse_sdp(offer), "198.51.100.1", 20000, "42")
    assert result.direction == answered
    assert result.answer.media[0].direction == answered


def test_static_payload_without_rtpmap_is_understood() -> None:
    offer = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n"
    )
    assert negotiate(offer, "a", 1, "1").codec == PCMU


def test_no_common_codec_is_a_typed_488() -> None:
    offer = OFFER.replace(b"18 8 0 96", b"18 96")
    with pytest.raises(NoCommonCodec) as error:
        negotiate(parse_sdp(offer), "a", 1, "1")
    assert error.value.status == 488


def test_our_offer_is_answerable_by_ourselves() -> None:
    offer = make_offer("198.51.100.1", 20000, "7")
    assert parse_sdp(offer.serialize()) == offer
    assert negotiate(offer, "203.0.113.5", 30000, "9").codec == PCMU


_word = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)


@settings(deadline=None)  # the machine is shared; speed is bench/'s business
@given(
    port=st.integers(0, 65535),
    formats=st.lists(st.integers(0, 127).map(str), min_size=1, max_size=5),
    attributes=st.lists(st.tuples(_word, st.none() | _word), max_size=4),
    session_id=st.integers(0, 2**40).map(str),
)
def test_generated_sdp_round_trips(
    port: int, formats: list[str], attributes: list[tuple[str, str | None]], session_id: str
) -> None:
    media = MediaDescription("audio", port, "RTP/AVP", tuple(formats), None, tuple(attributes))
    sdp = SessionDescription(Origin("-", session_id, "1", "h"), media=(media,))
    assert parse_sdp(sdp.serialize()) == sdp
