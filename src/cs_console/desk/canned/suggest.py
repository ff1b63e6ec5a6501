"""Rank canned answers for a customer's message with BM25.

Each answer is one document made of weighted fields (BM25F-style: the
weighted term frequencies are added before saturation): the title counts
:data:`TITLE_WEIGHT` times, the keywords :data:`KEYWORD_WEIGHT` times, the tags
:data:`TAG_WEIGHT` times and the body :data:`BODY_WEIGHT` times. Text is
normalised per language (see :mod:`.textnorm`): lowercase, no accents, no stop
words, stems.

The index lives in memory instead of in SQLite FTS5: FTS5 has no Spanish
stemmer, a shop's library holds hundreds of answers at most, and an in-memory
index ranks the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cs_console.desk.canned.library import LANGUAGES, CannedAnswer
from cs_console.desk.canned.textnorm import detect_language, terms

__all__ = [
    "KEYWORD_WEIGHT",
    "TAG_WEIGHT",
    "TITLE_WEIGHT",
    "Suggestion",
    "SuggestionIndex",
    "detect_language",
]

TITLE_WEIGHT = 3.0
KEYWORD_WEIGHT = 2.0
TAG_WEIGHT = 1.5
BODY_WEIGHT = 0.5
K1 = 1.5
B = 0.75


@dataclass(frozen=True)
class Suggestion:
    """A canned answer and how well it matches (higher is better)."""

    answer: CannedAnswer
    score: float


@dataclass
class _Doc:
    answer: CannedAnswer
    tf: dict[str, float]
    length: float


class _LanguageIndex:
    def __init__(self, answers: Sequence[CannedAnswer], language: str) -> None:
        self.docs: list[_Doc] = []
        for answer in answers:
            tf: dict[str, float] = {}
            for text, weight in (
                (answer.title, TITLE_WEIGHT),
                (" ".join(answer.keywords), KEYWORD_WEIGHT),
                (" ".join(answer.tags), TAG_WEIGHT),
                (answer.body, BODY_WEIGHT),
            ):
                for term in terms(text, language):
                    tf[term] = tf.get(term, 0.0) + weight
            self.docs.append(_Doc(answer=answer, tf=tf, length=sum(tf.values())))
        count = len(self.docs)
        self.avg_length = sum(d.length for d in self.docs) / count if count else 0.0
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.tf.keys())
        # BM25+ style idf that never goes negative.
        self.idf = {term: math.log(1.0 + (count - n + 0.5) / (n + 0.5)) for term, n in df.items()}

    def score(self, query_terms: Sequence[str]) -> list[tuple[float, int]]:
        query = Counter(query_terms)
        results = []
        for position, doc in enumerate(self.docs):
            total = 0.0
            norm = K1 * (1.0 - B + B * doc.length / self.avg_length) if self.avg_length else K1
            for term, qtf in query.items():
                tf = doc.tf.get(term)
                if not tf:
                    continue
                total += self.idf[term] * (tf * (K1 + 1.0)) / (tf + norm) * (1.0 + math.log(qtf))
            if total > 0.0:
                results.append((total, position))
        return results


class SuggestionIndex:
    """An in-memory BM25 index of canned answers, one per language.

    Build it once when the library loads (building is cheap: a few
    milliseconds for hundreds of answers) and query it for every ticket.
    """

    def __init__(self, answers: Sequence[CannedAnswer]) -> None:
        self._answers = tuple(answers)
        self._by_language = {
            language: _LanguageIndex([a for a in self._answers if a.language == language], language)
            for language in LANGUAGES
        }

    def __len__(self) -> int:
        return len(self._answers)

    def suggest(self, text: str, *, language: str | None, limit: int = 5) -> list[Suggestion]:
        """The best answers for ``text``, best first.

        Args:
            text: The customer's latest message (plain text).
            language: ``es`` or ``en``; ``None`` detects it from ``text`` and,
                failing that, searches both languages.
            limit: How many suggestions at most.

        Returns:
            Up to ``limit`` suggestions with a positive score; empty when no
            word of the message matches any answer.
        """
        if limit <= 0:
            return []
        if language is None:
            language = detect_language(text)
        languages = (language,) if language in self._by_language else LANGUAGES
        ranked: list[tuple[float, str, CannedAnswer]] = []
        for lang in languages:
            index = self._by_language[lang]
            for score, position in index.score(terms(text, lang)):
                answer = index.docs[position].answer
                ranked.append((score, answer.slug, answer))
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return [Suggestion(answer=a, score=round(s, 6)) for s, _slug, a in ranked[:limit]]
