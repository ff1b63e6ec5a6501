"""``cs-console doctor``: is everything in place?"""

from __future__ import annotations

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.clock import utcnow
from cs_console.desk.health import Outcome, run_checks
from cs_console.i18n import N_, _, ngettext

_MARKS = {
    Outcome.OK: (N_("ok"), "green"),
    Outcome.WARN: (N_("warn"), "yellow"),
    Outcome.FAIL: (N_("FAIL"), "bold red"),
}


@app.command(rich_help_panel=_("Set-up"))
def doctor(
    ctx: typer.Context,
    offline: bool = typer.Option(False, "--offline", help=_("Skip the IMAP and SMTP logins.")),
) -> None:
    """Check the config, the database and each account's IMAP and SMTP login.

    Prints one line per check and exits with status 1 if any check failed, so it
    can run from cron or a monitoring script. Passwords are never shown.
    """
    settings = state(ctx).settings()
    failed = 0
    for check in run_checks(settings, now=utcnow(), connect=not offline):
        mark, style = _MARKS[check.outcome]
        line = Text()
        line.append(f"{_(mark):<4}", style=style)
        line.append(f" {check.name}: ", style="bold")
        line.append(check.detail)
        console.print(line)
        failed += check.outcome is Outcome.FAIL
    if failed:
        message = ngettext("{count} check failed.", "{count} checks failed.", failed)
        console.print(Text(message.format(count=failed), style="bold red"))
        raise typer.Exit(code=1)
    console.print(Text(_("All checks passed."), style="green"))
