"""HTTP API of the knowledge base: search and read for agents, write for editors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ticketline.admin.permissions import Perm
from ticketline.admin.security import Principal, require
from ticketline.core.paging import PageRequest
from ticketline.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    Language,
    SearchHit,
    VersionOut,
)
from ticketline.kb.service import KnowledgeBase

Reader = Annotated[Principal, Depends(require(Perm.KB_READ))]
Writer = Annotated[Principal, Depends(require(Perm.KB_WRITE))]


def build_router(kb: KnowledgeBase) -> APIRouter:
    router = APIRouter(prefix="/api/kb", tags=["knowledge base"])

    @router.get("/search")
    async def search(
        _: Reader,
        q: Annotated[str, Query(min_length=1, max_length=200)],
        language: Language | None = None,
        include_expired: bool = False,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[SearchHit]:
        """Articles best matching `q`, title matches first; only those valid today."""
        return await kb.search(q, language=language, include_expired=include_expired,
                               limit=limit)  # fmt: skip

    @router.get("/suggestions")
    async def suggestions(
        _: Reader,
        work_order_type: Annotated[str, Query(min_length=1, max_length=64)],
        language: Language | None = None,
    ) -> list[SearchHit]:
        """Articles written for a work order type."""
        return await kb.suggest(work_order_type, language)

    @router.post("/articles", status_code=201)
    async def create(body: ArticleIn, who: Writer) -> ArticleOut:
        return await kb.create(who.actor, body)

    @router.get("/articles")
    async def browse(
        _: Reader,
        category: Annotated[str | None, Query(max_length=64)] = None,
        language: Language | None = None,
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> ArticlePage:
        """Every article (valid or not), by category and title, with the categories."""
        return await kb.browse(category, language, PageRequest(page, size))

    @router.get("/articles/{article_id}")
    async def get(article_id: str, _: Reader) -> ArticleOut:
        return await kb.get(article_id)

    @router.put("/articles/{article_id}")
    async def update(article_id: str, body: ArticleIn, who: Writer) -> ArticleOut:
        """Save a new version of the article (the earlier ones are kept)."""
        return await kb.update(who.actor, article_id, body)

    @router.get("/articles/{article_id}/versions")
    async def versions(article_id: str, _: Reader) -> list[VersionOut]:
        return await kb.versions(article_id)

    return router
