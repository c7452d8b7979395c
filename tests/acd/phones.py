"""An in-memory AgentPhones: records what the ACD asked of telephony."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ticketline.acd.ports import WaitingKeys


@dataclass(frozen=True)
class CallRef:
    call_id: str


@dataclass
class FakePhones:
    done: list[tuple[str, ...]] = field(default_factory=list)
    keys: dict[str, WaitingKeys] = field(default_factory=dict)

    async def ring(
        self, call_id: str, extensions: Sequence[str], ring_seconds: int, caller_id: str
    ) -> None:
        self.done.append(("ring", call_id, *extensions))

    async def stop_ringing(self, call_id: str, extension: str) -> None:
        self.done.append(("stop_ringing", call_id, extension))

    async def connect(self, call_id: str, extension: str) -> None:
        self.done.append(("connect", call_id, extension))

    async def dial_customer(self, call_id: str, extension: str, number: str) -> None:
        self.done.append(("dial_customer", call_id, extension, number))

    async def play(self, call_id: str, prompt: str, variables: dict[str, str]) -> None:
        self.done.append(("play", call_id, prompt, *sorted(variables.values())))

    async def start_music(self, call_id: str, music: str, keys: WaitingKeys) -> None:
        self.done.append(("music", call_id, music))
        self.keys[call_id] = keys

    async def stop_music(self, call_id: str) -> None:
        self.done.append(("stop_music", call_id))

    async def to_voicemail(self, call_id: str, queue_id: str) -> None:
        self.done.append(("voicemail", call_id, queue_id))

    async def hang_up(self, call_id: str, cause: str) -> None:
        self.done.append(("hang_up", call_id, cause))

    async def release_agent(self, call_id: str, cause: str) -> None:
        self.done.append(("release_agent", call_id, cause))

    def of(self, kind: str) -> list[tuple[str, ...]]:
        return [d for d in self.done if d[0] == kind]
