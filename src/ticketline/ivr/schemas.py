"""What the IVR's HTTP API takes and returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class AnnouncementIn(BaseModel):
    """A notice to play before the menu, in both languages, between two instants."""

    model_config = ConfigDict(extra="forbid")

    flow: str | None = Field(None, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")
    text_zh: str = Field(min_length=1, max_length=500)
    text_en: str = Field(min_length=1, max_length=500)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _window(self) -> AnnouncementIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AnnouncementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow: str | None
    text_zh: str
    text_en: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: str


class FlowOut(BaseModel):
    name: str
    title: str
    version: str
    path: str
    numbers: list[str]
    warnings: list[str]


class ReloadOut(BaseModel):
    loaded: list[str]
    removed: list[str]
    problems: list[str]


class NodeStatsOut(BaseModel):
    node: str
    entries: int
    exits: dict[str, int]
    timeouts: int
    invalid: int
    hangups: int
    errors: int


class FlowStatsOut(BaseModel):
    flow: str
    calls: int
    contained: int
    containment_rate: float
    outcomes: dict[str, int]
    nodes: list[NodeStatsOut]
