"""``cs-console surveys``: queue due satisfaction surveys (from cron) and record link answers."""

from __future__ import annotations

import typer
from rich.text import Text

from cs_console.cli.app import app, console, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.desk.surveys import answer_by_token, queue_due_surveys, survey_settings
from cs_console.i18n import _
from cs_console.store.engine import session_scope

surveys_app = typer.Typer(
    help="Satisfaction surveys after tickets are solved.", no_args_is_help=True
)
app.add_typer(surveys_app, name="surveys", rich_help_panel="Reports")


@surveys_app.command("send")
def surveys_send(
    ctx: typer.Context,
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many surveys per run."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the tickets, queue nothing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when all went well."),
) -> None:
    """Queue the surveys that are due; `cs-console send` delivers them.

    Due: solved at least [surveys] delay ago (and not longer than max_age ago),
    never surveyed, customer not blocked, not opened by an automated sender.
    Safe to run as often as you like: a ticket is surveyed once.
    """
    cli = state(ctx)
    settings = cli.settings()
    conf = survey_settings(settings)
    if not conf.enabled:
        if not quiet:
            console.print(
                _("Surveys are off; turn them on with [surveys] enabled = true."), markup=False
            )
        return
    with session_scope(cli.engine()) as session:
        run = queue_due_surveys(
            session, settings, now=_utcnow(), limit=limit, dry_run=dry_run, surveys=conf
        )
    for ticket_id, reason in run.skipped:
        err_console.print(
            Text(
                _("#{ticket}: not surveyed: {reason}").format(ticket=ticket_id, reason=reason),
                style="yellow",
            )
        )
    if dry_run:
        due = ", ".join(f"#{t}" for t in run.queued) or _("none")
        console.print(Text(_("Due: {tickets}.").format(tickets=due)))
    elif run.queued or not quiet:
        console.print(
            Text(
                _("Queued {count} {kind} survey(s).").format(
                    count=len(run.queued), kind=conf.kind.upper()
                )
            )
        )


@surveys_app.command("answer")
def surveys_answer(
    ctx: typer.Context,
    token: str = typer.Argument(..., help="The survey token from the link."),
    score: int = typer.Argument(..., help="The score the customer confirmed."),
    comment: str | None = typer.Option(None, "--comment", help="The customer's comment."),
) -> None:
    """Record an answer confirmed on the shop's survey page.

    For the page's POST handler (after the customer clicked to confirm; a link
    opened by a mail scanner must never get here).
    """
    cli = state(ctx)
    with session_scope(cli.engine()) as session:
        survey = answer_by_token(session, token, score, now=_utcnow(), comment=comment)
        ticket_id = survey.ticket_id
    console.print(
        Text(_("Recorded {score} for ticket #{ticket}.").format(score=score, ticket=ticket_id))
    )
