"""The knowledge base: articles with versions and validity, and ranked search.

Every save writes the article and a version row in one transaction, then
updates this process's search index (search.py). The index is loaded from the
database on first use, so a restart or a second process sees every article.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.paging import PageRequest
from ticketline.db.session import Database
from ticketline.kb.errors import ArticleNotFound
from ticketline.kb.models import KbArticle, KbArticleVersion
from ticketline.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticleSummary,
    SearchHit,
    VersionOut,
)
from ticketline.kb.search import SearchIndex, tokens

SNIPPET = 120


class KnowledgeBase:
    """Articles and their search (see the module docstring)."""

    def __init__(self, db: Database, clock: Clock, zone: ZoneInfo) -> None:
        self.db = db
        self.clock = clock
        self.zone = zone
        self.index = SearchIndex()
        self._loaded = False
        self._loading = asyncio.Lock()
        self._titles: dict[str, tuple[str, str, str]] = {}  # id -> title, category, body start

    # -- writing ----------------------------------------------------------------------

    async def create(self, actor: Actor, data: ArticleIn) -> ArticleOut:
        now = self.clock.now()
        article = KbArticle(
            **_fields(data), version=1, updated_by=actor.name, created_at=now, updated_at=now
        )
        async with self.db.transaction() as session:
            session.add(article)
            await session.flush()
            session.add(_version_of(article, actor, now))
        await self._ensure_loaded()
        self._index(article)
        return ArticleOut.model_validate(article)

    async def update(self, actor: Actor, article_id: str, data: ArticleIn) -> ArticleOut:
        """Save a new version; the previous one stays readable in `versions`."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            article = await session.get(KbArticle, article_id, with_for_update=True)
            if article is None:
                raise ArticleNotFound(f"no article {article_id}")
            for name, value in _fields(data).items():
                setattr(article, name, value)
            article.version += 1
            article.updated_by, article.updated_at = actor.name, now
            session.add(_version_of(article, actor, now))
        await self._ensure_loaded()
        self._index(article)
        return ArticleOut.model_validate(article)

    # -- reading ----------------------------------------------------------------------

    async def get(self, article_id: str) -> ArticleOut:
        async with self.db.sessions() as session:
            article = await session.get(KbArticle, article_id)
        if article is None:
            raise ArticleNotFound(f"no article {article_id}")
        return ArticleOut.model_validate(article)

    async def versions(self, article_id: str) -> list[VersionOut]:
        """Every version of an article, newest first."""
        await self.get(article_id)
        query = (
            select(KbArticleVersion)
            .where(KbArticleVersion.article_id == article_id)
            .order_by(KbArticleVersion.version.desc())
        )
        async with self.db.sessions() as session:
            return [VersionOut.model_validate(v) for v in await session.scalars(query)]

    async def browse(
        self, category: str | None, language: str | None, page: PageRequest
    ) -> ArticlePage:
        """Articles by category then title, for reading the base without a query."""
        where = []
        if category:
            where.append(KbArticle.category == category)
        if language:
            where.append(KbArticle.language == language)
        listing = select(KbArticle).where(*where).order_by(KbArticle.category, KbArticle.title)
        counting = select(func.count()).select_from(KbArticle).where(*where)
        categories = select(KbArticle.category).distinct().order_by(KbArticle.category)
        async with self.db.sessions() as session:
            total = int(await session.scalar(counting) or 0)
            rows = await session.scalars(listing.offset(page.offset).limit(page.size))
            items = [ArticleSummary.model_validate(a) for a in rows]
            names = list(await session.scalars(categories))
        return ArticlePage(
            items=items, total=total, page=page.page, size=page.size, categories=names
        )

    async def count(self) -> int:
        async with self.db.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(KbArticle)) or 0)

    async def search(
        self,
        query: str,
        *,
        language: str | None = None,
        include_expired: bool = False,
        limit: int = 10,
    ) -> list[SearchHit]:
        """Articles best matching `query` (title words weigh more), valid today."""
        await self._ensure_loaded()
        found = self.index.search(query, on=self._today(), language=language,
                                  include_expired=include_expired, limit=limit)  # fmt: skip
        words = tokens(query)
        return [self._hit(article_id, score, words) for article_id, score in found]

    async def suggest(self, work_order_type: str, language: str | None = None) -> list[SearchHit]:
        """Articles written for a work order type (to help whoever handles one)."""
        await self._ensure_loaded()
        ids = self.index.for_work_order_type(work_order_type, on=self._today(), language=language)
        return sorted((self._hit(i, 1.0, []) for i in ids), key=lambda hit: hit.title)

    # -- the index --------------------------------------------------------------------

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        async with self._loading:
            if self._loaded:
                return
            async with self.db.sessions() as session:
                articles = list(await session.scalars(select(KbArticle)))
            # Cutting thousands of texts into words takes a while: keep the loop free.
            await asyncio.to_thread(self._index_all, articles)
            self._loaded = True

    def _index_all(self, articles: list[KbArticle]) -> None:
        for article in articles:
            self._index(article)

    async def warm_up(self) -> None:
        """Load jieba's dictionary and the index now rather than on the first search."""
        await asyncio.to_thread(tokens, "预热")
        await self._ensure_loaded()

    def _index(self, article: KbArticle) -> None:
        self.index.put(
            article.id,
            article.title,
            article.body,
            language=article.language,
            work_order_types=tuple(article.work_order_types),
            valid_from=article.valid_from,
            valid_until=article.valid_until,
        )
        self._titles[article.id] = (article.title, article.category, article.body[:2000])

    def _hit(self, article_id: str, score: float, words: list[str]) -> SearchHit:
        title, category, body = self._titles[article_id]
        entry = self.index.entries[article_id]
        return SearchHit(id=article_id, title=title, category=category, language=entry.language,
                         score=score, snippet=_snippet(body, words))  # fmt: skip

    def _today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()


def _fields(data: ArticleIn) -> dict[str, object]:
    return data.model_dump()


def _version_of(article: KbArticle, actor: Actor, now: datetime) -> KbArticleVersion:
    return KbArticleVersion(
        article_id=article.id,
        version=article.version,
        title=article.title,
        body=article.body,
        category=article.category,
        tags=list(article.tags),
        edited_by=actor.name,
        edited_at=now,
    )


def _snippet(body: str, words: list[str]) -> str:
    """The part of the body around the first query word found (plain text)."""
    lowered = body.lower()
    at = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - SNIPPET // 3)
    text = " ".join(body[start : start + SNIPPET].split())
    return ("…" if start else "") + text + ("…" if start + SNIPPET < len(body) else "")
