"""``cs-console enqueue``: put a message from any channel into the queue."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import typer
from rich.text import Text

from cs_console.cli.app import app, console, state
from cs_console.desk.ingest import IngestConfig, IngestResult, ingest_contact, ingest_raw
from cs_console.errors import CsConsoleError
from cs_console.i18n import N_, _
from cs_console.store.engine import session_scope


class EnqueueError(CsConsoleError):
    """The input of ``enqueue`` is unusable."""

    title = N_("Cannot enqueue")


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 time; without a zone it is taken as UTC."""
    if value is None or value == "":
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise EnqueueError(
            _("{value} is not a time like 2026-11-24T09:15:00+01:00").format(value=repr(value))
        ) from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _from_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnqueueError(_("stdin is not valid JSON: {error}").format(error=exc)) from exc
    if not isinstance(data, dict):
        raise EnqueueError(_("the JSON on stdin must be an object with email, body, ..."))
    allowed = {"email", "name", "subject", "body", "channel", "ticket", "received_at"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise EnqueueError(
            _("unknown JSON keys: {unknown} (use {allowed})").format(
                unknown=", ".join(unknown), allowed=", ".join(sorted(allowed))
            )
        )
    return data


@app.command(rich_help_panel="Mail")
def enqueue(
    ctx: typer.Context,
    email: str | None = typer.Option(None, "--email", help="The customer's address."),
    name: str | None = typer.Option(None, "--name", help="The customer's name."),
    subject: str | None = typer.Option(None, "--subject"),
    body: str | None = typer.Option(None, "--body", help="The message (default: JSON on stdin)."),
    channel: str = typer.Option("web", "--channel", help="Where it came from: web, chat, phone..."),
    ticket: int | None = typer.Option(None, "--ticket", help="Add to this ticket (same customer)."),
    received_at: str | None = typer.Option(
        None, "--received-at", help="When the customer wrote (ISO 8601; default now)."
    ),
    raw: bool = typer.Option(False, "--raw", help="Read an RFC 822 email on stdin."),
    account: str | None = typer.Option(None, "--account", help="Account for replies."),
) -> None:
    """Create a ticket, or add to one, from another channel.

    From flags (--email --body ...), from a JSON object on stdin
    ({"email", "name", "subject", "body", "channel", "ticket", "received_at"}),
    or with --raw from an email on stdin (a mail server's pipe, a Maildir
    import), which goes through the same parsing, de-duplication and
    threading as IMAP mail.
    """
    cli = state(ctx)
    settings = cli.settings()
    if account is not None:
        settings.account(account)
    config = IngestConfig.from_settings(settings)
    now = datetime.now(UTC)
    engine = cli.engine()
    if raw:
        data = sys.stdin.buffer.read()
        if not data.strip():
            raise EnqueueError(
                _("stdin is empty; pipe an email into {command}").format(
                    command="`cs-console enqueue --raw`"
                )
            )
        with session_scope(engine) as session:
            result = ingest_raw(
                session,
                data,
                config=config,
                now=now,
                account=account,
                channel=channel if channel != "web" else "email",
                received_at=parse_when(received_at) or now,
            )
        _report(result)
        return
    fields: dict[str, Any] = {}
    if email is None and body is None:
        fields = _from_json(sys.stdin.read())
    given = {
        "email": email,
        "name": name,
        "subject": subject,
        "body": body,
        "ticket": ticket,
        "received_at": received_at,
    }
    fields.update({k: v for k, v in given.items() if v is not None})
    fields.setdefault("channel", channel)
    if not fields.get("email"):
        raise EnqueueError(_('give the customer\'s address with --email (or "email" in the JSON)'))
    if not str(fields.get("body") or "").strip():
        raise EnqueueError(_('the message is empty: give --body (or "body" in the JSON)'))
    number = fields.get("ticket")
    if number is not None and not isinstance(number, int):
        try:
            number = int(str(number).lstrip("#"))
        except ValueError as exc:
            raise EnqueueError(
                _("{value} is not a ticket number").format(value=repr(number))
            ) from exc
    with session_scope(engine) as session:
        result = ingest_contact(
            session,
            config=config,
            now=now,
            email=str(fields["email"]),
            name=str(fields.get("name") or ""),
            subject=str(fields.get("subject") or ""),
            body=str(fields["body"]),
            channel=str(fields.get("channel") or "web"),
            ticket_number=number,
            received_at=parse_when(fields.get("received_at")),
            account=account,
        )
    _report(result)


def _report(result: IngestResult) -> None:
    words = {
        "new_ticket": N_("new ticket"),
        "follow_up": N_("new follow-up ticket"),
        "appended": N_("added to ticket"),
        "reopened": N_("added to and reopened ticket"),
        "duplicate": N_("already in ticket"),
        "own": N_("our own mail, not enqueued"),
        "quarantined": N_("kept with errors in ticket"),
    }
    line = _(words[result.outcome]) if result.outcome in words else result.outcome
    if result.ticket_id is not None:
        line += f" #{result.ticket_id}"
    console.print(Text(line))
    for warning in result.warnings:
        console.print(Text(_("warning: {warning}").format(warning=warning)))
