"""Article bodies are Markdown; readers get HTML with raw HTML disabled, so an editor
cannot put script into an agent's page."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@lru_cache(maxsize=2048)
def markdown_html(body: str) -> str:
    return str(_markdown.render(body))
