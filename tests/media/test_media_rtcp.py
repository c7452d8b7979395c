import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media.rtcp import (
    Goodbye,
    ReceiverReport,
    ReportBlock,
    RtcpUnknown,
    SdesChunk,
    SenderReport,
    SourceDescription,
    parse_compound,
    serialize_compound,
)

# RFC 3550 layout, built by hand: SR with one report block, then SDES CNAME, then BYE.
SR_BYTES = (
    bytes([0x81, 200]) + struct.pack("!H", 12)
    + struct.pack("!IIIIII", 0x11111111, 0xE0000000, 0x80000000, 160000, 50, 8000)
    + struct.pack("!IB", 0x22222222, 64) + (-3).to_bytes(3, "big", signed=True)
    + struct.pack("!IIII", 70000, 42, 0x12345678, 65536)
)  # fmt: skip
SDES_BYTES = (
    bytes([0x81, 202]) + struct.pack("!H", 4)
    + struct.pack("!I", 0x11111111) + bytes([1, 9]) + b"ua@host.x" + bytes([0])
)  # fmt: skip
BYE_BYTES = bytes([0x81, 203]) + struct.pack("!H", 3) + struct.pack("!I", 0x11111111)
BYE_BYTES += bytes([4]) + b"done" + bytes(3)


def test_parse_compound_sr_sdes_bye() -> None:
    packets = parse_compound(SR_BYTES + SDES_BYTES + BYE_BYTES)
    sr, sdes, bye = packets
    assert isinstance(sr, SenderReport)
    assert sr.ntp_timestamp == 0xE0000000_80000000
    assert sr.reports == (ReportBlock(0x22222222, 64, -3, 70000, 42, 0x12345678, 65536),)
    assert isinstance(sdes, SourceDescription)
    assert sdes.chunks[0].cname == "ua@host.x"
    assert bye == Goodbye((0x11111111,), b"done")
    assert serialize_compound(packets) == SR_BYTES + SDES_BYTES + BYE_BYTES


def test_receiver_report_and_unknown_round_trip() -> None:
    packets = [
        ReceiverReport(5, (ReportBlock(6, 0, 0, 1, 2, 3, 4),)),
        RtcpUnknown(205, 1, b"\x00\x00\x00\x05\x00\x00\x00\x06"),
    ]
    assert parse_compound(serialize_compound(packets)) == packets


def test_padding_on_last_packet_is_stripped() -> None:
    padded = bytes([0xA0, 201]) + struct.pack("!HI", 2, 9) + bytes([0, 0, 0, 4])
    assert parse_compound(padded) == [ReceiverReport(9)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x80\xc8", "header truncated"),
        (b"\x40\xc8\x00\x00", "version must be 2, got 1"),
        (b"\x80\xc8\x00\x05", "overruns"),
        (b"\x81\xc9\x00\x01\x00\x00\x00\x01", "RR too short for 1 report blocks"),
        (b"\x80\xc8\x00\x01\x00\x00\x00\x01", "SR too short"),
        (b"\x82\xcb\x00\x01\x00\x00\x00\x01", "BYE too short for 2 sources"),
        (b"\x81\xca\x00\x01\x00\x00\x00\x01", "not terminated"),
        (b"\x81\xca\x00\x02\x00\x00\x00\x01\x01\x09ab", "overruns"),
        (b"\xa0\xc9\x00\x01\x00\x00\x00\x09", "padding length is invalid"),
    ],
)
def test_bad_rtcp_raises_precise_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_compound(data)


u32 = st.integers(0, 0xFFFFFFFF)
blocks = st.builds(
    ReportBlock, u32, st.integers(0, 255), st.integers(-(2**23), 2**23 - 1), u32, u32, u32, u32
)
block_lists = st.lists(blocks, max_size=3).map(tuple)
items = st.tuples(st.integers(1, 8), st.binary(max_size=20))
packets = st.one_of(
    st.builds(SenderReport, u32, st.integers(0, 2**64 - 1), u32, u32, u32, block_lists),
    st.builds(ReceiverReport, u32, block_lists),
    st.builds(
        SourceDescription,
        st.lists(st.builds(SdesChunk, u32, st.lists(items, max_size=3).map(tuple)), max_size=3).map(
            tuple
        ),
    ),
    st.builds(Goodbye, st.lists(u32, max_size=4).map(tuple), st.binary(max_size=30)),
)


@given(st.lists(packets, min_size=1, max_size=4))
def test_compound_round_trip(compound: list) -> None:  # type: ignore[type-arg]
    data = serialize_compound(compound)
    assert parse_compound(data) == compound
    assert serialize_compound(parse_compound(data)) == data


@given(st.binary(max_size=100), st.sampled_from([200, 201, 202, 203, 204]))
def test_random_bytes_only_raise_value_error(data: bytes, packet_type: int) -> None:
    for candidate in (data, bytes([0x80 | (data[:1] or b"\x00")[0] & 0x3F, packet_type]) + data):
        with contextlib.suppress(ValueError):
            parse_compound(candidate)
