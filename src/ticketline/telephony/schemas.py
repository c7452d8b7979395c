"""Pydantic models for the telephony API."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

TrunkName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
Host = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.:\[\]-]+$"
    ),
]
Did = Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{2,20}$")]


class TrunkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TrunkName
    host: Host
    port: int = Field(5060, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    inbound_sources: list[str] = Field(default_factory=list, max_length=64)
    dids: list[Did] = Field(default_factory=list, max_length=1000)
    caller_id: Did | None = None
    registers: bool = False
    username: Annotated[str, StringConstraints(max_length=64)] | None = None
    password: Annotated[str, StringConstraints(max_length=128)] | None = None
    max_channels: int = Field(100, ge=1, le=10_000)
    enabled: bool = True

    @field_validator("inbound_sources")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not an IP address or network") from exc
        return values

    @model_validator(mode="after")
    def _credentials_when_registering(self) -> TrunkIn:
        if self.registers and not (self.username and self.password):
            raise ValueError("a registering trunk needs username and password")
        return self


class TrunkOut(BaseModel):
    id: str
    name: str
    host: str
    port: int
    transport: str
    inbound_sources: list[str]
    dids: list[str]
    caller_id: str | None
    registers: bool
    username: str | None
    max_channels: int
    enabled: bool


class CallLegOut(BaseModel):
    id: str
    role: str
    direction: str
    peer: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_cause: str | None
    hangup_by: str | None


class CallRecordOut(BaseModel):
    id: str
    direction: str
    caller: str
    callee: str
    trunk: str | None
    extension: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None
    talk_ms: int | None
    end_cause: str | None
    hangup_by: str | None
    status: str
    legs: list[CallLegOut] = Field(default_factory=list)


class CallRecordPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[CallRecordOut]
