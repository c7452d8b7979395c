"""Micro-benchmarks of the media hot path; run: uv run python bench/bench_media_mixer.py

Prints µs per operation and the implied number of calls one core could carry
at 50 frames/s per leg (two legs per call), counting media work only: socket
I/O, asyncio scheduling and RTP timing come on top (see PEERS.md figures).
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

import numpy as np

from ticketline.media import g711
from ticketline.media.frames import FRAME_SAMPLES
from ticketline.media.mixer import Mixer, mix_two
from ticketline.media.rtp import RtpPacket

FRAMES_PER_SECOND = 50


def per_call_us(step: Callable[[], object], repeat: int = 5, number: int = 20000) -> float:
    """Best-of-`repeat` microseconds per call of `step`."""
    return min(timeit.repeat(step, repeat=repeat, number=number)) / number * 1e6


def main() -> None:
    rng = np.random.default_rng(1)
    voice = [rng.integers(-8000, 8000, FRAME_SAMPLES, dtype=np.int16) for _ in range(3)]
    ulaw = [g711.ulaw_encode_array(v).tobytes() for v in voice]

    def bridge_step(record: bool) -> Callable[[], object]:
        def step() -> object:
            a = g711.ulaw_decode_array(ulaw[0])
            b = g711.ulaw_decode_array(ulaw[1])
            if record:
                mix_two(a, b)
            return g711.ulaw_encode_array(b).tobytes(), g711.ulaw_encode_array(a).tobytes()

        return step

    mixer = Mixer()
    for party in range(3):
        mixer.add(party)

    def conference_step() -> object:
        inputs = {party: g711.ulaw_decode_array(ulaw[party]) for party in range(3)}
        return {p: g711.ulaw_encode_array(f).tobytes() for p, f in mixer.mix(inputs).items()}

    packet = RtpPacket(0, 1234, 5678, 0xDEADBEEF, ulaw[0]).serialize()

    def rtp_step() -> object:
        return RtpPacket.parse(packet).serialize()

    bridge_us = per_call_us(bridge_step(record=False))
    bridge_rec_us = per_call_us(bridge_step(record=True))
    conference_us = per_call_us(conference_step)
    rtp_us = per_call_us(rtp_step)
    # A bridged call per 20 ms: one bridge step plus an RTP parse+serialize per leg.
    call_us = bridge_rec_us + 2 * rtp_us
    print(f"2-party bridge step (2x µ-law decode + encode):   {bridge_us:8.2f} µs")
    print(f"2-party bridge step with mono record mix:          {bridge_rec_us:8.2f} µs")
    print(f"3-party conference frame (decode, mix, encode):    {conference_us:8.2f} µs")
    print(f"RTP parse + serialize (172-byte PCMU packet):      {rtp_us:8.2f} µs")
    print(f"bridged call per 20 ms (bridge+record, 2x RTP):    {call_us:8.2f} µs")
    calls = 1e6 / (call_us * FRAMES_PER_SECOND)
    print(f"implied calls per core at 50 frames/s/leg (media work only): {calls:,.0f}")
    conferences = 1e6 / ((conference_us + 3 * rtp_us) * FRAMES_PER_SECOND)
    print(f"implied 3-party conferences per core (media work only):      {conferences:,.0f}")


if __name__ == "__main__":
    main()
