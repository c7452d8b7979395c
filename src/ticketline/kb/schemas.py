"""What the knowledge base takes in (validated) and gives out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    computed_field,
    model_validator,
)

from ticketline.kb.render import markdown_html

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$")]
Language = Literal["zh", "en"]


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    category: Code
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    language: Language = "zh"
    work_order_types: list[Code] = Field(default_factory=list, max_length=10)
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _valid_range(self) -> ArticleIn:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until: must not be before valid_from")
        return self


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    body: str
    category: str
    tags: list[str]
    language: str
    work_order_types: list[str]
    valid_from: date | None
    valid_until: date | None
    version: int
    updated_by: str
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def html(self) -> str:
        return markdown_html(self.body)


class ArticleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    category: str
    language: str
    tags: list[str]
    valid_from: date | None
    valid_until: date | None
    version: int
    updated_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    total: int
    page: int
    size: int
    categories: list[str]


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    title: str
    body: str
    category: str
    tags: list[str]
    edited_by: str
    edited_at: datetime


class SearchHit(BaseModel):
    id: str
    title: str
    category: str
    language: str
    score: float
    snippet: str
