"""``cs-console demo``: a ready workspace to try everything without a mail account."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text
from sqlmodel import Session, col, select

from cs_console.cli.app import CliState, app, console, state
from cs_console.clock import utcnow
from cs_console.config import load_settings
from cs_console.desk.demo import create_demo_workspace
from cs_console.i18n import N_, _, term
from cs_console.store.database import open_database
from cs_console.store.models import OPEN_STATUSES, Customer, Ticket
from cs_console.textsafe import one_line


@app.command(rich_help_panel="Start here")
def demo(
    ctx: typer.Context,
    folder: Path | None = typer.Argument(
        None, help="Where to create the demo workspace (default: a new temporary folder)."
    ),
    language: str = typer.Option("es", "--language", "-l", help="Interface language: es or en."),
    tickets: int = typer.Option(200, "--tickets", min=1, max=100_000, help="How many tickets."),
    print_queue: bool = typer.Option(
        False, "--print", help="Print the queue and exit instead of opening the console."
    ),
) -> None:
    """Open the console on a demo shop with a realistic queue (no mail account needed).

    The demo has about 200 tickets in Spanish and English over the last weeks, a few
    agents, and an outbox that writes replies as .eml files into a folder instead of
    sending them. It never touches your real workspace.

    Example: `cs-console demo` (a fresh temporary workspace), or
    `cs-console demo ~/cs-demo` to keep it.
    """
    if language not in ("es", "en"):
        raise typer.BadParameter(
            _("choose {first} or {second}").format(first="es", second="en"),
            param_hint="--language",
        )
    temporary = folder is None
    target = Path(tempfile.mkdtemp(prefix="cs-console-demo-")) if folder is None else folder
    config = target / "config.toml"
    if not config.exists():
        with console.status(_("Creating the demo workspace...")):
            create_demo_workspace(target, now=utcnow(), language=language, count=tickets)
    console.print(Text(_("Demo workspace: {folder}").format(folder=target), style="dim"))
    demo_state = CliState(config=config, debug=state(ctx).debug)
    try:
        if print_queue or not sys.stdout.isatty():
            print_demo_queue(demo_state)
        else:
            from cs_console.cli.console import open_console

            open_console(demo_state)
    finally:
        if temporary and not print_queue and sys.stdout.isatty():
            shutil.rmtree(target, ignore_errors=True)


def print_demo_queue(demo_state: CliState, *, limit: int = 40) -> None:
    """Print the most urgent open tickets as a table."""
    settings = load_settings(demo_state.config)
    engine = open_database(settings.database_url)
    table = Table(
        title=_("{shop}: open tickets, most urgent first").format(shop=settings.shop.name)
    )
    table.add_column("#", justify="right", min_width=3, no_wrap=True)
    for column in (N_("customer"), N_("subject"), N_("category"), N_("priority"), N_("status")):
        table.add_column(_(column), overflow="ellipsis", no_wrap=True)
    with Session(engine) as session:
        rows = session.exec(
            select(Ticket, Customer)
            .join(Customer, col(Customer.id) == col(Ticket.customer_id))
            .where(col(Ticket.status).in_([s.value for s in OPEN_STATUSES]))
            .order_by(
                col(Ticket.sla_breached).desc(), col(Ticket.sla_due_at), col(Ticket.created_at)
            )
            .limit(limit)
        ).all()
        for ticket, customer in rows:
            table.add_row(
                str(ticket.id),
                Text(one_line(customer.name or customer.email, limit=28)),
                Text(one_line(ticket.subject, limit=50)),
                ticket.category,
                term(ticket.priority),
                term(ticket.status),
            )
    engine.dispose()
    console.print(table)
