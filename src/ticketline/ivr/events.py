"""What the IVR announces on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class IvrCallEnded:
    """A call left the IVR: its path, how it ended, and whether it stayed in self-service.

    `steps` holds (node, event, label) triples; reports build per-node figures from them.
    """

    call_id: str
    flow: str
    version: str
    caller: str
    outcome: str
    contained: bool
    path: tuple[str, ...]
    steps: tuple[tuple[str, str, str], ...]
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class VoicemailLeft:
    """A caller left a message in `box`; `path` is the 8 kHz WAV."""

    call_id: str
    caller: str
    box: str
    path: str
    seconds: float
    at: datetime


@dataclass(frozen=True)
class FlowReloaded:
    """A flow file changed and its new version now serves new calls."""

    flow: str
    version: str
    path: str


@dataclass(frozen=True)
class FlowRejected:
    """A changed flow file failed its checks; the previous version keeps serving."""

    path: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class IvrCallQueued:
    """A call leaves the menu for an agent: the path so far and what the caller keyed in.

    Published just before the hand-off, so the agent's screen pop can show it.
    """

    call_id: str
    queue: str
    path: tuple[str, ...]
    variables: tuple[tuple[str, str], ...]
