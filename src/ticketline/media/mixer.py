"""N-party mixing of 20 ms int16 frames for bridges, conferences and supervisor snoop.

Who hears whom is a 0/1 matrix rebuilt only when membership, mode or mute
changes; a frame is then one int32 matrix product and a clip. Party j is heard
by party i (i != j) when j is not muted and j is NORMAL, or j WHISPERs to i.
A LISTEN party hears the others but nobody hears it.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ticketline.media.frames import FRAME_SAMPLES, Pcm, saturate


class PartyMode(enum.Enum):
    """How a party takes part in the mix."""

    NORMAL = "normal"
    LISTEN = "listen"
    WHISPER = "whisper"


@dataclass(frozen=True, slots=True)
class Party:
    """A party's settings; `whisper_to` names the only listener in WHISPER mode."""

    mode: PartyMode = PartyMode.NORMAL
    whisper_to: Hashable | None = None
    muted: bool = False


class Mixer:
    """Mix frames for a set of parties; each output excludes the party's own voice."""

    def __init__(self, frame_samples: int = FRAME_SAMPLES) -> None:
        self._frame_samples = frame_samples
        self._parties: dict[Hashable, Party] = {}
        self._matrix: npt.NDArray[np.int32] | None = None

    @property
    def parties(self) -> Mapping[Hashable, Party]:
        """Current parties and their settings."""
        return dict(self._parties)

    def add(
        self,
        party_id: Hashable,
        mode: PartyMode = PartyMode.NORMAL,
        whisper_to: Hashable | None = None,
        muted: bool = False,
    ) -> None:
        """Add a party, or change the settings of an existing one."""
        if mode is PartyMode.WHISPER and whisper_to is None:
            raise ValueError("a WHISPER party needs whisper_to")
        if whisper_to == party_id:
            raise ValueError(f"party {party_id!r} cannot whisper to itself")
        self._parties[party_id] = Party(mode, whisper_to, muted)
        self._matrix = None

    def remove(self, party_id: Hashable) -> None:
        """Remove a party; unknown ids are ignored."""
        if self._parties.pop(party_id, None) is not None:
            self._matrix = None

    def set_muted(self, party_id: Hashable, muted: bool) -> None:
        """Mute or unmute a party's voice (it still hears the others)."""
        party = self._parties[party_id]
        self.add(party_id, party.mode, party.whisper_to, muted)

    def mix(self, inputs: Mapping[Hashable, Pcm]) -> dict[Hashable, Pcm]:
        """Return each party's output frame; a party missing from `inputs` is silent."""
        if not self._parties:
            return {}
        ids = list(self._parties)
        stacked = np.zeros((len(ids), self._frame_samples), dtype=np.int32)
        for row, party_id in enumerate(ids):
            frame = inputs.get(party_id)
            if frame is not None:
                stacked[row] = self._checked(party_id, frame)
        mixed = saturate(self._hearing() @ stacked)
        return dict(zip(ids, mixed, strict=True))

    def _checked(self, party_id: Hashable, frame: Pcm) -> Pcm:
        if frame.shape != (self._frame_samples,):
            raise ValueError(f"frame of {party_id!r} has shape {frame.shape}")
        return frame

    def _hearing(self) -> npt.NDArray[np.int32]:
        if self._matrix is None:
            self._matrix = _hearing_matrix(self._parties)
        return self._matrix


def _hearing_matrix(parties: Mapping[Hashable, Party]) -> npt.NDArray[np.int32]:
    ids = list(parties)
    matrix = np.zeros((len(ids), len(ids)), dtype=np.int32)
    for i, listener in enumerate(ids):
        for j, speaker in enumerate(ids):
            matrix[i, j] = i != j and _is_heard_by(parties[speaker], listener)
    return matrix


def _is_heard_by(speaker: Party, listener: Hashable) -> bool:
    if speaker.muted:
        return False
    if speaker.mode is PartyMode.WHISPER:
        return speaker.whisper_to == listener
    return speaker.mode is PartyMode.NORMAL


def mix_two(a: Pcm, b: Pcm) -> Pcm:
    """Saturating sum of two frames, e.g. for a mono recording of a bridged call."""
    return saturate(a.astype(np.int32) + b)


def bridge(a: Pcm, b: Pcm) -> tuple[Pcm, Pcm]:
    """The 2-party fast path: A hears B and B hears A, no arithmetic needed."""
    return b, a


def interleave(left: Pcm, right: Pcm) -> Pcm:
    """Stereo frame (caller left, agent right) for a two-channel recording."""
    pair = np.empty(left.size * 2, dtype=np.int16)
    pair[0::2] = left
    pair[1::2] = right
    return pair
