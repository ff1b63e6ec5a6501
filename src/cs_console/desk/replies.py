"""Replying to a ticket and writing internal notes: what the console and the CLI both call.

A reply is one transaction: the outgoing message joins the conversation, the
outbox gets the composed mail (sent after the undo window), the ticket's
reply times move (the SLA's first-reply and next-reply clocks stop when the
outbox accepts the reply, not when the SMTP server does), an optional status
change is applied, and the agent's draft is cleared.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlmodel import Session, col, select

from cs_console.config import AccountSettings, Settings
from cs_console.desk.canned import CannedAnswer, render, starter_answers
from cs_console.desk.canned.store import answers_for, ensure_library, record_use
from cs_console.desk.canned.variables import ticket_variables
from cs_console.desk.drafts import discard_draft
from cs_console.desk.outbox import queue_message
from cs_console.desk.ticket_sla import TicketClock
from cs_console.desk.tickets import (
    add_message,
    get_or_create_agent,
    get_ticket,
    record_event,
    set_status,
)
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.mail.compose import (
    OutgoingAttachment,
    Recipient,
    bracketed_ids,
    build_references,
    compose_message,
    make_message_id,
    message_domain,
    reply_subject,
)
from cs_console.store.models import (
    Agent,
    Customer,
    Direction,
    Message,
    OutboxItem,
    Status,
    Ticket,
)

__all__ = [
    "REPLY_STATUSES",
    "CannedReply",
    "ReplyResult",
    "ThreadHeaders",
    "account_for",
    "add_note",
    "canned_reply",
    "current_agent",
    "record_outgoing",
    "reply_to_ticket",
    "thread_headers",
]

#: Statuses a reply may leave the ticket in.
REPLY_STATUSES = (
    Status.OPEN.value,
    Status.PENDING.value,
    Status.ON_HOLD.value,
    Status.SOLVED.value,
)


@dataclass(frozen=True)
class ReplyResult:
    """A queued reply: where it is, and until when it can be undone."""

    ticket_id: int
    message_row_id: int
    outbox_id: int
    message_id: str
    undo_until: datetime


@dataclass(frozen=True)
class ThreadHeaders:
    """Who to answer and how to thread (ids in header form, ``<id>``): from the conversation."""

    to_address: str
    to_name: str
    in_reply_to: str | None
    references: list[str]


def current_agent(session: Session, settings: Settings, *, now: datetime) -> Agent:
    """The Agent row of whoever uses this console (``[agent] name``), created on first use."""
    agent = get_or_create_agent(
        session, settings.agent.name, now=now, display_name=settings.agent.display_name
    )
    if settings.agent.email and not agent.email:
        agent.email = settings.agent.email
        session.add(agent)
    return agent


def account_for(settings: Settings, ticket: Ticket) -> AccountSettings:
    """The account a ticket's replies leave from: the one it came in on, else the first.

    A workspace with no account whose mail goes to ``deliver_to_folder`` (the
    demo) gets a stand-in account named after the ticket's.

    Raises:
        DeskError: no account is configured.
    """
    if ticket.account:
        for account in settings.accounts:
            if account.name == ticket.account:
                return account
    if settings.accounts:
        return settings.accounts[0]
    if settings.outbox.deliver_to_folder is not None:
        return _folder_account(settings, ticket.account or "local")
    raise DeskError(_("no mail account is configured: add one with `cs-console init`"))


def _folder_account(settings: Settings, name: str) -> AccountSettings:
    """A stand-in account when mail only goes to ``deliver_to_folder`` (the demo)."""
    slug = "-".join(re.findall(r"[a-z0-9]+", settings.shop.name.lower())) or "shop"
    address = settings.agent.email or f"hola@{slug[:40]}.example"
    return AccountSettings(
        name=name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name) else "local",
        address=address,
        imap_host="localhost",
        username=address,
    )


def thread_headers(session: Session, ticket: Ticket, customer: Customer) -> ThreadHeaders:
    """Answer the customer's latest message; thread on it and the chain before it."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id)
        .where(Message.direction != Direction.NOTE.value)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    latest_in = next((m for m in reversed(messages) if m.direction == Direction.IN.value), None)
    parent = next(
        (m for m in [latest_in, *reversed(messages)] if m is not None and m.message_id), None
    )
    references: list[str] = []
    in_reply_to: str | None = None
    if parent is not None:
        parent_ids = bracketed_ids(parent.message_id)
        in_reply_to = parent_ids[0] if parent_ids else None
        references = build_references(parent.message_id, [parent.references or ""])
    to_address = latest_in.from_address if latest_in and latest_in.from_address else customer.email
    to_name = latest_in.from_name if latest_in and latest_in.from_name else customer.name
    return ThreadHeaders(to_address, to_name, in_reply_to, references)


def reply_to_ticket(
    session: Session,
    settings: Settings,
    number: int,
    body: str,
    *,
    now: datetime,
    status: str | None = None,
    attachments: Sequence[OutgoingAttachment] = (),
    expected_version: int | None = None,
    agent: Agent | None = None,
    message_id: str | None = None,
    clock: TicketClock | None = None,
) -> ReplyResult:
    """Queue a reply to ticket ``number`` in the caller's transaction.

    Args:
        settings: Accounts, shop name and the undo window.
        number: The ticket.
        body: The text the agent wrote (Markdown-ish; rendered to HTML where enabled).
        now: The time of the reply; also when the SLA reply clocks stop.
        status: Leave the ticket in this status (``pending``, ``solved``...); by
            default a ``new`` ticket becomes ``open`` and others keep theirs.
        attachments: Files to attach.
        expected_version: The ticket version the agent saw; refuse if it changed.
        agent: Who replies; default the console's agent.
        message_id: A fixed Message-ID (tests); default a new one.
        clock: The workspace's SLA clock (built from ``settings`` when not given);
            the ticket's cached SLA columns are refreshed with it.

    Raises:
        DeskError: unknown ticket, empty body, a changed ticket, or no account.
    """
    if not body.strip():
        raise DeskError(_("the reply is empty"))
    if status is not None and status not in REPLY_STATUSES:
        raise DeskError(
            _("a reply cannot set status {status}; use one of {choices}").format(
                status=repr(status), choices=", ".join(REPLY_STATUSES)
            )
        )
    ticket = get_ticket(session, number)
    if expected_version is not None and ticket.version != expected_version:
        raise DeskError(
            _(
                "ticket #{number} changed while you were writing; read it again before replying"
            ).format(number=number)
        )
    agent = agent or current_agent(session, settings, now=now)
    customer = session.get(Customer, ticket.customer_id)
    if customer is None:
        raise DeskError(_("ticket #{number} has no customer").format(number=number))
    account = account_for(settings, ticket)
    thread = thread_headers(session, ticket, customer)
    subject = reply_subject(ticket.subject, ticket.id)
    from_name = account.display_name or settings.shop.name
    mid = message_id or make_message_id(message_domain(account.address))
    mail = compose_message(
        from_address=account.address,
        from_name=from_name,
        to=[Recipient(thread.to_address, thread.to_name)],
        subject=subject,
        body=body,
        message_id=mid,
        date=now,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
        html=account.html_replies,
        attachments=attachments,
    )
    row, item = record_outgoing(
        session,
        ticket,
        mail,
        account=account,
        agent=agent,
        from_name=from_name,
        to_address=thread.to_address,
        body=body,
        now=now,
        kind="reply",
        delay=timedelta(seconds=settings.outbox.undo_seconds),
        in_reply_to=thread.in_reply_to,
        references=thread.references,
    )
    target = status or (Status.OPEN.value if ticket.status == Status.NEW.value else None)
    if target is not None:
        set_status(session, ticket, target, now=now, agent_id=agent.id)
    record_event(session, ticket, "reply", now=now, agent_id=agent.id, detail=item.message_id)
    assert ticket.id is not None and row.id is not None and item.id is not None
    discard_draft(session, ticket_id=ticket.id, agent_id=agent.id, kind="reply")
    (clock or TicketClock(settings)).refresh(session, ticket, now=now)
    session.flush()
    return ReplyResult(
        ticket_id=ticket.id,
        message_row_id=row.id,
        outbox_id=item.id,
        message_id=item.message_id,
        undo_until=item.not_before,
    )


def add_note(
    session: Session,
    settings: Settings,
    number: int,
    body: str,
    *,
    now: datetime,
    agent: Agent | None = None,
) -> Message:
    """Add an internal note (never sent; does not stop any SLA clock).

    Raises:
        DeskError: unknown ticket or empty note.
    """
    if not body.strip():
        raise DeskError(_("the note is empty"))
    ticket = get_ticket(session, number)
    agent = agent or current_agent(session, settings, now=now)
    unread = ticket.unread
    note = add_message(
        session,
        ticket,
        direction=Direction.NOTE.value,
        now=now,
        agent_id=agent.id,
        from_name=agent.display_name or agent.name,
        body_text=body,
        new_text=body,
    )
    ticket.unread = unread
    record_event(session, ticket, "note", now=now, agent_id=agent.id)
    assert ticket.id is not None
    discard_draft(session, ticket_id=ticket.id, agent_id=agent.id, kind="note")
    session.flush()
    return note


@dataclass(frozen=True)
class CannedReply:
    """A canned answer filled in for one ticket."""

    slug: str
    text: str
    missing: tuple[str, ...]
    set_status: str | None

    @property
    def ok(self) -> bool:
        """True when every variable got a value: the text can be sent as it is."""
        return not self.missing


def canned_reply(
    session: Session,
    settings: Settings,
    number: int,
    slug: str,
    *,
    now: datetime,
    answers: Sequence[CannedAnswer] | None = None,
    agent: Agent | None = None,
    record: bool = True,
) -> CannedReply:
    """Fill canned answer ``slug`` for ticket ``number`` and count its use.

    The answer comes from ``answers`` when given, else from the shop's library
    in the database (imported from the folder on first use), else from the
    starter set (both languages).

    Args:
        now: When the answer is used: the template's time-dependent values and
            the recorded use take it.
        agent: Who uses it; default the console's agent.
        record: Count the use (``canned_answer_use``); callers that count it
            when the reply is sent pass False.

    Raises:
        DeskError: unknown ticket or unknown answer.
    """
    ticket = get_ticket(session, number)
    if answers is not None:
        library = list(answers)
    else:
        ensure_library(session, settings, now=now)
        library = [*answers_for(session), *starter_answers()]
    wanted = slug.strip().casefold()
    answer = next((a for a in library if a.slug == wanted), None) or next(
        (a for a in library if a.title.casefold() == wanted), None
    )
    if answer is None:
        known = ", ".join(sorted({a.slug for a in library}))
        raise DeskError(
            _("no canned answer {slug}; known: {known}").format(slug=repr(slug), known=known)
        )
    agent = agent or current_agent(session, settings, now=now)
    variables = ticket_variables(
        session, settings, ticket, agent=agent, now=now, language=answer.language
    )
    rendered = render(answer.body, variables)
    if record:
        record_use(
            session, answer.slug, agent_id=agent.id, ticket_id=ticket.id, now=now, answer=answer
        )
    return CannedReply(
        slug=answer.slug,
        text=rendered.text,
        missing=(*rendered.missing, *rendered.unknown),
        set_status=answer.set_status,
    )


def record_outgoing(
    session: Session,
    ticket: Ticket,
    mail: EmailMessage,
    *,
    account: AccountSettings,
    agent: Agent,
    from_name: str,
    to_address: str,
    body: str,
    now: datetime,
    kind: str,
    delay: timedelta,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
) -> tuple[Message, OutboxItem]:
    """Store a composed message on its ticket and queue it, in the caller's transaction.

    Replies and outreach both leave this way, so the conversation row and the
    outbox item always agree (ids stored without angle brackets, as ingest
    stores and looks them up).
    """
    row = add_message(
        session,
        ticket,
        direction=Direction.OUT.value,
        now=now,
        agent_id=agent.id,
        from_name=from_name,
        from_address=account.address,
        to_addresses=to_address,
        subject=str(mail["Subject"] or ""),
        sent_at=now,
        message_id=_bare(str(mail["Message-ID"])),
        in_reply_to=_bare(in_reply_to) or None,
        references=" ".join(_bare(r) for r in references) or None,
        body_text=body,
        new_text=body,
    )
    item = queue_message(
        session,
        mail,
        account=account.name,
        now=now,
        kind=kind,
        delay=delay,
        ticket_id=ticket.id,
        message_row_id=row.id,
        agent_id=agent.id,
    )
    ticket.unread = False
    return row, item


def _bare(message_id: str | None) -> str:
    """Ids are stored without angle brackets, as the parser gives them."""
    return (message_id or "").strip().strip("<>")
