"""What the call-control API announces on the bus (frozen, past tense, ids only).

Every event names the call (`call_id`, the call detail record's id) and the
leg (`leg_id`) it is about, so the ACD, the IVR and the desktop can follow a
call without holding any telephony object.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallRinging:
    """An inbound leg arrived and is ringing: from `caller` to `callee` (the DID)."""

    call_id: str
    leg_id: str
    caller: str
    callee: str


@dataclass(frozen=True)
class CallAnswered:
    """A leg was answered (by us for inbound, by the far end for outbound)."""

    call_id: str
    leg_id: str


@dataclass(frozen=True)
class DtmfReceived:
    """A key was pressed; `via` is rfc4733, inband or info (SIP INFO)."""

    call_id: str
    leg_id: str
    digit: str
    via: str


@dataclass(frozen=True)
class PlaybackFinished:
    """A prompt ended: `reason` finished, interrupted (by `digit`), stopped or hangup.

    `error` says why the default tone was played instead of `prompt`.
    """

    call_id: str
    leg_id: str
    prompt: str
    reason: str
    played_ms: int
    digit: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LegBridged:
    """Two legs now hear each other."""

    call_id: str
    leg_id: str
    other_leg_id: str


@dataclass(frozen=True)
class LegUnbridged:
    """A leg left its bridge, conference or snoop."""

    call_id: str
    leg_id: str


@dataclass(frozen=True)
class CallHeld:
    """A leg was put on hold (it hears music, nobody hears it)."""

    call_id: str
    leg_id: str


@dataclass(frozen=True)
class CallResumed:
    """A held leg was taken off hold."""

    call_id: str
    leg_id: str


@dataclass(frozen=True)
class CallTransferred:
    """`leg_id` was connected to `target_leg_id` by a blind or attended transfer."""

    call_id: str
    leg_id: str
    target_leg_id: str
    kind: str


@dataclass(frozen=True)
class ConferenceChanged:
    """A leg joined (`joined`) or left conference `room`."""

    room: str
    call_id: str
    leg_id: str
    joined: bool


@dataclass(frozen=True)
class SnoopStarted:
    """A supervisor leg listens to, whispers to or barges into `target_leg_id`."""

    call_id: str
    leg_id: str
    target_leg_id: str
    mode: str


@dataclass(frozen=True)
class RecordingFinished:
    """A recording was closed and stored (`recording_id` in the recording table)."""

    call_id: str
    leg_id: str
    recording_id: str
    path: str
    duration_ms: int


@dataclass(frozen=True)
class CallEnded:
    """A leg ended: `cause` as the leg reports it, `by` local or remote."""

    call_id: str
    leg_id: str
    cause: str
    by: str
