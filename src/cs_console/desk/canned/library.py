"""Canned answers stored as Markdown files with TOML front matter.

A file looks like this (the slug is the file name without ``.md``)::

    +++
    title = "Where is my order?"
    language = "en"
    category = "order_status"
    tags = ["tracking"]
    keywords = ["where is my order", "tracking number"]
    public = true
    set_status = "pending"
    +++
    Hello {{ customer_first_name }}, ...

``title``, ``language`` and ``category`` are required; the rest are optional.
The front matter is TOML (read with :mod:`tomllib`, so no extra dependency).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cs_console.errors import ConfigError
from cs_console.i18n import _

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "SET_STATUSES",
    "CannedAnswer",
    "LibraryLoad",
    "LibraryProblem",
    "dump_answer",
    "load_answer",
    "load_library",
    "parse_answer",
    "starter_answers",
]

LANGUAGES: tuple[str, ...] = ("es", "en")
CATEGORIES: tuple[str, ...] = (
    "product_question",
    "order_status",
    "payment",
    "delivery",
    "returns",
    "cancellation",
    "warranty",
    "other",
)
SET_STATUSES: tuple[str, ...] = ("pending", "solved")

_FENCE = "+++"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KNOWN_KEYS = frozenset(
    {"title", "language", "category", "tags", "keywords", "public", "set_status"}
)


@dataclass(frozen=True)
class CannedAnswer:
    """One canned answer.

    Attributes:
        slug: Identifier, from the file name (``where-is-my-order``).
        title: Short title shown in pickers.
        language: ``es`` or ``en``.
        category: One of :data:`CATEGORIES`.
        tags: Free labels for filtering and reports.
        keywords: Words and phrases customers use for this question; they
            weigh more than the body when suggesting.
        public: Whether it belongs on the published FAQ page.
        set_status: Ticket status to apply when sent (``pending``/``solved``).
        body: The Markdown body, a template (see :mod:`.template`).
        source_path: The file it was read from, if any.
    """

    slug: str
    title: str
    language: str
    category: str
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    public: bool = False
    set_status: str | None = None
    body: str = ""
    source_path: Path | None = field(default=None, compare=False)


@dataclass(frozen=True)
class LibraryProblem:
    """A file of the library that could not be loaded."""

    path: Path
    message: str


@dataclass(frozen=True)
class LibraryLoad:
    """What :func:`load_library` found: good answers and bad files.

    It iterates, indexes and measures like the list of answers, so callers that
    only want the answers can treat it as a list.
    """

    answers: tuple[CannedAnswer, ...]
    problems: tuple[LibraryProblem, ...] = ()

    def __iter__(self) -> Iterator[CannedAnswer]:
        return iter(self.answers)

    def __len__(self) -> int:
        return len(self.answers)

    def __getitem__(self, index: int) -> CannedAnswer:
        return self.answers[index]


def _fail(source: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {problem}", title="Canned answer not valid")


def _one_of(key: str, value: str, choices: tuple[str, ...]) -> str:
    return _("{key} {value} must be one of: {choices}").format(
        key=key, value=f"'{value}'", choices=", ".join(choices)
    )


def _string_list(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail(source, _("{key} must be a list of strings").format(key=f"'{key}'"))
    return tuple(item.strip() for item in value if item.strip())


def parse_answer(text: str, *, slug: str, source: str = "<text>") -> CannedAnswer:
    """Parse the text of a canned-answer file.

    Args:
        text: The whole file.
        slug: The answer's slug.
        source: How to name the file in error messages.

    Raises:
        ConfigError: The front matter is missing or invalid.
    """
    if not _SLUG.match(slug):
        raise _fail(
            source,
            _("file name {slug} must be lowercase letters, digits, '-' or '_'").format(
                slug=f"'{slug}'"
            ),
        )
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise _fail(
            source,
            _("the file must start with a {fence} line (TOML front matter)").format(
                fence=f"'{_FENCE}'"
            ),
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == _FENCE)
    except StopIteration:
        raise _fail(
            source, _("the front matter has no closing {fence} line").format(fence=f"'{_FENCE}'")
        ) from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(
            source, _("the front matter is not valid TOML ({reason})").format(reason=exc)
        ) from None
    unexpected = sorted(set(meta) - _KNOWN_KEYS)
    if unexpected:
        raise _fail(
            source, _("unknown front-matter key(s): {keys}").format(keys=", ".join(unexpected))
        )
    for key in ("title", "language", "category"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise _fail(
                source,
                _("{key} is required and must be a non-empty string").format(key=f"'{key}'"),
            )
    language = meta["language"].strip().lower()
    if language not in LANGUAGES:
        raise _fail(source, _one_of("language", language, LANGUAGES))
    category = meta["category"].strip()
    if category not in CATEGORIES:
        raise _fail(source, _one_of("category", category, CATEGORIES))
    public = meta.get("public", False)
    if not isinstance(public, bool):
        raise _fail(source, _("{key} must be true or false").format(key="'public'"))
    set_status = meta.get("set_status")
    if set_status is not None and set_status not in SET_STATUSES:
        raise _fail(source, _one_of("set_status", str(set_status), SET_STATUSES))
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise _fail(source, _("the answer has no body"))
    return CannedAnswer(
        slug=slug,
        title=meta["title"].strip(),
        language=language,
        category=category,
        tags=_string_list(meta.get("tags", []), "tags", source),
        keywords=_string_list(meta.get("keywords", []), "keywords", source),
        public=public,
        set_status=set_status,
        body=body,
    )


def load_answer(path: Path) -> CannedAnswer:
    """Read one canned answer from a Markdown file.

    Raises:
        ConfigError: The file cannot be read or is not valid; the message names
            the file and the problem.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(str(path), _("cannot be read ({reason})").format(reason=exc)) from None
    answer = parse_answer(text, slug=path.stem, source=str(path))
    return _with_source(answer, path)


def _with_source(answer: CannedAnswer, path: Path | None) -> CannedAnswer:
    return CannedAnswer(
        slug=answer.slug,
        title=answer.title,
        language=answer.language,
        category=answer.category,
        tags=answer.tags,
        keywords=answer.keywords,
        public=answer.public,
        set_status=answer.set_status,
        body=answer.body,
        source_path=path,
    )


def load_library(folder: Path) -> LibraryLoad:
    """Read every ``*.md`` file under ``folder`` (recursively, sorted).

    A bad file does not stop the others: it is reported in
    :attr:`LibraryLoad.problems`. Two files with the same slug are a problem
    too (the first one, in path order, wins).

    Raises:
        ConfigError: ``folder`` is not a readable directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(
            _("{folder}: the canned-answers folder does not exist").format(folder=folder),
            title="Canned answers not found",
        )
    answers: list[CannedAnswer] = []
    problems: list[LibraryProblem] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.md")):
        if not path.is_file():
            continue
        try:
            answer = load_answer(path)
        except ConfigError as exc:
            problems.append(LibraryProblem(path=path, message=exc.message))
            continue
        if answer.slug in seen:
            problems.append(
                LibraryProblem(
                    path=path,
                    message=_("{path}: slug {slug} is already used by {other}").format(
                        path=path, slug=f"'{answer.slug}'", other=seen[answer.slug]
                    ),
                )
            )
            continue
        seen[answer.slug] = path
        answers.append(answer)
    return LibraryLoad(answers=tuple(answers), problems=tuple(problems))


def _toml_string(value: str) -> str:
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def dump_answer(answer: CannedAnswer) -> str:
    """The file text for ``answer``; :func:`load_answer` reads it back equal."""
    lines = [
        _FENCE,
        f"title = {_toml_string(answer.title)}",
        f"language = {_toml_string(answer.language)}",
        f"category = {_toml_string(answer.category)}",
        f"tags = {_toml_list(answer.tags)}",
        f"keywords = {_toml_list(answer.keywords)}",
        f"public = {'true' if answer.public else 'false'}",
    ]
    if answer.set_status is not None:
        lines.append(f"set_status = {_toml_string(answer.set_status)}")
    lines.append(_FENCE)
    return "\n".join(lines) + "\n" + answer.body.strip("\n") + "\n"


_STARTER_CACHE: dict[str, tuple[CannedAnswer, ...]] = {}


def starter_answers(language: str | None = None) -> list[CannedAnswer]:
    """The starter set shipped with cs-console, in one language or both.

    Raises:
        ConfigError: ``language`` is not supported.
    """
    if language is not None and language not in LANGUAGES:
        raise ConfigError(_one_of("language", language, LANGUAGES), title="Canned answer not valid")
    result: list[CannedAnswer] = []
    for lang in LANGUAGES if language is None else (language,):
        if lang not in _STARTER_CACHE:
            folder = resources.files("cs_console.desk.canned").joinpath("starter", lang)
            loaded = []
            for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                if entry.name.endswith(".md"):
                    slug = entry.name[: -len(".md")]
                    source = f"starter/{lang}/{entry.name}"
                    loaded.append(
                        parse_answer(entry.read_text(encoding="utf-8"), slug=slug, source=source)
                    )
            _STARTER_CACHE[lang] = tuple(loaded)
        result.extend(_STARTER_CACHE[lang])
    return result
