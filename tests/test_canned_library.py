"""Canned answers on disk: loading, problems, round trip, starter set."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cs_console.desk.canned import (
    CATEGORIES,
    LANGUAGES,
    STANDARD_VARIABLES,
    CannedAnswer,
    dump_answer,
    load_answer,
    load_library,
    parse_answer,
    render,
    starter_answers,
    template_variables,
)
from cs_console.errors import ConfigError

GOOD = """+++
title = "Where is my order?"
language = "en"
category = "order_status"
tags = ["tracking"]
keywords = ["where is my order", "tracking number"]
public = true
set_status = "pending"
+++
Hi {{ customer_first_name }},

Your order {{ order_number }} is on its way.
"""


def test_load_answer_reads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "where-is-my-order.md"
    path.write_text(GOOD, encoding="utf-8")
    answer = load_answer(path)
    assert answer == CannedAnswer(
        slug="where-is-my-order",
        title="Where is my order?",
        language="en",
        category="order_status",
        tags=("tracking",),
        keywords=("where is my order", "tracking number"),
        public=True,
        set_status="pending",
        body="Hi {{ customer_first_name }},\n\nYour order {{ order_number }} is on its way.",
        source_path=path,
    )
    assert answer.source_path == path


def test_optional_fields_default(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_text('+++\ntitle = "T"\nlanguage = "es"\ncategory = "other"\n+++\nHola\n')
    answer = load_answer(path)
    assert (answer.tags, answer.keywords, answer.public, answer.set_status) == ((), (), False, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no front matter\n", "must start with a '+++'"),
        ('+++\ntitle = "T"\n', "no closing '+++'"),
        ("+++\ntitle = \n+++\nbody\n", "not valid TOML"),
        ('+++\nlanguage = "en"\ncategory = "other"\n+++\nbody\n', "'title' is required"),
        ('+++\ntitle = "T"\nlanguage = "fr"\ncategory = "other"\n+++\nb\n', "language 'fr'"),
        ('+++\ntitle = "T"\nlanguage = "en"\ncategory = "misc"\n+++\nb\n', "category 'misc'"),
        (
            '+++\ntitle = "T"\nlanguage = "en"\ncategory = "other"\npublic = "yes"\n+++\nb\n',
            "'public' must be true or false",
        ),
        (
            '+++\ntitle = "T"\nlanguage = "en"\ncategory = "other"\nset_status = "open"\n+++\nb\n',
            "set_status 'open'",
        ),
        (
            '+++\ntitle = "T"\nlanguage = "en"\ncategory = "other"\ntags = [1]\n+++\nb\n',
            "'tags' must be a list of strings",
        ),
        (
            '+++\ntitle = "T"\nlanguage = "en"\ncategory = "other"\ncolour = 1\n+++\nb\n',
            "unknown front-matter key(s): colour",
        ),
        ('+++\ntitle = "T"\nlanguage = "en"\ncategory = "other"\n+++\n\n  \n', "no body"),
    ],
)
def test_bad_file_names_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_answer(path)
    assert str(path) in info.value.message
    assert problem in info.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b'+++\ntitle = "Caf\xe9"\n+++\n')
    with pytest.raises(ConfigError, match="cannot be read"):
        load_answer(path)


def test_bad_slug_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Bad Name.md"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigError, match="file name"):
        load_answer(path)


def test_load_library_reports_bad_files_and_keeps_good_ones(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text(GOOD.replace('"en"', '"es"'), encoding="utf-8")
    (tmp_path / "broken.md").write_text("oops", encoding="utf-8")
    (tmp_path / "sub" / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    loaded = load_library(tmp_path)
    assert [a.slug for a in loaded] == ["a", "b"]
    assert len(loaded) == 2
    assert loaded[1].language == "es"
    problems = {p.path.relative_to(tmp_path).as_posix(): p.message for p in loaded.problems}
    assert set(problems) == {"broken.md", "sub/a.md"}
    assert "already used" in problems["sub/a.md"]


def test_load_library_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_library(tmp_path / "nope")


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
    max_size=40,
)


@given(
    title=_text.map(str.strip).filter(bool),
    language=st.sampled_from(LANGUAGES),
    category=st.sampled_from(CATEGORIES),
    tags=st.lists(_text.map(str.strip).filter(bool), max_size=3),
    keywords=st.lists(_text.map(str.strip).filter(bool), max_size=3),
    public=st.booleans(),
    set_status=st.sampled_from([None, "pending", "solved"]),
    body=_text.map(lambda s: s.strip("\n")).filter(lambda s: s.strip() != ""),
)
def test_dump_round_trips(
    title: str,
    language: str,
    category: str,
    tags: list[str],
    keywords: list[str],
    public: bool,
    set_status: str | None,
    body: str,
) -> None:
    answer = CannedAnswer(
        slug="x-1",
        title=title,
        language=language,
        category=category,
        tags=tuple(tags),
        keywords=tuple(keywords),
        public=public,
        set_status=set_status,
        body=body,
        source_path=None,
    )
    assert parse_answer(dump_answer(answer), slug="x-1") == answer


def test_dump_then_load_from_disk(tmp_path: Path) -> None:
    answer = starter_answers("es")[0]
    path = tmp_path / f"{answer.slug}.md"
    path.write_text(dump_answer(answer), encoding="utf-8")
    assert load_answer(path) == answer


def test_starter_set_covers_every_reason_in_both_languages() -> None:
    answers = starter_answers()
    assert 20 <= len(answers) <= 34
    assert len({a.slug for a in answers}) == len(answers)
    for language in LANGUAGES:
        mine = starter_answers(language)
        assert all(a.language == language for a in mine)
        categories = {a.category for a in mine}
        assert categories >= {
            "order_status",
            "delivery",
            "returns",
            "payment",
            "cancellation",
            "product_question",
            "warranty",
            "other",
        }
        # More than one answer where customers ask different things.
        for category in ("returns", "payment", "delivery", "order_status"):
            assert sum(a.category == category for a in mine) >= 2
        assert any(a.set_status == "pending" and a.category == "other" for a in mine)


@pytest.mark.parametrize("answer", starter_answers(), ids=lambda a: a.slug)
def test_starter_answer_is_well_formed(answer: CannedAnswer) -> None:
    assert template_variables(answer.body) <= STANDARD_VARIABLES
    assert answer.keywords, "every answer has keywords"
    first_line = answer.body.splitlines()[0]
    assert first_line.startswith("Hola" if answer.language == "es" else "Hi")
    assert "{{ agent_name }}" in answer.body
    rendered = render(
        answer.body,
        {
            "customer_first_name": "Ana",
            "order_number": "1234",
            "agent_name": "Luis",
            "shop_name": "Tienda",
        },
    )
    assert rendered.ok
    paragraphs = [p for p in answer.body.split("\n\n") if p.strip()]
    # greeting, at most two ideas, closing
    assert len(paragraphs) <= 4


def test_starter_unknown_language() -> None:
    with pytest.raises(ConfigError):
        starter_answers("fr")
