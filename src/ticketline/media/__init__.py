"""Pure media layer: RTP/RTCP, G.711, RFC 4733 DTMF, jitter, WAV, tones, mixing.

Nothing here touches sockets, clocks or asyncio; the telephony layer owns those
and calls these functions with timestamps passed in.
"""
