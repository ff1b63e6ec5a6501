"""The shop's canned answers in the database: import from the folder, export, usage counts.

The folder of Markdown files (``[canned] folder``, default ``<data_dir>/answers``)
is what the shop edits; the ``canned_answer`` table is what the console reads
(picker, suggestions, usage reports). :func:`import_folder` brings the table in
line with the folder:

- a file whose slug is new adds a row, a changed file updates its row;
- a file that does not parse is reported and its row (if any) kept as it was;
- a row whose file is gone is deleted when it was never used, and *retired*
  when it was: it keeps its usage history (reports still count it) but leaves
  the picker, the suggestions, the export and the FAQ page. Retired rows carry
  the reserved tag :data:`RETIRED_TAG`; putting the file back revives the row.

A folder that does not exist or holds no answer yet is seeded with the starter
set in the shop's language (:func:`ensure_library`), so a new shop has answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cs_console.config import Settings
from cs_console.desk.canned.library import (
    CannedAnswer,
    LibraryProblem,
    dump_answer,
    load_library,
    starter_answers,
)
from cs_console.errors import ConfigError, DeskError
from cs_console.i18n import _
from cs_console.store.models import Agent, CannedAnswerRow, CannedAnswerUse

__all__ = [
    "RETIRED_TAG",
    "AgentUsage",
    "ImportReport",
    "answer_from_row",
    "answers_for",
    "ensure_library",
    "export_answers",
    "find_answer_file",
    "import_answers",
    "import_folder",
    "is_retired",
    "library_folder",
    "record_use",
    "seed_folder",
    "usage_by_agent",
    "usage_counts",
]

RETIRED_TAG = "cs-console:retired"
"""Reserved tag of a row whose file is gone but that was used (kept for the reports)."""


@dataclass
class ImportReport:
    """What an import changed (slugs), and the files it could not read."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    problems: list[LibraryProblem] = field(default_factory=list)
    seeded: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class AgentUsage:
    """How often one agent used one answer."""

    agent: str
    slug: str
    count: int


def library_folder(settings: Settings) -> Path:
    """The folder of the shop's answers: ``[canned] folder`` or ``<data_dir>/answers``."""
    return settings.canned.folder or settings.data_dir / "answers"


def _has_answers(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*.md"))


def seed_folder(folder: Path, *, language: str) -> list[Path]:
    """Write the starter set in ``language`` into ``folder`` when it holds no answer yet.

    Returns:
        The files written (none when the folder already had answers).
    """
    if _has_answers(folder):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for answer in starter_answers(language):
        path = folder / f"{answer.slug}.md"
        path.write_text(dump_answer(answer), encoding="utf-8")
        written.append(path)
    return written


def _row_tags(row: CannedAnswerRow) -> list[str]:
    return _load_list(row.tags)


def _load_list(value: str) -> list[str]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except ValueError:
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(item) for item in data] if isinstance(data, list) else []


def _dump_list(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def is_retired(row: CannedAnswerRow) -> bool:
    """Whether the row's file is gone (kept only for its usage history)."""
    return RETIRED_TAG in _row_tags(row)


def answer_from_row(row: CannedAnswerRow) -> CannedAnswer:
    """The :class:`CannedAnswer` a row holds (without the reserved tag)."""
    return CannedAnswer(
        slug=row.slug,
        title=row.title,
        language=row.language,
        category=row.category,
        tags=tuple(t for t in _row_tags(row) if t != RETIRED_TAG),
        keywords=tuple(_load_list(row.keywords)),
        public=row.public,
        set_status=row.set_status,
        body=row.body,
    )


def _fill_row(row: CannedAnswerRow, answer: CannedAnswer, *, now: datetime) -> None:
    row.title = answer.title
    row.language = answer.language
    row.category = answer.category
    row.tags = _dump_list(t for t in answer.tags if t != RETIRED_TAG)
    row.keywords = _dump_list(answer.keywords)
    row.body = answer.body
    row.public = answer.public
    row.set_status = answer.set_status
    row.updated_at = now


def _same(row: CannedAnswerRow, answer: CannedAnswer) -> bool:
    incoming = replace(answer, tags=tuple(t for t in answer.tags if t != RETIRED_TAG))
    return answer_from_row(row) == incoming and not is_retired(row)


def import_answers(
    session: Session,
    answers: Sequence[CannedAnswer],
    *,
    now: datetime,
    present: Iterable[str] = (),
    remove_missing: bool = True,
) -> ImportReport:
    """Bring the table in line with ``answers`` (insert or update by slug).

    Args:
        answers: The answers read from the folder.
        now: Stamped on every added or changed row.
        present: Slugs of files that exist but could not be read: their rows stay.
        remove_missing: Delete (or retire, when used) rows not in ``answers``.
    """
    report = ImportReport()
    rows = {row.slug: row for row in session.exec(select(CannedAnswerRow)).all()}
    for answer in answers:
        row = rows.get(answer.slug)
        if row is None:
            row = CannedAnswerRow(slug=answer.slug, title=answer.title, updated_at=now)
            _fill_row(row, answer, now=now)
            session.add(row)
            report.added.append(answer.slug)
        elif _same(row, answer):
            report.unchanged.append(answer.slug)
        else:
            _fill_row(row, answer, now=now)
            session.add(row)
            report.updated.append(answer.slug)
    if remove_missing:
        keep = {a.slug for a in answers} | set(present)
        used = _used_answer_ids(session)
        for slug, row in sorted(rows.items()):
            if slug in keep:
                continue
            if row.id in used:
                if not is_retired(row):
                    row.tags = _dump_list([*_row_tags(row), RETIRED_TAG])
                    row.updated_at = now
                    session.add(row)
                    report.retired.append(slug)
            else:
                session.delete(row)
                report.removed.append(slug)
    session.flush()
    return report


def _used_answer_ids(session: Session) -> set[int]:
    return set(session.exec(select(CannedAnswerUse.answer_id).distinct()).all())


def import_folder(
    session: Session, folder: Path, *, now: datetime, remove_missing: bool = True
) -> ImportReport:
    """Import every answer of ``folder``; bad files are reported, the rest imported.

    Raises:
        ConfigError: ``folder`` is not a directory.
    """
    loaded = load_library(folder)
    present = {problem.path.stem for problem in loaded.problems}
    report = import_answers(
        session, loaded.answers, now=now, present=present, remove_missing=remove_missing
    )
    report.problems = list(loaded.problems)
    return report


def ensure_library(session: Session, settings: Settings, *, now: datetime) -> ImportReport | None:
    """Seed the folder (first use) and import it when the table holds no answer yet.

    Returns:
        The import's report, or None when the table already had answers.
    """
    if session.exec(select(CannedAnswerRow.id).limit(1)).first() is not None:
        return None
    folder = library_folder(settings)
    seeded = seed_folder(folder, language=settings.shop.language)
    report = import_folder(session, folder, now=now)
    report.seeded = seeded
    return report


def answers_for(session: Session, *, include_retired: bool = False) -> list[CannedAnswer]:
    """The shop's answers from the database, by slug (for the picker and suggestions)."""
    rows = session.exec(select(CannedAnswerRow).order_by(col(CannedAnswerRow.slug))).all()
    return [answer_from_row(r) for r in rows if include_retired or not is_retired(r)]


def record_use(
    session: Session,
    slug: str,
    *,
    agent_id: int | None,
    ticket_id: int | None,
    now: datetime,
    answer: CannedAnswer | None = None,
) -> CannedAnswerUse | None:
    """Count one use of answer ``slug`` in a reply.

    Args:
        answer: The answer used, stored first when its slug has no row yet (a
            starter answer used before the library was imported). Without it an
            unknown slug is not counted.

    Returns:
        The new use, or None when the slug is unknown.
    """
    row = session.exec(select(CannedAnswerRow).where(CannedAnswerRow.slug == slug)).first()
    if row is None:
        if answer is None:
            return None
        row = CannedAnswerRow(slug=answer.slug, title=answer.title, updated_at=now)
        _fill_row(row, answer, now=now)
        session.add(row)
        session.flush()
    assert row.id is not None
    use = CannedAnswerUse(answer_id=row.id, agent_id=agent_id, ticket_id=ticket_id, used_at=now)
    session.add(use)
    session.flush()
    return use


def _since(query: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        query = query.where(col(CannedAnswerUse.used_at) >= since)
    if until is not None:
        query = query.where(col(CannedAnswerUse.used_at) < until)
    return query


def usage_counts(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, int]:
    """Uses per answer slug (answers never used are absent)."""
    query = (
        select(CannedAnswerRow.slug, func.count(col(CannedAnswerUse.id)))
        .join(CannedAnswerRow, col(CannedAnswerRow.id) == col(CannedAnswerUse.answer_id))
        .group_by(col(CannedAnswerRow.slug))
    )
    return {slug: int(n) for slug, n in session.exec(_since(query, since, until)).all()}


def usage_by_agent(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[AgentUsage]:
    """Uses per agent and answer, most used first (uses without an agent under ``""``)."""
    query = (
        select(Agent.name, CannedAnswerRow.slug, func.count(col(CannedAnswerUse.id)))
        .join(CannedAnswerRow, col(CannedAnswerRow.id) == col(CannedAnswerUse.answer_id))
        .join(Agent, col(Agent.id) == col(CannedAnswerUse.agent_id), isouter=True)
        .group_by(col(Agent.name), col(CannedAnswerRow.slug))
    )
    rows = [
        AgentUsage(agent=name or "", slug=slug, count=int(n))
        for name, slug, n in session.exec(_since(query, since, until)).all()
    ]
    rows.sort(key=lambda u: (-u.count, u.agent, u.slug))
    return rows


def find_answer_file(folder: Path, slug: str) -> Path | None:
    """The file of ``slug`` under ``folder`` (answers may sit in sub-folders)."""
    if not folder.is_dir():
        return None
    direct = folder / f"{slug}.md"
    if direct.is_file():
        return direct
    return next((p for p in sorted(folder.rglob(f"{slug}.md")) if p.is_file()), None)


def export_answers(session: Session, folder: Path) -> list[Path]:
    """Write the database's answers (not the retired ones) as Markdown files.

    A slug that already has a file under ``folder`` (in a sub-folder too) is
    written over that file, so a re-import finds each slug once.

    Raises:
        DeskError: a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for answer in answers_for(session):
        if "/" in answer.slug or "\\" in answer.slug or answer.slug.startswith("."):
            raise ConfigError(_("slug {slug} cannot be a file name").format(slug=repr(answer.slug)))
        path = find_answer_file(folder, answer.slug) or folder / f"{answer.slug}.md"
        try:
            path.write_text(dump_answer(answer), encoding="utf-8")
        except OSError as exc:
            raise DeskError(
                _("cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc)
            ) from exc
        written.append(path)
    return written
