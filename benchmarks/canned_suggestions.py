"""Accuracy and speed of canned-answer suggestions.

Runs the labelled set ``tests/data/canned_suggestions.jsonl`` against the
starter answers and prints, per language, top-1 and top-3 accuracy of the BM25
index beside a trivial baseline measured in the same run: ranking answers by
how many lowercase words of the message appear in the answer's title,
keywords and body (no stemming, no stop words, no weights). Then the time per
suggestion, on the starter set and on a library of several hundred answers.

Usage: python benchmarks/canned_suggestions.py
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from cs_console.desk.canned import CannedAnswer, SuggestionIndex, starter_answers

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "canned_suggestions.jsonl"

Ranker = Callable[[str, str], list[str]]


def keyword_overlap_ranker(answers: Sequence[CannedAnswer]) -> Ranker:
    """Baseline: count shared lowercase words, ties broken by slug."""
    word = re.compile(r"\w+")
    bags = [
        (
            a,
            set(word.findall(" ".join((a.title, " ".join(a.keywords), a.body)).lower())),
        )
        for a in answers
    ]

    def rank(text: str, language: str) -> list[str]:
        words = set(word.findall(text.lower()))
        scored = [(len(words & bag), a.slug) for a, bag in bags if a.language == language]
        scored = [s for s in scored if s[0] > 0]
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [slug for _score, slug in scored[:3]]

    return rank


def bm25_ranker(answers: Sequence[CannedAnswer]) -> Ranker:
    index = SuggestionIndex(answers)

    def rank(text: str, language: str) -> list[str]:
        return [s.answer.slug for s in index.suggest(text, language=None, limit=3)]

    return rank


def accuracy(rows: list[dict[str, str]], rank: Ranker) -> dict[str, tuple[float, float, int]]:
    result = {}
    for language in ("es", "en", "all"):
        mine = [r for r in rows if language == "all" or r["language"] == language]
        top1 = top3 = 0
        for row in mine:
            found = rank(row["text"], row["language"])
            top1 += bool(found) and found[0] == row["slug"]
            top3 += row["slug"] in found
        result[language] = (top1 / len(mine), top3 / len(mine), len(mine))
    return result


def time_per_call(rank: Ranker, rows: list[dict[str, str]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for row in rows:
            rank(row["text"], row["language"])
        samples.append((time.perf_counter() - start) / len(rows))
    return statistics.median(samples)


def big_library(answers: Sequence[CannedAnswer], copies: int) -> list[CannedAnswer]:
    out = []
    for i in range(copies):
        for a in answers:
            out.append(replace(a, slug=f"{a.slug}-{i}", title=f"{a.title} ({i})"))
    return out


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    answers = starter_answers()
    print(f"labelled messages: {len(rows)}  starter answers: {len(answers)}")
    print()
    print(f"{'ranker':<18}{'lang':<6}{'n':>4}{'top-1':>8}{'top-3':>8}")
    rankers = {
        "bm25": bm25_ranker(answers),
        "keyword-overlap": keyword_overlap_ranker(answers),
    }
    for name, rank in rankers.items():
        for language, (top1, top3, n) in accuracy(rows, rank).items():
            print(f"{name:<18}{language:<6}{n:>4}{top1:>8.3f}{top3:>8.3f}")
    print()
    print(f"{'ranker':<18}{'library':>8}{'build ms':>10}{'per suggestion µs':>20}")
    for size_copies in (1, 10):
        library = big_library(answers, size_copies) if size_copies > 1 else list(answers)
        for name, factory in (("bm25", bm25_ranker), ("keyword-overlap", keyword_overlap_ranker)):
            start = time.perf_counter()
            rank = factory(library)
            build = (time.perf_counter() - start) * 1000
            per_call = time_per_call(rank, rows, repeat=5) * 1e6
            print(f"{name:<18}{len(library):>8}{build:>10.1f}{per_call:>20.0f}")


if __name__ == "__main__":
    main()
