"""SDP offer/answer (RFC 3264) for an audio endpoint: pick a codec, mirror the direction."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ticketline.sip.sdp import Connection, MediaDescription, Origin, SessionDescription

TELEPHONE_EVENT = "telephone-event"


@dataclass(frozen=True)
class Codec:
    """An audio codec we can send and receive; ``payload_type`` None means dynamic."""

    name: str
    clock_rate: int = 8000
    payload_type: int | None = None

    def matches(self, name: str, clock_rate: int) -> bool:
        """True if an offered encoding name/rate is this codec."""
        return name.lower() == self.name.lower() and clock_rate == self.clock_rate


PCMU = Codec("PCMU", 8000, 0)
PCMA = Codec("PCMA", 8000, 8)
DTMF = Codec(TELEPHONE_EVENT, 8000, None)
DEFAULT_CODECS = (PCMU, PCMA, DTMF)

# RFC 3551 static payload types, for offers that omit a=rtpmap.
STATIC_PAYLOAD_TYPES = {0: ("PCMU", 8000), 3: ("GSM", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
                        18: ("G729", 8000)}  # fmt: skip

MIRRORED_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


class NoCommonCodec(ValueError):
    """The offer has no audio stream with a codec we support (answer 488)."""

    status = 488


@dataclass(frozen=True)
class Negotiation:
    """The answer to send and what the media layer needs to know."""

    answer: SessionDescription
    codec: Codec
    payload_type: int
    dtmf_payload_type: int | None
    remote_address: str
    remote_port: int
    direction: str


def _offered_codecs(media: MediaDescription) -> list[tuple[int, str, int]]:
    rtpmaps = media.rtpmaps
    offered = []
    for fmt in media.formats:
        if not fmt.isdigit():
            continue
        payload_type = int(fmt)
        if payload_type in rtpmaps:
            rtpmap = rtpmaps[payload_type]
            offered.append((payload_type, rtpmap.encoding, rtpmap.clock_rate))
        elif payload_type in STATIC_PAYLOAD_TYPES:
            offered.append((payload_type, *STATIC_PAYLOAD_TYPES[payload_type]))
    return offered


def _choose(
    media: MediaDescription, codecs: tuple[Codec, ...]
) -> tuple[Codec, int, int | None] | None:
    chosen: tuple[Codec, int] | None = None
    dtmf: int | None = None
    for payload_type, name, clock_rate in _offered_codecs(media):
        for codec in codecs:
            if not codec.matches(name, clock_rate):
                continue
            if codec.name == TELEPHONE_EVENT:
                dtmf = payload_type if dtmf is None else dtmf
            elif chosen is None:
                chosen = (codec, payload_type)
    return None if chosen is None else (*chosen, dtmf)


def negotiate(
    offer: SessionDescription,
    local_address: str,
    local_port: int,
    session_id: str,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
) -> Negotiation:
    """Answer ``offer``: first common codec in the offerer's order, telephone-event kept.

    Only the first acceptable audio stream is accepted; every other stream is
    rejected with port 0, as RFC 3264 §6 requires one answer line per offer line.
    """
    for index, media in enumerate(offer.media):
        if media.media != "audio" or media.port == 0:
            continue
        choice = _choose(media, codecs)
        if choice is not None:
            return _build(offer, index, choice, local_address, local_port, session_id)
    raise NoCommonCodec("no audio stream with a supported codec in the offer")


def _build(
    offer: SessionDescription,
    index: int,
    choice: tuple[Codec, int, int | None],
    local_address: str,
    local_port: int,
    session_id: str,
) -> Negotiation:
    codec, payload_type, dtmf = choice
    offered = offer.media[index]
    direction = MIRRORED_DIRECTION[offered.direction or offer.direction or "sendrecv"]
    accepted = _answer_media(offered, codec, payload_type, dtmf, local_port, direction)
    media = tuple(
        accepted if i == index else replace(m, port=0, attributes=(), connection=None)
        for i, m in enumerate(offer.media)
    )
    answer = SessionDescription(
        origin=Origin("ticketline", session_id, session_id, local_address),
        connection=Connection(local_address),
        media=media,
    )
    connection = offered.connection or offer.connection
    remote_address = connection.address if connection is not None else ""
    return Negotiation(answer, codec, payload_type, dtmf, remote_address, offered.port, direction)


def _answer_media(
    offered: MediaDescription,
    codec: Codec,
    payload_type: int,
    dtmf: int | None,
    port: int,
    direction: str,
) -> MediaDescription:
    formats = [str(payload_type)]
    attributes: list[tuple[str, str | None]] = [
        ("rtpmap", f"{payload_type} {codec.name}/{codec.clock_rate}")
    ]
    if dtmf is not None:
        formats.append(str(dtmf))
        attributes.append(("rtpmap", f"{dtmf} {TELEPHONE_EVENT}/8000"))
        attributes.append(("fmtp", f"{dtmf} {offered.fmtps.get(dtmf, '0-16')}"))
    if offered.ptime is not None:
        attributes.append(("ptime", str(offered.ptime)))
    attributes.append((direction, None))
    return MediaDescription("audio", port, offered.proto, tuple(formats), None, tuple(attributes))


def make_offer(
    local_address: str,
    local_port: int,
    session_id: str,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    dtmf_payload_type: int = 101,
    direction: str = "sendrecv",
) -> SessionDescription:
    """An audio offer listing ``codecs`` in our order of preference."""
    formats: list[str] = []
    attributes: list[tuple[str, str | None]] = []
    for codec in codecs:
        payload_type = codec.payload_type if codec.payload_type is not None else dtmf_payload_type
        formats.append(str(payload_type))
        attributes.append(("rtpmap", f"{payload_type} {codec.name}/{codec.clock_rate}"))
        if codec.name == TELEPHONE_EVENT:
            attributes.append(("fmtp", f"{payload_type} 0-16"))
    attributes += [("ptime", "20"), (direction, None)]
    media = MediaDescription(
        "audio", local_port, "RTP/AVP", tuple(formats), None, tuple(attributes)
    )
    return SessionDescription(
        origin=Origin("ticketline", session_id, session_id, local_address),
        connection=Connection(local_address),
        media=(media,),
    )
