import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media.jitter import JitterBuffer
from ticketline.media.rtp import RtpPacket, seq_add


def packet(seq: int, ssrc: int = 1) -> RtpPacket:
    return RtpPacket(payload_type=0, sequence=seq % 65536, timestamp=seq * 160 % 2**32, ssrc=ssrc)


def feed(buffer: JitterBuffer, seqs: list[int], ssrc: int = 1) -> list[int]:
    out: list[int] = []
    for seq in seqs:
        out += [p.sequence for p in buffer.add(packet(seq, ssrc))]
    return out


def test_in_order_stream_is_delayed_by_the_target_depth() -> None:
    buffer = JitterBuffer(target_depth=3)
    assert feed(buffer, [10, 11, 12]) == []
    assert feed(buffer, [13]) == [10]
    assert feed(buffer, [14, 15]) == [11, 12]
    assert len(buffer) == 3
    assert [p.sequence for p in buffer.flush()] == [13, 14, 15]


def test_reordered_packets_come_out_in_order() -> None:
    buffer = JitterBuffer(target_depth=3)
    out = feed(buffer, [1, 3, 2, 5, 4, 6, 8, 7, 9, 10, 11])
    assert out == [1, 2, 3, 4, 5, 6, 7, 8]


def test_first_packets_out_of_order_are_not_late() -> None:
    buffer = JitterBuffer(target_depth=2)
    assert feed(buffer, [6, 5, 7, 8]) == [5, 6]
    assert buffer.stats.late == 0
    buffer.flush()
    assert feed(buffer, [7]) == []
    assert buffer.stats.late == 1


def test_duplicates_and_late_packets_are_dropped() -> None:
    buffer = JitterBuffer(target_depth=2)
    out = feed(buffer, [1, 2, 2, 3, 4, 1, 5])
    assert out == [1, 2, 3]
    assert buffer.stats.duplicates == 1
    assert buffer.stats.late == 1


def test_lost_packet_is_skipped_once_the_window_passes() -> None:
    buffer = JitterBuffer(target_depth=2)
    out = feed(buffer, [1, 2, 4, 5, 6, 3])
    assert out == [1, 2, 4]
    assert buffer.stats.lost == 1
    assert buffer.stats.late == 1


def test_sequence_wraparound() -> None:
    buffer = JitterBuffer(target_depth=2)
    seqs = [65533, 65534, 0, 65535, 1, 2, 3]
    assert feed(buffer, seqs) == [65533, 65534, 65535, 0, 1]


def test_new_ssrc_flushes_and_restarts() -> None:
    buffer = JitterBuffer(target_depth=3)
    assert feed(buffer, [100, 101]) == []
    assert [p.sequence for p in buffer.add(packet(7, ssrc=2))] == [100, 101]
    assert feed(buffer, [8, 9, 10], ssrc=2) == [7]
    assert buffer.stats.resets == 1


def test_big_jump_is_a_new_stream() -> None:
    buffer = JitterBuffer(target_depth=2, max_jump=100)
    assert feed(buffer, [1, 2, 3]) == [1]
    assert feed(buffer, [5000]) == [2, 3]
    assert feed(buffer, [5001, 5002]) == [5000]
    assert buffer.stats.resets == 1


def test_gap_jump_counts_every_lost_packet() -> None:
    buffer = JitterBuffer(target_depth=2)
    assert feed(buffer, [1, 2, 3, 10, 11, 12]) == [1, 2, 3, 10]
    assert buffer.stats.lost == 6


def test_invalid_depth() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        JitterBuffer(target_depth=0)


@given(st.integers(0, 65535), st.integers(20, 200), st.randoms(use_true_random=False))
def test_local_reordering_and_duplication_keep_order_without_loss(
    start: int, count: int, rnd: random.Random
) -> None:
    seqs = [seq_add(start, i) for i in range(count)]
    # Swap neighbours (a 1-packet reorder fits a depth-3 window) and duplicate some.
    for i in range(0, count - 1, 2):
        if rnd.random() < 0.5:
            seqs[i], seqs[i + 1] = seqs[i + 1], seqs[i]
    seqs = [s for s in seqs for _ in range(2 if rnd.random() < 0.2 else 1)]
    buffer = JitterBuffer(target_depth=3)
    out = feed(buffer, seqs) + [p.sequence for p in buffer.flush()]
    assert out == [seq_add(start, i) for i in range(count)]
    assert buffer.stats.lost == 0
