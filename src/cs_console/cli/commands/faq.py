"""``cs-console faq``: the shop's canned answers (list, import, export, new, edit),
the frequent questions still answered by hand (gaps), and the public FAQ page."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.cli.app import app, console, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.config import Settings
from cs_console.desk.canned import CATEGORIES, LANGUAGES, CannedAnswer, dump_answer, parse_answer
from cs_console.desk.canned.gaps import find_gaps
from cs_console.desk.canned.library import LibraryProblem, load_library
from cs_console.desk.canned.publish import faq_html, faq_markdown
from cs_console.desk.canned.store import (
    ImportReport,
    answers_for,
    ensure_library,
    export_answers,
    find_answer_file,
    import_answers,
    import_folder,
    library_folder,
    usage_by_agent,
    usage_counts,
)
from cs_console.desk.exports import parse_when
from cs_console.errors import ConfigError, DeskError
from cs_console.i18n import N_, _, ngettext
from cs_console.store.engine import session_scope
from cs_console.textsafe import FORBIDDEN_CHARS, one_line

faq_app = typer.Typer(
    help="Canned answers: the shop's library, the questions still answered by hand, "
    "and the public FAQ page.",
    no_args_is_help=True,
)
app.add_typer(faq_app, name="faq", rich_help_panel="Answers")

_ESCAPE = {ord(c): f"\\u{ord(c):04x}" for c in FORBIDDEN_CHARS}

_NEW_BODY = {
    "es": "Hola, {{ customer_first_name }}:\n\n(Escribe aquí la respuesta.)\n\n"
    "Un saludo,\n{{ agent_name }}\n{{ shop_name }}",
    "en": "Hi {{ customer_first_name }},\n\n(Write the answer here.)\n\n"
    "Best regards,\n{{ agent_name }}\n{{ shop_name }}",
}


def _write_json(data: Any) -> None:
    """JSON on stdout, the characters that steer a terminal escaped as \\uXXXX."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    sys.stdout.write(text.translate(_ESCAPE) + "\n")


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(
            _("{option}: choose one of {choices}").format(option=option, choices=", ".join(allowed))
        )


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _report_problems(problems: list[LibraryProblem]) -> None:
    for problem in problems:
        line = Text(_("not imported: "), style="yellow")
        line.append(one_line(problem.message))
        err_console.print(line, soft_wrap=True)


def _summary(report: ImportReport) -> Text:
    parts = [
        _("{count} added").format(count=len(report.added)),
        _("{count} updated").format(count=len(report.updated)),
        _("{count} unchanged").format(count=len(report.unchanged)),
    ]
    if report.removed:
        parts.append(_("{count} removed").format(count=len(report.removed)))
    if report.retired:
        parts.append(
            _("{count} retired (used before; kept for the reports)").format(
                count=len(report.retired)
            )
        )
    if report.problems:
        count = len(report.problems)
        parts.append(
            ngettext("{count} file not imported", "{count} files not imported", count).format(
                count=count
            )
        )
    return Text(_("Canned answers: {parts}.").format(parts=", ".join(parts)))


def _library(session: Session, settings: Settings, *, now: datetime) -> list[CannedAnswer]:
    report = ensure_library(session, settings, now=now)
    if report is not None and report.seeded:
        err_console.print(
            Text(
                _("Started the library with {count} answers in {folder}.").format(
                    count=len(report.seeded), folder=library_folder(settings)
                ),
                style="dim",
            )
        )
    return answers_for(session)


@faq_app.command("list")
def faq_list(
    ctx: typer.Context,
    output: str = typer.Option("table", "--format", help="table or json."),
    language: str | None = typer.Option(None, "--language", help="Only this language (es, en)."),
) -> None:
    """List the canned answers with how often each was used."""
    _choice(output, ("table", "json"), "--format")
    _choice(language, LANGUAGES, "--language")
    cli = state(ctx)
    settings = cli.settings()
    with session_scope(cli.engine()) as session:
        answers = _library(session, settings, now=_utcnow())
        uses = usage_counts(session)
    if language:
        answers = [a for a in answers if a.language == language]
    if output == "json":
        _write_json(
            [
                {
                    "slug": a.slug,
                    "title": a.title,
                    "language": a.language,
                    "category": a.category,
                    "tags": list(a.tags),
                    "public": a.public,
                    "uses": uses.get(a.slug, 0),
                }
                for a in answers
            ]
        )
        return
    if not answers:
        console.print(Text(_("No canned answers.")))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in (N_("slug"), N_("title"), N_("language"), N_("category"), N_("uses")):
        table.add_column(_(name), justify="right" if name == "uses" else "left", overflow="fold")
    for a in answers:
        table.add_row(
            Text(a.slug), Text(one_line(a.title)), a.language, a.category, str(uses.get(a.slug, 0))
        )
    console.print(table)


@faq_app.command("usage")
def faq_usage(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", help="Uses from this date."),
    until: str | None = typer.Option(None, "--until", help="...and before this date."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """How often each agent used each canned answer, most used first."""
    _choice(output, ("table", "json"), "--format")
    cli = state(ctx)
    settings = cli.settings()
    zone = ZoneInfo(settings.shop.timezone)
    start = parse_when(since, zone=zone).astimezone(UTC) if since else None
    end = parse_when(until, zone=zone).astimezone(UTC) if until else None
    with session_scope(cli.engine()) as session:
        rows = usage_by_agent(session, since=start, until=end)
    if output == "json":
        _write_json([{"agent": r.agent, "slug": r.slug, "uses": r.count} for r in rows])
        return
    if not rows:
        console.print(Text(_("No canned answer was used in that time.")))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in (N_("agent"), N_("slug"), N_("uses")):
        table.add_column(_(name), justify="right" if name == "uses" else "left", overflow="fold")
    for r in rows:
        table.add_row(Text(r.agent or "-"), Text(r.slug), str(r.count))
    console.print(table)


@faq_app.command("import")
def faq_import(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(
        None, help="Folder of .md answers to add (default: just read [canned] folder)."
    ),
) -> None:
    """Import the Markdown answers into the database.

    The [canned] folder is the library: its answers are added or updated, and
    answers whose file is gone are removed (or retired, when they were used).
    Answers from another FOLDER are first copied into the library folder
    (replacing a file of the same slug). Bad files are reported (file and
    problem) and the rest imported; the exit code is then 1, so a script notices.
    """
    cli = state(ctx)
    settings = cli.settings()
    library = library_folder(settings)
    now = _utcnow()
    problems: list[LibraryProblem] = []
    if folder is not None and folder.expanduser().resolve() != library.resolve():
        loaded = load_library(folder.expanduser())
        problems.extend(loaded.problems)
        library.mkdir(parents=True, exist_ok=True)
        for answer in loaded.answers:
            target = find_answer_file(library, answer.slug) or library / f"{answer.slug}.md"
            target.write_text(dump_answer(answer), encoding="utf-8")
    with session_scope(cli.engine()) as session:
        report = ensure_library(session, settings, now=now) or import_folder(
            session, library, now=now
        )
    report.problems = [*problems, *report.problems]
    _report_problems(report.problems)
    console.print(_summary(report))
    if report.problems:
        raise typer.Exit(code=1)


@faq_app.command("export")
def faq_export(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(None, help="Where to write (default: [canned] folder)."),
) -> None:
    """Write the database's answers as Markdown files (one SLUG.md each)."""
    cli = state(ctx)
    settings = cli.settings()
    target = folder.expanduser() if folder is not None else library_folder(settings)
    with session_scope(cli.engine()) as session:
        _library(session, settings, now=_utcnow())
        written = export_answers(session, target)
    console.print(
        Text(
            ngettext(
                "Wrote {count} answer to {folder}.",
                "Wrote {count} answers to {folder}.",
                len(written),
            ).format(count=len(written), folder=target)
        )
    )


def _import_one(engine: Engine, path: Path, *, now: datetime) -> CannedAnswer:
    """Parse one file and store it; ConfigError when it does not parse."""
    answer = parse_answer(path.read_text(encoding="utf-8"), slug=path.stem, source=str(path))
    with session_scope(engine) as session:
        import_answers(session, [answer], now=now, remove_missing=False)
    return answer


@faq_app.command("new")
def faq_new(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="File name without .md: lowercase, digits, - or _."),
    title: str = typer.Option(..., "--title", help="The question, as customers ask it."),
    language: str | None = typer.Option(None, "--language", help="es or en (default: the shop's)."),
    category: str = typer.Option(
        "other",
        "--category",
        help="One of: product_question, order_status, payment, delivery, returns, "
        "cancellation, warranty, other.",
    ),
    public: bool = typer.Option(False, "--public", help="Show it on the published FAQ page."),
) -> None:
    """Create an answer from a template; on a terminal it opens in $EDITOR."""
    cli = state(ctx)
    settings = cli.settings()
    language = language or settings.shop.language
    _choice(language, LANGUAGES, "--language")
    _choice(category, CATEGORIES, "--category")
    folder = library_folder(settings)
    engine = cli.engine()
    now = _utcnow()
    with session_scope(engine) as session:
        ensure_library(session, settings, now=now)
        if any(a.slug == slug for a in answers_for(session, include_retired=True)):
            raise DeskError(
                _("there is already an answer {slug}: use `cs-console faq edit {name}`").format(
                    slug=repr(slug), name=slug
                )
            )
    if find_answer_file(folder, slug) is not None:
        raise DeskError(
            _("there is already a file for {slug} in {folder}").format(
                slug=repr(slug), folder=folder
            )
        )
    answer = CannedAnswer(
        slug=slug,
        title=one_line(title),
        language=language,
        category=category,
        public=public,
        body=_NEW_BODY[language],
    )
    text = dump_answer(answer)
    parse_answer(text, slug=slug, source=slug)  # checks the slug and the title before writing
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    path.write_text(text, encoding="utf-8")
    if _on_terminal():
        click.edit(filename=str(path))
    try:
        _import_one(engine, path, now=now)
    except ConfigError as exc:
        err_console.print(
            Text(
                _("{path} was written but not imported: {problem}").format(
                    path=path, problem=exc.message
                ),
                style="yellow",
            )
        )
        raise typer.Exit(code=1) from None
    console.print(Text(_("Created {path}.").format(path=path)))


@faq_app.command("edit")
def faq_edit(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The answer to edit."),
) -> None:
    """Edit an answer's file in $EDITOR, then import it.

    A text that no longer parses is not saved over the file: the problem is
    reported, the file and the database keep the old version, and the text you
    wrote is kept beside it as SLUG.md.rejected.
    """
    cli = state(ctx)
    settings = cli.settings()
    folder = library_folder(settings)
    engine = cli.engine()
    now = _utcnow()
    path = find_answer_file(folder, slug)
    if path is None:
        with session_scope(engine) as session:
            ensure_library(session, settings, now=now)
            stored = {a.slug: a for a in answers_for(session, include_retired=True)}
        if slug not in stored:
            raise DeskError(
                _("there is no answer {slug} (see `cs-console faq list`)").format(slug=repr(slug))
            )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{slug}.md"
        path.write_text(dump_answer(stored[slug]), encoding="utf-8")
        path = find_answer_file(folder, slug) or path
    before = path.read_text(encoding="utf-8")
    edited = click.edit(before, extension=".md", require_save=True)
    if edited is None or edited == before:
        console.print(Text(_("No change.")))
        return
    try:
        parse_answer(edited, slug=slug, source=str(path))
    except ConfigError as exc:
        rejected = path.with_name(path.name + ".rejected")
        rejected.write_text(edited, encoding="utf-8")
        err_console.print(
            Text(_("Not saved: {problem}").format(problem=exc.message), style="yellow")
        )
        err_console.print(
            Text(_("The old version is kept; your text is in {path}.").format(path=rejected))
        )
        raise typer.Exit(code=1) from None
    path.write_text(edited, encoding="utf-8")
    _import_one(engine, path, now=now)
    console.print(Text(_("Saved and imported {path}.").format(path=path)))


@faq_app.command("gaps")
def faq_gaps(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", help="Tickets created from this date."),
    until: str | None = typer.Option(None, "--until", help="...and before this date."),
    min_count: int = typer.Option(3, "--min-count", min=1, help="Smallest group to show."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many groups."),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Frequent questions that got a hand-written reply: candidates for new answers.

    Tickets an agent answered without any canned answer are grouped by the
    similarity of the customer's first message; the largest groups come first,
    each with an example, its telling words and the closest existing answer.
    """
    _choice(output, ("text", "json"), "--format")
    cli = state(ctx)
    settings = cli.settings()
    zone = ZoneInfo(settings.shop.timezone)
    start = parse_when(since, zone=zone).astimezone(UTC) if since else None
    end = parse_when(until, zone=zone).astimezone(UTC) if until else None
    with session_scope(cli.engine()) as session:
        answers = _library(session, settings, now=_utcnow())
        gaps = find_gaps(
            session,
            since=start,
            until=end,
            min_count=min_count,
            answers=answers,
            default_language=settings.shop.language,
        )[:limit]
    if output == "json":
        _write_json(
            [
                {
                    "count": g.count,
                    "tickets": list(g.ticket_ids),
                    "words": list(g.words),
                    "language": g.language,
                    "example": g.example,
                    "closest_answer": g.closest,
                }
                for g in gaps
            ]
        )
        return
    if not gaps:
        console.print(
            Text(
                _("No question was answered by hand {count} or more times.").format(count=min_count)
            )
        )
        return
    for number, gap in enumerate(gaps, 1):
        head = Text(
            ngettext("{number}. {count} ticket", "{number}. {count} tickets", gap.count).format(
                number=number, count=gap.count
            ),
            style="bold",
        )
        head.append(f"  [{gap.language}] " + ", ".join(gap.words), style="cyan")
        console.print(head)
        console.print(
            Text("   " + _("e.g. {example}").format(example=one_line(gap.example, limit=160)))
        )
        tickets = ", ".join(f"#{t}" for t in gap.ticket_ids[:10])
        if gap.count > 10:
            tickets = _("{tickets} and {count} more").format(tickets=tickets, count=gap.count - 10)
        console.print(Text("   " + _("tickets: {tickets}").format(tickets=tickets), style="dim"))
        if gap.closest:
            console.print(
                Text("   " + _("closest answer: {slug}").format(slug=gap.closest), style="dim")
            )


@faq_app.command("publish")
def faq_publish(
    ctx: typer.Context,
    output: str = typer.Option("md", "--format", help="md or html."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)."),
    language: str | None = typer.Option(None, "--language", help="es or en (default: the shop's)."),
) -> None:
    """A public FAQ page from the answers marked public = true.

    Greetings and signatures are left out, the shop's name is filled in, a
    variable with a default shows its default, and any other variable
    (customer, order, ticket, agent) is removed.
    """
    _choice(output, ("md", "html"), "--format")
    _choice(language, LANGUAGES, "--language")
    cli = state(ctx)
    settings = cli.settings()
    lang = language or settings.shop.language
    with session_scope(cli.engine()) as session:
        answers = _library(session, settings, now=_utcnow())
    render = faq_html if output == "html" else faq_markdown
    page = render(answers, shop_name=settings.shop.name, language=lang)
    if out is None:
        sys.stdout.write(page)
        return
    try:
        out.expanduser().write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DeskError(
            _("cannot write {path}: {reason}").format(path=out, reason=exc.strerror or exc)
        ) from exc
    count = sum(1 for a in answers if a.public and a.language == lang)
    err_console.print(
        Text(
            ngettext(
                "Wrote {path} ({count} answer).", "Wrote {path} ({count} answers).", count
            ).format(path=out, count=count)
        )
    )
