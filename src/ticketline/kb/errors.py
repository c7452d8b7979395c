"""What the knowledge base refuses."""

from __future__ import annotations

from ticketline.core.errors import NotFound


class ArticleNotFound(NotFound):
    code = "article_not_found"
