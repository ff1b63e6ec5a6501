"""Suggestions: BM25 ranking, language handling, and measured accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned import (
    CannedAnswer,
    SuggestionIndex,
    detect_language,
    starter_answers,
)
from cs_console.desk.canned.textnorm import terms

DATA = Path(__file__).parent / "data" / "canned_suggestions.jsonl"


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _answer(
    slug: str, language: str, title: str, keywords: tuple[str, ...], body: str
) -> CannedAnswer:
    return CannedAnswer(
        slug=slug,
        title=title,
        language=language,
        category="other",
        tags=(),
        keywords=keywords,
        public=False,
        set_status=None,
        body=body,
        source_path=None,
    )


def test_labelled_set_is_large_balanced_and_valid() -> None:
    rows = _rows()
    slugs = {a.slug: a.language for a in starter_answers()}
    assert len(rows) >= 60
    by_language = {lang: sum(r["language"] == lang for r in rows) for lang in ("es", "en")}
    assert min(by_language.values()) >= 0.4 * len(rows)
    for row in rows:
        assert slugs[row["slug"]] == row["language"], row


def test_top3_accuracy_on_labelled_set() -> None:
    index = SuggestionIndex(starter_answers())
    rows = _rows()
    hits = 0
    for row in rows:
        found = [s.answer.slug for s in index.suggest(row["text"], language=None, limit=3)]
        hits += row["slug"] in found
    assert hits / len(rows) >= 0.90


def test_language_detection_on_labelled_set() -> None:
    rows = _rows()
    right = sum(detect_language(row["text"]) == row["language"] for row in rows)
    assert right / len(rows) >= 0.95


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¿Dónde está mi pedido?", "es"),
        ("Hola, no me ha llegado el paquete", "es"),
        ("Where is my order?", "en"),
        ("Hi, the parcel never arrived", "en"),
        ("", None),
        ("12345 A-778", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_normalisation_ignores_accents_case_and_stop_words() -> None:
    assert terms("GARANTÍA", "es") == terms("garantia", "es")
    assert terms("la devolución del pedido", "es") == terms("devolucion pedido", "es")
    assert terms("the refunds", "en") == terms("refund", "en")


def test_suggest_filters_by_language() -> None:
    answers = [
        _answer("refund-en", "en", "Refund", ("refund",), "Your refund is on its way."),
        _answer("reembolso-es", "es", "Reembolso", ("reembolso", "refund"), "Tu reembolso."),
    ]
    index = SuggestionIndex(answers)
    assert [s.answer.slug for s in index.suggest("refund please", language="en")] == ["refund-en"]
    assert [s.answer.slug for s in index.suggest("refund", language="es")] == ["reembolso-es"]
    both = index.suggest("refund", language="fr")
    assert {s.answer.slug for s in both} == {"refund-en", "reembolso-es"}


def test_title_and_keywords_outweigh_body() -> None:
    answers = [
        _answer("a", "en", "Warranty", ("warranty",), "Any text."),
        _answer("b", "en", "Other", ("misc",), "Something about warranty here."),
    ]
    found = SuggestionIndex(answers).suggest("warranty question", language="en")
    assert [s.answer.slug for s in found] == ["a", "b"]
    assert found[0].score > found[1].score > 0


def test_no_match_and_limits() -> None:
    index = SuggestionIndex(starter_answers("en"))
    assert index.suggest("zzzz qqqq", language="en") == []
    assert index.suggest("refund", language="en", limit=0) == []
    assert len(index.suggest("refund order delivery", language="en", limit=2)) == 2
    assert SuggestionIndex([]).suggest("refund", language="en") == []


def test_examples_rank_first() -> None:
    index = SuggestionIndex(starter_answers())
    first = index.suggest("Me han cobrado dos veces el mismo pedido", language="es")[0]
    assert first.answer.slug == "pago-cobro-duplicado"
    first = index.suggest("My card keeps getting declined at checkout", language=None)[0]
    assert first.answer.slug == "payment-card-declined"


@given(st.text(max_size=200), st.sampled_from(["es", "en", None]))
def test_suggest_never_raises(text: str, language: str | None) -> None:
    index = SuggestionIndex(starter_answers())
    results = index.suggest(text, language=language, limit=3)
    assert len(results) <= 3
    assert all(r.score > 0 for r in results)
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)


def test_suffix_stemmer_fallback() -> None:
    from cs_console.desk.canned.textnorm import _suffix_stemmer

    es = _suffix_stemmer("es")
    assert es("devoluciones") == es("devolucion")
    assert es("pedidos") == es("pedido")
    en = _suffix_stemmer("en")
    assert en("refunds") == en("refund") == "refund"
    assert en("is") == "is"  # too short to strip
