"""HTTP shapes of the ACD, and their conversion to the router's frozen config."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ticketline.acd.config import (
    DailyWindow,
    Membership,
    OverflowKind,
    OverflowRule,
    QueueConfig,
    SkillNeed,
    Strategy,
    WideningStep,
)
from ticketline.core.errors import InvalidInput

Code = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
Extension = Annotated[str, Field(pattern=r"^[0-9]{2,16}$")]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Seconds = Annotated[int, Field(ge=0, le=86400)]
WaitingKey = Annotated[str, Field(pattern=r"^[0-9*#]$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkillNeedIn(_In):
    skill: Code
    min_level: int = Field(1, ge=1, le=5)


class StepIn(_In):
    after_seconds: int = Field(ge=1, le=86400)
    lower_levels: int = Field(0, ge=0, le=4)
    extra_queues: list[Code] = Field(default_factory=list, max_length=20)


class OverflowIn(_In):
    kind: OverflowKind
    target_queue: Code | None = None


class QueueIn(_In):
    """A queue as an administrator writes it."""

    code: Code
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: list[SkillNeedIn] = Field(default_factory=list, max_length=20)
    ring_timeout: int = Field(15, ge=1, le=600)
    ring_step: int = Field(5, ge=1, le=600)
    retry_after: Seconds = 5
    wrap_up: Seconds = 10
    max_wait: int | None = Field(None, ge=1, le=86400)
    max_length: int | None = Field(None, ge=1, le=100000)
    service_level: int = Field(20, ge=1, le=3600)
    priority_credit: Seconds = 60
    steps: list[StepIn] = Field(default_factory=list, max_length=10)
    overflow: OverflowIn | None = None
    always_ring: list[Extension] = Field(default_factory=list, max_length=5)
    last_agent_window: Seconds = 86400
    announce_every: Seconds = 0
    music: str = Field("default", min_length=1, max_length=64)
    default_handle_time: int = Field(180, ge=1, le=86400)
    message_key: WaitingKey | None = None
    callback_key: WaitingKey | None = None
    periodic_message_zh: str = Field("", max_length=300)
    periodic_message_en: str = Field("", max_length=300)
    enabled: bool = True

    def to_config(self) -> QueueConfig:
        """The router's frozen config; raises InvalidInput naming a bad field."""
        return QueueConfig(
            id=self.code,
            name_zh=self.name_zh,
            name_en=self.name_en,
            strategy=self.strategy,
            skills=tuple(SkillNeed(s.skill, s.min_level) for s in self.skills),
            ring_timeout=self.ring_timeout,
            ring_step=self.ring_step,
            retry_after=self.retry_after,
            wrap_up=self.wrap_up,
            max_wait=self.max_wait,
            max_length=self.max_length,
            service_level=self.service_level,
            priority_credit=self.priority_credit,
            steps=tuple(
                WideningStep(s.after_seconds, s.lower_levels, tuple(s.extra_queues))
                for s in self.steps
            ),
            overflow=OverflowRule(self.overflow.kind, self.overflow.target_queue)
            if self.overflow
            else None,
            always_ring=tuple(self.always_ring),
            last_agent_window=self.last_agent_window,
            announce_every=self.announce_every,
            music=self.music,
            default_handle_time=self.default_handle_time,
            message_key=self.message_key,
            callback_key=self.callback_key,
            periodic_message_zh=self.periodic_message_zh.strip(),
            periodic_message_en=self.periodic_message_en.strip(),
        )

    def settings(self) -> dict[str, Any]:
        """What the acd_queue.settings column keeps (everything but code, names, skills)."""
        return self.model_dump(
            mode="json", exclude={"code", "name_zh", "name_en", "strategy", "skills", "enabled"}
        )


class QueueOut(QueueIn):
    id: str
    created_at: datetime
    updated_at: datetime


class MembershipIn(_In):
    """An agent's place in a queue; a supervisor may change it while calls flow."""

    agent: str = Field(min_length=1, max_length=64)
    penalty: int = Field(0, ge=0, le=99)
    position: int = Field(0, ge=0, le=10000)
    weight: int = Field(1, ge=1, le=1000)
    window_start: ClockTime | None = None
    window_end: ClockTime | None = None
    new_customers: bool = False

    def to_membership(self, queue: str) -> Membership:
        window = None
        if (self.window_start is None) != (self.window_end is None):
            raise InvalidInput("window_end", "give both window_start and window_end, or neither")
        if self.window_start is not None and self.window_end is not None:
            window = DailyWindow(_clock(self.window_start), _clock(self.window_end))
        return Membership(
            queue,
            self.agent,
            penalty=self.penalty,
            position=self.position,
            weight=self.weight,
            window=window,
            new_customers=self.new_customers,
        )


class MembershipOut(MembershipIn):
    queue: str


class ReasonCodeIn(_In):
    code: Code
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    enabled: bool = True


class ReasonCodeOut(ReasonCodeIn):
    pass


class DispositionIn(_In):
    """A wrap-up disposition as an administrator writes it; `position` orders the list."""

    code: Code
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    position: int = Field(0, ge=0, le=1000)
    enabled: bool = True


class DispositionOut(DispositionIn):
    pass


class WrapUpIn(_In):
    """What the agent records when a call ends."""

    call_id: str = Field(min_length=1, max_length=64)
    disposition: Code
    notes: str = Field("", max_length=2000)
    order: str = Field("", max_length=16)
    work_order: str = Field("", pattern=r"^(|WO-[0-9]{4}-[0-9]{4,8})$")


class WrapUpOut(BaseModel):
    id: str
    at: datetime
    call_id: str
    agent: str
    queue: str | None
    number: str
    customer_id: str | None
    disposition: str
    notes: str
    order_code: str | None
    work_order_code: str | None


class LoginIn(_In):
    paused_reason: Code | None = None


class PauseIn(_In):
    reason: Code


class QueueLogOut(BaseModel):
    at: datetime
    event: str
    queue: str | None
    call_id: str | None
    agent: str | None
    position: int | None
    wait: float | None
    talk: float | None
    data: dict[str, Any]


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
