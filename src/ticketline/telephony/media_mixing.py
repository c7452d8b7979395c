"""Who hears whom: bridges (two sessions) and conferences (N, with listen and whisper).

A `MixGroup` sets each member's `mix_out` once per tick, after every
session has taken its received frame and before any sends. Two ordinary
members (the common bridged call) are a byte copy, re-coded only when one
side speaks PCMU and the other PCMA; anything else (three or more parties,
a supervisor listening or whispering, a muted or held party) goes through
`media.mixer.Mixer` in linear PCM.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

from ticketline.media import g711
from ticketline.media.frames import Pcm
from ticketline.media.mixer import Mixer, PartyMode
from ticketline.telephony.media_player import PCMA, PCMU, decode, encode
from ticketline.telephony.media_session import FRAME, MediaSession

_ZERO = np.zeros(FRAME, dtype=np.int16)


def recode(payload: bytes, source_type: int, target_type: int) -> bytes:
    """A G.711 payload in the target codec (a table lookup when they differ)."""
    if source_type == target_type:
        return payload
    if source_type == PCMU and target_type == PCMA:
        return g711.transcode_ulaw_to_alaw(payload)
    return g711.transcode_alaw_to_ulaw(payload)


class MixGroup:
    """Sessions that hear each other, as the mixer's hearing rules say."""

    def __init__(self, group_id: str) -> None:
        self.id = group_id
        self.members: dict[str, MediaSession] = {}
        self._mixer = Mixer()
        # The two members of a plain two-party bridge (no mixing needed), else empty.
        self._pair: tuple[MediaSession, ...] = ()

    def add(
        self,
        session: MediaSession,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: MediaSession | None = None,
        muted: bool = False,
    ) -> None:
        """Add a member, or change how an existing member takes part."""
        target: Hashable | None = None if whisper_to is None else whisper_to.id
        if target is not None and target not in self.members:
            raise ValueError(f"whisper target {target!r} is not in group {self.id!r}")
        self._mixer.add(session.id, mode, target, muted)
        self.members[session.id] = session
        self._refresh()

    def remove(self, session: MediaSession) -> None:
        """Take a member out (and end any whisper aimed at it); unknown sessions are ignored."""
        if self.members.pop(session.id, None) is None:
            return
        self._mixer.remove(session.id)
        for party_id, party in self._mixer.parties.items():
            if party.whisper_to == session.id:
                self._mixer.add(party_id, PartyMode.LISTEN, None, party.muted)
        self._refresh()

    def set_muted(self, session: MediaSession, muted: bool) -> None:
        """Mute or unmute a member's voice; it still hears the others."""
        self._mixer.set_muted(session.id, muted)
        self._refresh()

    def mode_of(self, session: MediaSession) -> PartyMode:
        """How a member takes part."""
        return self._mixer.parties[session.id].mode

    def _refresh(self) -> None:
        parties = self._mixer.parties.values()
        simple = len(self.members) == 2 and all(
            p.mode is PartyMode.NORMAL and not p.muted for p in parties
        )
        self._pair = tuple(self.members.values()) if simple else ()

    def tick(self) -> None:
        """Set every member's `mix_out` for this tick."""
        if self._pair:
            a, b = self._pair
            if a.payload_type == b.payload_type:
                if b.rx_frame is not None:
                    a.mix_out = b.rx_frame
                if a.rx_frame is not None:
                    b.mix_out = a.rx_frame
                return
            if b.rx_frame is not None:
                a.mix_out = recode(b.rx_frame, b.payload_type, a.payload_type)
            if a.rx_frame is not None:
                b.mix_out = recode(a.rx_frame, a.payload_type, b.payload_type)
            return
        inputs: dict[Hashable, Pcm] = {
            sid: decode(s.rx_frame, s.payload_type)
            for sid, s in self.members.items()
            if s.rx_frame is not None and len(s.rx_frame) == FRAME
        }
        if not inputs:
            return
        for sid, pcm in self._mixer.mix(inputs).items():
            member = self.members[str(sid)]
            member.mix_out = encode(pcm, member.payload_type)


G = TypeVar("G", bound=MixGroup)


class MixGroups(Generic[G]):
    """Which session is in which group: joining one group leaves any other, and a group
    is dropped when its last member leaves. `ordered` is the groups as a list (the
    engine ticks it); `make` builds a new group for an id."""

    def __init__(self, make: Callable[[str], G]) -> None:
        self._make = make
        self.by_id: dict[str, G] = {}
        self.ordered: list[G] = []
        self._of: dict[str, G] = {}

    def join(
        self,
        group_id: str,
        session: MediaSession,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: MediaSession | None = None,
        muted: bool = False,
    ) -> G:
        current = self._of.get(session.id)
        if current is not None and current.id != group_id:
            self.leave(session)
        group = self.by_id.get(group_id)
        if group is None:
            group = self.by_id[group_id] = self._make(group_id)
            self.ordered = list(self.by_id.values())
        group.add(session, mode, whisper_to, muted)
        self._of[session.id] = group
        return group

    def leave(self, session: MediaSession) -> G | None:
        """Take the session out of its group; return the group it left, if any."""
        group = self._of.pop(session.id, None)
        if group is None:
            return None
        group.remove(session)
        if not group.members:
            del self.by_id[group.id]
            self.ordered = list(self.by_id.values())
        return group

    def of(self, session: MediaSession) -> G | None:
        return self._of.get(session.id)

    def clear(self) -> None:
        self.by_id.clear()
        self.ordered = []
        self._of.clear()
