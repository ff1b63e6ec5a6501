"""``cs-console next``: claim the most urgent unassigned ticket."""

from __future__ import annotations

import json

import typer
from rich.text import Text
from sqlmodel import Session

from cs_console.cli.app import app, console, state
from cs_console.clock import utcnow
from cs_console.desk.claim import take_next
from cs_console.i18n import _, term
from cs_console.store.models import Customer, Ticket
from cs_console.textsafe import one_line


@app.command("next", rich_help_panel="Tickets")
def next_ticket(
    ctx: typer.Context,
    agent: str | None = typer.Option(
        None, "--agent", help="Claim for this agent (default: [agent] name)."
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Take the most urgent unassigned ticket: it is assigned to you and printed.

    Safe with several agents at once: each call gets a different ticket (on
    PostgreSQL through row locks that skip what others are claiming). Exits
    with status 3 when nothing is waiting, so scripts can loop on it.
    """
    cli = state(ctx)
    name = agent or cli.settings().agent.name
    engine = cli.engine()
    number = take_next(engine, name, now=utcnow())
    if number is None:
        if output == "json":
            console.print_json(json.dumps({"ticket": None}))
        else:
            console.print(_("Nothing waiting: every open ticket has someone on it."))
        raise typer.Exit(code=3)
    with Session(engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        customer = session.get(Customer, ticket.customer_id)
        payload = {
            "ticket": number,
            "subject": ticket.subject,
            "customer": customer.email if customer else None,
            "priority": ticket.priority,
            "category": ticket.category,
            "assignee": name,
            "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
        }
    if output == "json":
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    line = Text(f"#{number} ", style="bold")
    line.append(one_line(ticket.subject, limit=80))
    line.append(
        f"  ({one_line(payload['customer'] or '')}, {term(ticket.priority)}) → {name}", style="dim"
    )
    console.print(line)
