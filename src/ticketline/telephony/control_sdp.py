"""SDP for media anchored at our engine: our offers and answers, the peer's parameters."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ticketline.sip.offer_answer import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Codec,
    make_offer,
    negotiate,
)
from ticketline.sip.sdp import SessionDescription
from ticketline.telephony.media_session import MediaSession

CODECS: tuple[Codec, ...] = (PCMU, PCMA, Codec(TELEPHONE_EVENT, 8000, None))
SENDING_DIRECTIONS = ("sendrecv", "sendonly")


@dataclass(frozen=True)
class RemoteMedia:
    """Where and how the peer wants its RTP."""

    address: str
    port: int
    payload_type: int
    dtmf_payload_type: int | None
    direction: str  # the peer's direction, as it wrote it


def answer_offer(session: MediaSession, offer: SessionDescription) -> SessionDescription:
    """Answer `offer` with our session's address and apply it (raises NoCommonCodec)."""
    host, port = session.local_address
    result = negotiate(offer, host, port, session.id[:10], CODECS)
    remote = RemoteMedia(
        result.remote_address,
        result.remote_port,
        result.codec.payload_type or 0,
        result.dtmf_payload_type,
        _MIRROR.get(result.direction, "inactive"),  # mirroring is its own inverse
    )
    apply(session, remote, ours=result.direction)
    return result.answer


def offer(session: MediaSession, direction: str = "sendrecv") -> SessionDescription:
    """Our offer for the session's address."""
    host, port = session.local_address
    return make_offer(host, port, session.id[:10], CODECS, direction=direction)


def remote_media(sdp: SessionDescription) -> RemoteMedia | None:
    """The first usable audio stream of a remote answer (PCMU or PCMA), or None."""
    for media in sdp.media:
        if media.media != "audio" or media.port == 0:
            continue
        rtpmaps = media.rtpmaps
        codec: int | None = None
        dtmf: int | None = None
        for fmt in media.formats:
            if not fmt.isdigit():
                continue
            pt = int(fmt)
            name = rtpmaps[pt].encoding.upper() if pt in rtpmaps else {0: "PCMU", 8: "PCMA"}.get(pt)
            if name in ("PCMU", "PCMA") and codec is None:
                codec = 0 if name == "PCMU" else 8
            elif name == TELEPHONE_EVENT.upper() and dtmf is None:
                dtmf = pt
        if codec is None:
            continue
        connection = media.connection or sdp.connection
        address = connection.address if connection is not None else ""
        direction = media.direction or sdp.direction or "sendrecv"
        return RemoteMedia(address, media.port, codec, dtmf, direction)
    return None


_MIRROR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly"}


def apply(session: MediaSession, remote: RemoteMedia, ours: str | None = None) -> None:
    """Point the session at the peer and use its codec; send only if our direction allows."""
    if (remote.payload_type, remote.dtmf_payload_type) != (
        session.payload_type,
        session.dtmf_payload_type,
    ):
        session.set_codec(remote.payload_type, remote.dtmf_payload_type)
    if session.remote != (remote.address, remote.port) and remote.address:
        session.set_remote(remote.address, remote.port)
    mine = ours or _MIRROR.get(remote.direction, "inactive")
    session.sending = mine in SENDING_DIRECTIONS and remote.address not in ("", "0.0.0.0")


def with_direction(sdp: SessionDescription, direction: str) -> SessionDescription:
    """The SDP with every audio stream set to `direction`."""
    media = tuple(m.with_direction(direction) if m.media == "audio" else m for m in sdp.media)
    return replace(sdp, media=media)
