"""``cs-console send`` (drain the outbox, once or continuously) and ``cs-console unsend``."""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer
from rich.text import Text
from sqlalchemy.engine import Engine

from cs_console.cli.app import app, console, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.config import Settings
from cs_console.desk.outbox import DrainReport, OutboxDrainer, outbox_counts, undo_send
from cs_console.desk.ticket_sla import TicketClock
from cs_console.i18n import _
from cs_console.store.engine import session_scope
from cs_console.textsafe import one_line, strip_controls


def _summary(report: DrainReport, engine: Engine) -> str:
    with session_scope(engine) as session:
        pending, failed = outbox_counts(session)
    return report.summary(pending=pending, failed_total=failed)


def _print_report(report: DrainReport, engine: Engine) -> None:
    for error in report.errors:
        err_console.print(Text(one_line(error, limit=500), style="yellow"))
    line = Text(_summary(report, engine), style="green" if report.ok else "red")
    (console if report.ok else err_console).print(line)


async def _watch(settings: Settings, engine: Engine, *, interval: float, limit: int) -> None:
    drainer = OutboxDrainer(settings, engine, now_fn=_utcnow)
    last_errors: list[str] = []
    while True:
        report = await drainer.drain(limit=limit)
        news = report.errors != last_errors
        last_errors = report.errors
        if report.sent or report.failed or report.retrying or news:
            stamp = datetime.now().astimezone().strftime("%H:%M:%S")
            line = Text(f"{stamp} ")
            line.append(_summary(report, engine), style="green" if report.ok else "red")
            console.print(line)
            for error in report.errors:
                console.print(Text(f"  {one_line(error, limit=500)}", style="yellow"))
        await asyncio.sleep(interval)


@app.command(rich_help_panel="Mail")
def send(
    ctx: typer.Context,
    watch: bool = typer.Option(
        False, "--watch", help="Keep sending as replies are queued (Ctrl-C to stop)."
    ),
    interval: float = typer.Option(
        2.0, "--interval", min=0.2, max=300, help="Seconds between passes with --watch."
    ),
    limit: int = typer.Option(200, "--limit", min=1, help="At most this many messages per pass."),
) -> None:
    """Send the queued replies, auto-replies and surveys.

    Without --watch it makes one pass and prints one summary line: good for
    cron. The exit status is 1 when a message failed for good in this pass or a
    mail server could not be reached (the messages stay queued and are retried
    later), 0 otherwise. Replies wait out their undo window first.
    """
    cli = state(ctx)
    settings = cli.settings()
    engine = cli.engine()
    if watch:
        console.print(Text(_("Sending queued mail as it comes; Ctrl-C to stop."), style="dim"))
        try:
            asyncio.run(_watch(settings, engine, interval=interval, limit=limit))
        except KeyboardInterrupt:
            console.print(Text(_("Stopped."), style="dim"))
        return
    report = asyncio.run(OutboxDrainer(settings, engine, now_fn=_utcnow).drain(limit=limit))
    _print_report(report, engine)
    if not report.ok:
        raise typer.Exit(code=1)


@app.command(rich_help_panel="Tickets")
def unsend(
    ctx: typer.Context,
    item: int = typer.Argument(..., help="The outbox item number `reply` printed."),
) -> None:
    """Pull back a reply during its undo window; its text is printed and kept as a draft."""
    cli = state(ctx)
    engine = cli.engine()
    with session_scope(engine) as session:
        undone = undo_send(session, item, now=_utcnow(), clock=TicketClock(cli.settings()))
    err_console.print(
        Text(
            _("Reply to #{number} pulled back; its text is saved as your draft.").format(
                number=undone.ticket_id
            )
        )
    )
    console.print(Text(strip_controls(undone.body)), soft_wrap=True)
