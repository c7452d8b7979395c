"""What an administrator configures for the ACD, as frozen values the router reads.

These are plain values (no database, no I/O): the service loads them from the
tables in models.py and hands them to the router, and tests build them directly.
Every constructor checks its fields and names the bad one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from ticketline.core.errors import InvalidInput

MAX_PRIORITY = 9
MIN_LEVEL = 1
MAX_LEVEL = 5
WAITING_KEYS = frozenset("0123456789*#")
MAX_MESSAGE = 300


class Strategy(StrEnum):
    """How a queue chooses among the free agents that may take a call."""

    RING_ALL = "ring_all"
    RING_PROGRESSIVE = "ring_progressive"
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    LEAST_TALK_TIME = "least_talk_time"
    LINEAR = "linear"
    RANDOM = "random"
    WEIGHTED_RANDOM = "weighted_random"
    LAST_AGENT = "last_agent"
    BEST_SKILL = "best_skill"


class OverflowKind(StrEnum):
    """Where a caller goes when a queue cannot keep them."""

    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"


class OverflowReason(StrEnum):
    MAX_WAIT = "max_wait"
    MAX_LENGTH = "max_length"
    NO_AGENTS = "no_agents"


@dataclass(frozen=True)
class SkillNeed:
    """A skill a call needs, with the lowest proficiency (1-5) that will do."""

    skill: str
    min_level: int = MIN_LEVEL

    def __post_init__(self) -> None:
        if not self.skill:
            raise InvalidInput("skills", "a skill code is empty")
        if not MIN_LEVEL <= self.min_level <= MAX_LEVEL:
            raise InvalidInput("skills", f"{self.skill}: min_level must be 1-5")


@dataclass(frozen=True)
class WideningStep:
    """After `after_seconds` of waiting, a call also reaches more agents.

    `lower_levels` lowers every required proficiency by that much (never below 1);
    `extra_queues` lets the members of those queues take the call too. Steps add
    to each other and never take the caller's place in line away.
    """

    after_seconds: int
    lower_levels: int = 0
    extra_queues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.after_seconds < 1:
            raise InvalidInput("steps", "after_seconds must be at least 1")
        if not 0 <= self.lower_levels <= MAX_LEVEL - MIN_LEVEL:
            raise InvalidInput("steps", "lower_levels must be 0-4")


@dataclass(frozen=True)
class OverflowRule:
    """Where callers go on max wait, max length or an empty queue."""

    kind: OverflowKind
    target_queue: str | None = None

    def __post_init__(self) -> None:
        if (self.kind is OverflowKind.QUEUE) != (self.target_queue is not None):
            raise InvalidInput("overflow", "target_queue is required for, and only for, kind=queue")


@dataclass(frozen=True)
class DailyWindow:
    """A time-of-day window in the site's zone; `start > end` spans midnight."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidInput("window", "start and end must differ")

    def contains_minute(self, minute_of_day: int) -> bool:
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        if start < end:
            return start <= minute_of_day < end
        return minute_of_day >= start or minute_of_day < end


@dataclass(frozen=True)
class QueueConfig:
    """One queue: who may answer, how they are chosen, how long callers may wait.

    `message_key` and `callback_key` are the keys a waiting caller may press to
    leave a message in the queue's box, or to hang up and be called back while
    keeping their place (None: that key does nothing). The periodic message
    (e.g. a holiday notice) follows each position announcement, in the caller's
    language.
    """

    id: str
    name_zh: str = ""
    name_en: str = ""
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: tuple[SkillNeed, ...] = ()
    ring_timeout: int = 15
    ring_step: int = 5
    retry_after: int = 5
    wrap_up: int = 10
    max_wait: int | None = None
    max_length: int | None = None
    service_level: int = 20
    priority_credit: int = 60
    steps: tuple[WideningStep, ...] = ()
    overflow: OverflowRule | None = None
    always_ring: tuple[str, ...] = ()
    last_agent_window: int = 86400
    announce_every: int = 0
    music: str = "default"
    default_handle_time: int = 180
    message_key: str | None = None
    callback_key: str | None = None
    periodic_message_zh: str = ""
    periodic_message_en: str = ""

    def __post_init__(self) -> None:
        _check(bool(self.id) and len(self.id) <= 32, "id", "1-32 characters")
        _check(self.ring_timeout >= 1, "ring_timeout", "must be at least 1 second")
        _check(self.ring_step >= 1, "ring_step", "must be at least 1 second")
        _check(self.retry_after >= 0, "retry_after", "must not be negative")
        _check(self.wrap_up >= 0, "wrap_up", "must not be negative")
        _check(self.max_wait is None or self.max_wait >= 1, "max_wait", "at least 1 second")
        _check(self.max_length is None or self.max_length >= 1, "max_length", "at least 1")
        _check(self.service_level >= 1, "service_level", "must be at least 1 second")
        _check(self.priority_credit >= 0, "priority_credit", "must not be negative")
        _check(self.last_agent_window >= 0, "last_agent_window", "must not be negative")
        _check(self.announce_every >= 0, "announce_every", "must not be negative")
        _check(self.default_handle_time >= 1, "default_handle_time", "at least 1 second")
        for name, text in (("periodic_message_zh", self.periodic_message_zh),
                           ("periodic_message_en", self.periodic_message_en)):  # fmt: skip
            _check(len(text) <= MAX_MESSAGE, name, f"at most {MAX_MESSAGE} characters")
        for name, key in (("message_key", self.message_key), ("callback_key", self.callback_key)):
            _check(key is None or key in WAITING_KEYS, name, "one key: 0-9, * or #")
        both = self.message_key is not None and self.callback_key is not None
        _check(not both or self.message_key != self.callback_key, "callback_key",
               "must differ from message_key")  # fmt: skip
        waits = [s.after_seconds for s in self.steps]
        _check(waits == sorted(set(waits)), "steps", "after_seconds must strictly increase")
        codes = [s.skill for s in self.skills]
        _check(len(codes) == len(set(codes)), "skills", "a skill is listed twice")
        _check(self.id not in self.extra_queues, "steps", "a queue cannot widen to itself")
        overflow_to = self.overflow.target_queue if self.overflow else None
        _check(overflow_to != self.id, "overflow", "a queue cannot overflow to itself")

    @property
    def extra_queues(self) -> frozenset[str]:
        return frozenset(q for step in self.steps for q in step.extra_queues)


@dataclass(frozen=True)
class Membership:
    """An agent in a queue. Lower `penalty` is preferred; `position` orders linear hunts.

    `weight` is used by weighted random; `window` limits the membership to a time of
    day (a day group and a night group); `new_customers` marks the new-customer group,
    which takes only first-time callers.
    """

    queue_id: str
    agent_id: str
    penalty: int = 0
    position: int = 0
    weight: int = 1
    window: DailyWindow | None = None
    new_customers: bool = False

    def __post_init__(self) -> None:
        _check(0 <= self.penalty <= 99, "penalty", "must be 0-99")
        _check(self.position >= 0, "position", "must not be negative")
        _check(1 <= self.weight <= 1000, "weight", "must be 1-1000")


@dataclass(frozen=True)
class AgentProfile:
    """Who an agent is to the ACD: the extension that rings and their skills."""

    agent_id: str
    extension: str
    skills: dict[str, int] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class RouterSettings:
    """Settings of the whole ACD rather than one queue."""

    max_missed_offers: int = 3
    auto_pause_reason: str = "missed_offers"
    last_agent_memory: int = 100_000

    def __post_init__(self) -> None:
        _check(self.max_missed_offers >= 1, "max_missed_offers", "must be at least 1")


def _check(ok: bool, field_name: str, reason: str) -> None:
    if not ok:
        raise InvalidInput(field_name, reason)
