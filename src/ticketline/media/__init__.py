"""RTP/RTCP, G.711, RFC 4733 DTMF, jitter buffer, WAV, tones and mixing (pure, no I/O)."""
