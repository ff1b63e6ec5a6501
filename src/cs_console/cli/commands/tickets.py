"""``cs-console list / show / reply / note / set``: the desk from a plain shell or a script.

These go through the same domain code and outbox as the console. Everything
that came in an email is shown as data: control characters stripped, and
printed as Rich ``Text`` (never parsed as markup).
"""

from __future__ import annotations

import json
import mimetypes
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import typer
from rich.table import Table
from rich.text import Text
from sqlmodel import Session, col, select

from cs_console.cli.app import app, console, err_console, state
from cs_console.clock import utcnow as _utcnow
from cs_console.config import Settings
from cs_console.desk.canned.store import record_use
from cs_console.desk.drafts import load_draft, save_draft
from cs_console.desk.replies import (
    REPLY_STATUSES,
    add_note,
    canned_reply,
    current_agent,
    reply_to_ticket,
)
from cs_console.desk.ticket_sla import TicketClock
from cs_console.desk.tickets import (
    add_tag,
    assign,
    get_ticket,
    remove_tag,
    set_category,
    set_priority,
    set_status,
    tags_of,
)
from cs_console.desk.views import VIEWS, list_tickets
from cs_console.errors import CsConsoleError, DeskError
from cs_console.i18n import N_, _, format_when, term
from cs_console.mail.compose import OutgoingAttachment
from cs_console.store.engine import session_scope
from cs_console.store.models import Agent, Customer, Message, OutboxItem, Ticket
from cs_console.textsafe import FORBIDDEN_CHARS, one_line, safe_filename, strip_controls

PANEL = "Tickets"
#: The SLA targets' names as ``show`` prints them.
SLA_TARGETS = (N_("first reply"), N_("next reply"), N_("resolution"))
MAX_ATTACHMENTS_BYTES = 20 * 1024 * 1024


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _local(settings: Settings, value: datetime | None) -> str:
    if value is None:
        return "-"
    return format_when(value, ZoneInfo(settings.shop.timezone))


_ESCAPE = {ord(c): f"\\u{ord(c):04x}" for c in FORBIDDEN_CHARS}


def _write_json(data: Any) -> None:
    """JSON on stdout: every character kept, those that steer a terminal escaped as \\uXXXX."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    sys.stdout.write(text.translate(_ESCAPE) + "\n")


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(_("choose one of: {choices}").format(choices=", ".join(allowed)))
    return value


@app.command("list", rich_help_panel=PANEL)
def list_command(
    ctx: typer.Context,
    view: str = typer.Option("open", "--view", help=f"One of: {', '.join(VIEWS)}."),
    output: str = typer.Option("table", "--format", help="table or json."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="At most this many tickets."),
) -> None:
    """List tickets, most urgent first."""
    _check_format(output, ("table", "json"))
    cli = state(ctx)
    settings = cli.settings()
    engine = cli.engine()
    now = _utcnow()
    with session_scope(engine) as session:
        agent_id = None
        if view == "mine":
            agent_id = current_agent(session, settings, now=now).id
        rows = list_tickets(session, view=view, now=now, agent_id=agent_id, limit=limit)
    if output == "json":
        data = [
            {
                "id": row.id,
                "subject": row.subject,
                "status": row.status,
                "priority": row.priority,
                "category": row.category,
                "customer": {"name": row.customer_name, "email": row.customer_email},
                "assignee": row.assignee,
                "updated_at": _iso(row.updated_at),
                "sla_due_at": _iso(row.sla_due_at),
                "sla_breached": row.sla_breached,
                "unread": row.unread,
            }
            for row in rows
        ]
        _write_json(data)
        return
    if not rows:
        console.print(Text(_("No tickets in the {view} view.").format(view=term(view))))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("#", N_("status"), N_("prio"), N_("due"), N_("customer"), N_("subject")):
        table.add_column(_(name), no_wrap=name != "subject", overflow="ellipsis")
    for row in rows:
        due = Text(_local(settings, row.sla_due_at), style="red" if row.sla_breached else "")
        table.add_row(
            Text(str(row.id), style="bold" if row.unread else ""),
            Text(term(row.status)),
            Text(term(row.priority)),
            due,
            Text(one_line(row.customer_name or row.customer_email, limit=30)),
            Text(one_line(row.subject, limit=80)),
        )
    console.print(table)


def _sla_data(
    session: Session, settings: Settings, ticket: Ticket, now: datetime
) -> dict[str, Any]:
    """The live SLA from the SLA engine, beside the cached columns the queue orders by."""
    sla = TicketClock(settings).evaluate(session, ticket, now=now)
    return {
        "policy": sla.policy_name,
        "targets": {
            name: {
                "state": target.state,
                "due_at": _iso(target.due_at),
                "met": target.met,
                "business_seconds_left": int(target.business_left.total_seconds()),
                "stopped_at": _iso(target.stopped_at),
                "paused": target.paused,
            }
            for name, target in sla.targets.items()
        },
        "first_reply_due": _iso(ticket.first_reply_due),
        "next_reply_due": _iso(ticket.next_reply_due),
        "resolution_due": _iso(ticket.resolution_due),
        "due_at": _iso(ticket.sla_due_at),
        "breached": ticket.sla_breached,
    }


def _ticket_data(
    session: Session, settings: Settings, number: int, *, now: datetime
) -> dict[str, Any]:
    ticket = get_ticket(session, number)
    customer = session.get(Customer, ticket.customer_id)
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    agents = {a.id: a.name for a in session.exec(select(Agent)).all()}
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    outbox = {
        item.message_row_id: item
        for item in session.exec(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id)).all()
        if item.message_row_id is not None
    }
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "channel": ticket.channel,
        "account": ticket.account,
        "tags": tags_of(session, number),
        "customer": {
            "name": customer.name if customer else "",
            "email": customer.email if customer else "",
        },
        "assignee": assignee.name if assignee else None,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "first_reply_at": _iso(ticket.first_reply_at),
        "solved_at": _iso(ticket.solved_at),
        "version": ticket.version,
        "sla": _sla_data(session, settings, ticket, now),
        "messages": [
            {
                "id": m.id,
                "direction": m.direction,
                "from": {"name": m.from_name, "email": m.from_address},
                "agent": agents.get(m.agent_id) if m.agent_id else None,
                "at": _iso(m.created_at),
                "subject": m.subject,
                "text": m.new_text or m.body_text,
                "delivery": (
                    {
                        "outbox_id": outbox[m.id].id,
                        "status": outbox[m.id].status,
                        "last_error": outbox[m.id].last_error,
                    }
                    if m.id in outbox
                    else None
                ),
            }
            for m in messages
        ],
    }


@app.command(rich_help_panel=PANEL)
def show(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="The ticket number."),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Show a ticket: its fields, SLA and the whole conversation."""
    _check_format(output, ("text", "json"))
    cli = state(ctx)
    settings = cli.settings()
    with session_scope(cli.engine()) as session:
        data = _ticket_data(session, settings, number, now=_utcnow())
    if output == "json":
        _write_json(data)
        return
    head = Text()
    head.append(f"#{data['id']} ", style="bold")
    head.append(one_line(data["subject"]), style="bold")
    console.print(head)
    customer = data["customer"]
    fields = Text()
    fields.append(_("customer: "), style="dim")
    fields.append(one_line(f"{customer['name']} <{customer['email']}>"))
    fields.append(
        "\n"
        + _("status: {status}  priority: {priority}  ").format(
            status=term(data["status"]), priority=term(data["priority"])
        ),
        style="",
    )
    fields.append(
        _("category: {category}  assignee: {assignee}").format(
            category=data["category"], assignee=data["assignee"] or "-"
        )
    )
    if data["tags"]:
        fields.append("\n" + _("tags: {tags}").format(tags=", ".join(data["tags"])))
    sla = data["sla"]
    fields.append("\n" + _("SLA ({policy}):").format(policy=sla["policy"] or _("no policy")))
    for name, target in sla["targets"].items():
        style = "red" if target["state"] in ("breached", "missed") else ""
        fields.append(f" {_(name.replace('_', ' '))} ", style="dim")
        fields.append(
            f"{term(target['state'])} {_local_iso(settings, target['due_at'])}", style=style
        )
    console.print(fields)
    for message in data["messages"]:
        console.print()
        label = {"in": N_("customer"), "out": N_("reply"), "note": N_("note")}.get(
            message["direction"], "?"
        )
        line = Text()
        line.append(f"── {_(label)} ", style="bold cyan" if label != "note" else "bold yellow")
        who = message["agent"] or message["from"]["name"] or message["from"]["email"]
        line.append(one_line(str(who or ""), limit=60))
        line.append(f"  {_local_iso(settings, message['at'])}", style="dim")
        delivery = message["delivery"]
        if delivery:
            style = "red" if delivery["status"] == "failed" else "dim"
            line.append(f"  [{term(delivery['status'])}]", style=style)
        console.print(line)
        if delivery and delivery["status"] == "failed" and delivery["last_error"]:
            console.print(Text(one_line(delivery["last_error"], limit=300), style="red"))
        console.print(Text(strip_controls(message["text"] or "")))


def _local_iso(settings: Settings, value: str | None) -> str:
    return _local(settings, datetime.fromisoformat(value)) if value else "-"


def _read_body(file: Path | None, *, initial: str = "") -> str:
    """The text from --file (``-`` is stdin), else piped stdin, else $EDITOR on a terminal."""
    if file is not None:
        if str(file) == "-":
            return sys.stdin.read()
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DeskError(
                _("cannot read {path}: {reason}").format(path=file, reason=exc)
            ) from exc
    if not sys.stdin.isatty():
        return sys.stdin.read()
    edited = click.edit(initial, extension=".md", require_save=True)
    if edited is None:
        raise DeskError(_("nothing written: the editor was closed without saving"))
    return edited


def _draft_text(session: Session, settings: Settings, number: int, kind: str) -> str:
    agent = current_agent(session, settings, now=_utcnow())
    draft = load_draft(session, ticket_id=number, agent_id=agent.id, kind=kind)
    return draft.body if draft else ""


@app.command(rich_help_panel=PANEL)
def reply(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="The ticket number."),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Read the reply from this file (- for stdin)."
    ),
    status: str | None = typer.Option(
        None, "--status", help=f"Leave the ticket {' or '.join(REPLY_STATUSES)} after replying."
    ),
    attach: list[Path] = typer.Option([], "--attach", help="Attach a file (repeatable)."),
    answer: str | None = typer.Option(
        None,
        "--answer",
        help="Start from this canned answer (its slug); on a terminal it opens in $EDITOR.",
    ),
) -> None:
    """Reply to a ticket's customer.

    The text comes from --file, from stdin when piped, or from $EDITOR (your saved
    draft, if any, is loaded). The reply is queued; it leaves after the undo window
    when `cs-console send` (or the console) drains the outbox.
    """
    cli = state(ctx)
    settings = cli.settings()
    engine = cli.engine()
    initial = ""
    attachments = _attachments(attach)
    if answer is not None:
        if file is not None:
            raise DeskError(
                _("give either {first} or {second}, not both").format(
                    first="--answer", second="--file"
                )
            )
        with session_scope(engine) as session:
            canned = canned_reply(session, settings, number, answer, now=_utcnow(), record=False)
        status = status or canned.set_status
        if sys.stdin.isatty():
            body = _read_body(None, initial=canned.text)
        elif not canned.ok:
            raise DeskError(
                _(
                    "canned answer {slug} needs values for: {fields}; "
                    "edit it on a terminal or send your own text with {option}"
                ).format(slug=repr(canned.slug), fields=", ".join(canned.missing), option="--file")
            )
        else:
            body = canned.text
    else:
        if file is None and sys.stdin.isatty():
            with session_scope(engine) as session:
                get_ticket(session, number)
                initial = _draft_text(session, settings, number, "reply")
        body = _read_body(file, initial=initial)
    now = _utcnow()
    try:
        with session_scope(engine) as session:
            result = reply_to_ticket(
                session, settings, number, body, now=now, status=status, attachments=attachments
            )
            if answer is not None:  # counted with the reply, so a reply that fails counts nothing
                agent = current_agent(session, settings, now=now)
                record_use(session, canned.slug, agent_id=agent.id, ticket_id=number, now=now)
    except CsConsoleError:
        if body.strip():
            _keep_draft(engine, settings, number, body, now=now)
        raise
    message = Text(
        _("Reply to #{number} queued (outbox item {item}). ").format(
            number=number, item=result.outbox_id
        )
    )
    if settings.outbox.undo_seconds:
        message.append(
            _("Undo within {seconds} s: cs-console unsend {item}").format(
                seconds=settings.outbox.undo_seconds, item=result.outbox_id
            ),
            style="dim",
        )
    err_console.print(message)


def _attachments(paths: list[Path]) -> list[OutgoingAttachment]:
    files: list[OutgoingAttachment] = []
    total = 0
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DeskError(
                _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)
            ) from exc
        total += len(data)
        if total > MAX_ATTACHMENTS_BYTES:
            raise DeskError(
                _("attachments above {size} MB are refused by most mail servers").format(
                    size=MAX_ATTACHMENTS_BYTES // (1024 * 1024)
                )
            )
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append(OutgoingAttachment(safe_filename(path.name), data, content_type))
    return files


def _keep_draft(engine: Any, settings: Settings, number: int, body: str, *, now: datetime) -> None:
    """A reply that could not be queued is kept as the agent's draft, never lost."""
    try:
        with session_scope(engine) as session:
            ticket = session.get(Ticket, number)
            if ticket is None:
                return
            agent = current_agent(session, settings, now=now)
            save_draft(
                session,
                ticket_id=number,
                agent_id=agent.id,
                kind="reply",
                body=body,
                now=now,
                ticket_version=ticket.version,
            )
        err_console.print(Text(_("Your text is saved as a draft for this ticket."), style="dim"))
    except CsConsoleError:
        pass


@app.command(rich_help_panel=PANEL)
def note(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="The ticket number."),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Read the note from this file (- for stdin)."
    ),
) -> None:
    """Add an internal note to a ticket (never sent to the customer)."""
    cli = state(ctx)
    settings = cli.settings()
    engine = cli.engine()
    body = _read_body(file)
    with session_scope(engine) as session:
        add_note(session, settings, number, body, now=_utcnow())
    err_console.print(Text(_("Note added to #{number}.").format(number=number)))


@app.command("set", rich_help_panel=PANEL)
def set_command(
    ctx: typer.Context,
    number: int = typer.Argument(..., help="The ticket number."),
    status: str | None = typer.Option(
        None, "--status", help="new, open, pending, on_hold, solved or closed."
    ),
    priority: str | None = typer.Option(None, "--priority", help="low, normal, high or urgent."),
    category: str | None = typer.Option(None, "--category", help="e.g. order_status, returns."),
    assign_to: str | None = typer.Option(
        None, "--assign", help="Agent name ('me' for yourself, 'nobody' to unassign)."
    ),
    tag: list[str] = typer.Option([], "--tag", help="Add a tag (repeatable)."),
    untag: list[str] = typer.Option([], "--untag", help="Remove a tag (repeatable)."),
) -> None:
    """Change a ticket's status, priority, category, assignee or tags."""
    cli = state(ctx)
    settings = cli.settings()
    now = _utcnow()
    changed: list[str] = []
    with session_scope(cli.engine()) as session:
        ticket = get_ticket(session, number)
        me = current_agent(session, settings, now=now)
        if status is not None and set_status(session, ticket, status, now=now, agent_id=me.id):
            changed.append(_("status {status}").format(status=term(status)))
        if priority is not None and set_priority(
            session, ticket, priority, now=now, agent_id=me.id
        ):
            changed.append(_("priority {priority}").format(priority=term(priority)))
        if category is not None and set_category(
            session, ticket, category, now=now, agent_id=me.id
        ):
            changed.append(_("category {category}").format(category=ticket.category))
        if assign_to is not None:
            target = _agent_named(session, assign_to, me=me, now=now)
            if assign(session, ticket, target, now=now, agent_id=me.id):
                changed.append(
                    _("assigned to {agent}").format(agent=target.name if target else _("nobody"))
                )
        for name in tag:
            if add_tag(session, ticket, name, now=now, agent_id=me.id):
                changed.append(f"+{name}")
        for name in untag:
            if remove_tag(session, ticket, name, now=now, agent_id=me.id):
                changed.append(f"-{name}")
        if changed:
            TicketClock(settings).refresh(session, ticket, now=now)
    summary = ", ".join(changed) if changed else _("nothing to change")
    err_console.print(Text(_("#{number}: {changes}.").format(number=number, changes=summary)))


def _agent_named(session: Session, name: str, *, me: Agent, now: datetime) -> Agent | None:
    cleaned = name.strip()
    if cleaned.lower() == "me":
        return me
    if cleaned.lower() in ("nobody", "none", ""):
        return None
    agent = session.exec(select(Agent).where(Agent.name == cleaned)).first()
    if agent is None:
        known = ", ".join(session.exec(select(Agent.name).order_by(col(Agent.name))).all())
        raise DeskError(
            _(
                "no agent named {name} (known: {known}); an agent is known "
                "once they have used cs-console with that {section} name"
            ).format(name=repr(cleaned), known=known or _("none"), section="[agent]")
        )
    return agent
