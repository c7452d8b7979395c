"""Pydantic models for the notify API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class TemplateOut(BaseModel):
    key: str
    locale: str
    body: str
    updated_at: datetime


class OutboxOut(BaseModel):
    id: str
    to: str
    body: str
    template_key: str | None
    ref: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
