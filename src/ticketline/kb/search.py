"""Ranked search over the articles: an in-memory inverted index scored with BM25.

Chinese text is cut into words by jieba (its search mode also indexes the
shorter words inside long ones, so 退票手续费 finds 退票 and 手续费); English
and digits are lower-cased words. A word in the title counts `TITLE_WEIGHT`
times. The index is built from the database at start and kept current by the
service on every save; it holds only what ranking needs, not the bodies.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass
from datetime import date

with warnings.catch_warnings():  # jieba's source has invalid escapes: warned when compiled
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import jieba

jieba.setLogLevel(logging.WARNING)

TITLE_WEIGHT = 3.0
K1, B = 1.2, 0.75
WORDS = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]+")
STOP = frozenset({"the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "is", "的", "了"})


def tokens(text: str) -> list[str]:
    """The index words of `text`: jieba words for Chinese runs, lower-cased words else."""
    found: list[str] = []
    for run in WORDS.findall(text.lower()):
        if run[0].isascii():
            found.append(run)
        else:
            found.extend(w for w in jieba.cut_for_search(run) if w.strip())
    return [w for w in found if w not in STOP]


@dataclass
class Entry:
    """What ranking and filtering need of one article."""

    id: str
    language: str
    work_order_types: tuple[str, ...]
    valid_from: date | None
    valid_until: date | None
    length: float
    terms: tuple[str, ...]

    def valid_on(self, day: date) -> bool:
        starts_ok = self.valid_from is None or self.valid_from <= day
        return starts_ok and (self.valid_until is None or day <= self.valid_until)


class SearchIndex:
    """Words to articles, with weighted term frequencies (see the module docstring)."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.postings: dict[str, dict[str, float]] = {}
        self._total_length = 0.0

    def put(
        self,
        article_id: str,
        title: str,
        body: str,
        *,
        language: str,
        work_order_types: tuple[str, ...] = (),
        valid_from: date | None = None,
        valid_until: date | None = None,
    ) -> None:
        """Index an article (again: its old words are dropped first)."""
        self.remove(article_id)
        weights: dict[str, float] = {}
        for word in tokens(title):
            weights[word] = weights.get(word, 0.0) + TITLE_WEIGHT
        for word in tokens(body):
            weights[word] = weights.get(word, 0.0) + 1.0
        length = sum(weights.values())
        for word, weight in weights.items():
            self.postings.setdefault(word, {})[article_id] = weight
        self.entries[article_id] = Entry(article_id, language, work_order_types, valid_from,
                                         valid_until, length, tuple(weights))  # fmt: skip
        self._total_length += length

    def remove(self, article_id: str) -> None:
        entry = self.entries.pop(article_id, None)
        if entry is None:
            return
        self._total_length -= entry.length
        for word in entry.terms:
            posting = self.postings.get(word)
            if posting is not None:
                posting.pop(article_id, None)
                if not posting:
                    del self.postings[word]

    def search(
        self,
        query: str,
        *,
        on: date,
        language: str | None = None,
        include_expired: bool = False,
        limit: int = 10,
    ) -> list[tuple[str, float]]:
        """(article id, score) best first, for articles in `language` valid `on` that day."""
        words = set(tokens(query))
        count = len(self.entries)
        if not words or count == 0:
            return []
        average = self._total_length / count
        scores: dict[str, float] = {}
        for word in words:
            posting = self.postings.get(word)
            if not posting:
                continue
            idf = math.log(1 + (count - len(posting) + 0.5) / (len(posting) + 0.5))
            for article_id, weight in posting.items():
                norm = K1 * (1 - B + B * self.entries[article_id].length / average)
                scores[article_id] = scores.get(article_id, 0.0) + idf * weight * (K1 + 1) / (
                    weight + norm
                )
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        found = []
        for article_id, score in ranked:
            entry = self.entries[article_id]
            if language is not None and entry.language != language:
                continue
            if not include_expired and not entry.valid_on(on):
                continue
            found.append((article_id, round(score, 4)))
            if len(found) == limit:
                break
        return found

    def for_work_order_type(
        self, work_order_type: str, *, on: date, language: str | None = None
    ) -> list[str]:
        """Articles suggested for a work order type that are valid that day."""
        return [
            e.id
            for e in self.entries.values()
            if work_order_type in e.work_order_types
            and e.valid_on(on)
            and (language is None or e.language == language)
        ]
