"""RTP port pairs: even RTP ports, RTCP next to them, held ports skipped, reuse after release."""

from __future__ import annotations

import socket

import pytest

from tests.telephony.media_peer import random_range
from ticketline.telephony.media_ports import NoPortsAvailable, PortAllocator, PortRange


def test_range_yields_even_rtp_ports_with_room_for_rtcp() -> None:
    assert PortRange(20001, 20009).pairs() == [20002, 20004, 20006, 20008]
    assert PortRange(20000, 20004).pairs() == [20000, 20002]


@pytest.mark.parametrize(("first", "last"), [(80, 2000), (3000, 3000), (60000, 70000)])
def test_bad_ranges_are_refused_naming_the_setting(first: int, last: int) -> None:
    with pytest.raises(ValueError, match="rtp port range"):
        PortRange(first, last)


def test_pairs_are_bound_held_ports_skipped_and_released_ports_reused_last() -> None:
    ports = random_range(8)
    squatter = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    squatter.bind(("127.0.0.1", ports.first + 1))  # someone holds the first RTCP port
    allocator = PortAllocator(ports, "127.0.0.1")
    opened = []
    try:
        for _ in range(3):
            port, rtp, rtcp = allocator.allocate()
            opened += [rtp, rtcp]
            assert port % 2 == 0
            assert rtp.getsockname()[1] == port
            assert rtcp.getsockname()[1] == port + 1
            assert port != ports.first
        with pytest.raises(NoPortsAvailable):
            allocator.allocate()
        squatter.close()
        port, rtp, rtcp = allocator.allocate()
        opened += [rtp, rtcp]
        assert port == ports.first  # freed by its holder, found on the retry
        assert allocator.in_use == 4
        released = opened[0].getsockname()[1]
        opened[0].close()
        opened[1].close()
        allocator.release(released)
        assert allocator.in_use == 3
        port, rtp, rtcp = allocator.allocate()
        opened += [rtp, rtcp]
        assert port == released
    finally:
        squatter.close()
        for sock in opened:
            sock.close()
