"""``cs-console outreach``: write first to every customer affected by a known problem."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.panel import Panel
from rich.text import Text

from cs_console.cli.app import app, console, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.desk.outreach import run_outreach
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.textsafe import strip_controls


@app.command(rich_help_panel="Tickets")
def outreach(
    ctx: typer.Context,
    csv_path: Path = typer.Option(
        ..., "--csv", help="The list: an 'email' column, optionally 'name', and any variables."
    ),
    answer: str = typer.Option(
        ..., "--answer", help="The canned answer to send: its slug, or a .md file."
    ),
    subject: str | None = typer.Option(
        None, "--subject", help="Subject template (default: the answer's title)."
    ),
    per_minute: float = typer.Option(
        30.0, "--per-minute", min=0.1, max=6000, help="Delivery pace: messages per minute."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the list and show the first messages; send nothing."
    ),
    show: int = typer.Option(3, "--show", min=0, help="With --dry-run: messages to show."),
    tag: str | None = typer.Option(
        None,
        "--tag",
        help="Campaign tag (default outreach-ANSWER); contacted customers are skipped.",
    ),
    category: str | None = typer.Option(None, "--category", help="Default: the answer's."),
) -> None:
    """Send one message per listed customer, each as a new pending ticket.

    The CSV's columns fill the answer's {{ variables }} (e.g. order_number). A
    row with a bad address or a missing value is reported and skipped; the
    others go on. Running the same list again skips customers already
    contacted with the same --tag. Messages leave through the outbox at
    --per-minute.
    """
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeskError(
            _("cannot read {path}: {error}").format(path=repr(str(csv_path)), error=exc)
        ) from exc
    cli = state(ctx)
    report = run_outreach(
        cli.engine(),
        cli.settings(),
        csv_text=text,
        answer=answer,
        now=_utcnow(),
        per_minute=per_minute,
        dry_run=dry_run,
        tag=tag,
        subject=subject,
        category=category,
    )
    for problem in report.problems:
        err_console.print(
            Text(
                _("line {line} ({email}): {problem}").format(
                    line=problem.line, email=problem.email, problem=problem.message
                ),
                style="yellow",
            )
        )
    for skipped in report.skipped:
        err_console.print(
            Text(
                _("line {line} ({email}): skipped, {reason}").format(
                    line=skipped.line, email=skipped.email, reason=skipped.message
                ),
                style="dim",
            )
        )
    if dry_run:
        for message in report.messages[:show]:
            body = Text(
                f"{_('To')}: {message.recipient.email}\n{_('Subject')}: {message.subject}\n\n"
            )
            body.append(strip_controls(message.body))
            title = _("line {line}").format(line=message.recipient.line)
            console.print(Panel(body, title=title, title_align="left"))
        console.print(
            Text(
                _(
                    "Dry run: {ready} message(s) ready, {problems} row(s) with problems. "
                    "Nothing was sent."
                ).format(ready=len(report.messages), problems=len(report.problems))
            )
        )
        return
    console.print(
        Text(
            _(
                "Queued {queued} message(s) as new tickets; {skipped} skipped, "
                "{problems} with problems. `cs-console send` delivers them."
            ).format(
                queued=len(report.queued),
                skipped=len(report.skipped),
                problems=len(report.problems),
            )
        )
    )
    if not report.queued and report.problems:
        raise typer.Exit(code=1)
