"""An event shaped like the call-ended event telephony or the ACD will publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    caller: str
    direction: str
    talk_ms: int
    ended_at: datetime
