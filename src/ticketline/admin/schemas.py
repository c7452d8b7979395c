"""Pydantic models for the admin area's input and output."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ticketline.admin.permissions import Role

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$"
    ),
]
ExtensionNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,16}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
LocaleName = Annotated[str, StringConstraints(pattern=r"^(zh_CN|en)$")]


class StrictModel(BaseModel):
    """Input models refuse unknown fields, so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class SkillLevel(StrictModel):
    skill: Code
    level: int = Field(ge=1, le=5)


class StaffCreate(StrictModel):
    username: Username
    display_name: Name
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=7)
    department: Code | None = None
    locale: LocaleName = "zh_CN"
    skills: list[SkillLevel] = Field(default_factory=list, max_length=50)


class StaffUpdate(StrictModel):
    display_name: Name | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=7)
    department: Code | None = None
    locale: LocaleName | None = None
    is_active: bool | None = None
    skills: list[SkillLevel] | None = Field(default=None, max_length=50)


class PasswordChange(StrictModel):
    password: Password


class StaffOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    department: str | None
    locale: str
    is_active: bool
    locked: bool
    skills: list[SkillLevel]
    extension: str | None


class DepartmentIn(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name


class DepartmentOut(BaseModel):
    id: str
    code: str
    name_zh: str
    name_en: str


class SkillIn(StrictModel):
    code: Code
    name_zh: Name
    name_en: Name


class SkillOut(SkillIn):
    id: str


class ExtensionCreate(StrictModel):
    number: ExtensionNumber
    password: Password
    staff: Username | None = None


class ExtensionUpdate(StrictModel):
    password: Password | None = None
    staff: Username | None = None
    enabled: bool | None = None


class ExtensionOut(BaseModel):
    id: str
    number: str
    staff: str | None
    enabled: bool


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str | None


class PageOut(BaseModel):
    total: int
    page: int
    size: int


class AuditPage(PageOut):
    items: list[AuditOut]


class LoginIn(StrictModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Password


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 (a scheme name)
    expires_at: datetime


class MeOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    locale: str
