"""Proactive outreach: one message to each customer on a list, each as its own ticket.

When a known problem hits many orders (a late carrier, a recalled product),
the shop writes first. The list is a CSV with an ``email`` column, optionally
``name``, and any other columns (``order_number``...) that the canned answer
uses as ``{{ variables }}``.

- Every row is checked first: a bad address or a variable with no value stops
  that row, with its line number; the other rows go on.
- Each message becomes a new ticket (channel ``outreach``, status ``pending``,
  tagged with the campaign tag), with the message in its conversation and in
  the outbox (kind ``outreach``), in one transaction per row.
- Re-running the same list is safe: a customer who already has a ticket with
  the campaign tag is skipped.
- Rate limiting spreads the outbox's ``not_before`` times (``per_minute``), so
  ``cs-console send`` delivers them at that pace without anything waiting.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cs_console.desk.canned import CannedAnswer, parse_answer, render, starter_answers
from cs_console.desk.tickets import (
    create_ticket,
    get_or_create_customer,
    normalize_address,
    normalize_tag,
    record_event,
    set_status,
)
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.store.engine import session_scope
from cs_console.store.models import CannedAnswerRow, Customer, Ticket, TicketTag
from cs_console.textsafe import one_line, strip_controls

if TYPE_CHECKING:
    from cs_console.config import Settings

__all__ = [
    "OutreachMessage",
    "OutreachProblem",
    "OutreachReport",
    "Recipient",
    "load_template",
    "prepare_messages",
    "queue_outreach",
    "read_recipients",
    "run_outreach",
]

_EMAIL_COLUMNS = ("email", "e-mail", "correo", "mail", "email_address")
_NAME_COLUMNS = ("name", "nombre", "customer_name")
_ADDRESS = re.compile(
    r"^[^@\s<>,;\"()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MAX_ROWS = 100_000


@dataclass(frozen=True)
class Recipient:
    """One row of the list."""

    line: int
    email: str
    name: str
    variables: dict[str, str]


@dataclass(frozen=True)
class OutreachProblem:
    """A row that was not sent, and why."""

    line: int
    email: str
    message: str


@dataclass(frozen=True)
class OutreachMessage:
    """A message for one recipient: rendered for preview, and what renders it for real.

    The preview shows ``?`` for the ticket number, which exists only once the
    ticket is opened; :func:`queue_outreach` renders the templates again, in
    one pass, with it.
    """

    recipient: Recipient
    subject: str
    body: str
    subject_template: str = ""
    body_template: str = ""
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class OutreachReport:
    """What a run did (or, for a dry run, would do)."""

    messages: list[OutreachMessage] = field(default_factory=list)
    queued: list[tuple[int, str, int]] = field(default_factory=list)  # line, email, ticket
    skipped: list[OutreachProblem] = field(default_factory=list)
    problems: list[OutreachProblem] = field(default_factory=list)


def _column(name: str) -> str:
    return "_".join(name.strip().lower().split())


def read_recipients(text: str) -> tuple[list[Recipient], list[OutreachProblem]]:
    """Parse the CSV list (comma or semicolon separated, with a header row).

    Raises:
        DeskError: no header, or no email column.
    """
    text = text.lstrip("\ufeff")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise DeskError(
            _("the list is empty: it needs a header row with an {column} column").format(
                column="'email'"
            )
        )
    columns = [_column(h) for h in header]
    email_at = next((columns.index(c) for c in _EMAIL_COLUMNS if c in columns), None)
    if email_at is None:
        raise DeskError(
            _("the list has no email column (columns: {columns})").format(
                columns=", ".join(columns)
            )
        )
    name_at = next((columns.index(c) for c in _NAME_COLUMNS if c in columns), None)
    rows: list[Recipient] = []
    problems: list[OutreachProblem] = []
    seen: dict[str, int] = {}
    for values in _rows(reader):
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(problems) >= _MAX_ROWS:
            raise DeskError(
                _("the list has more than {count} rows; split it").format(count=_MAX_ROWS)
            )
        cells = [one_line(strip_controls(v)) for v in values]
        cells += [""] * (len(columns) - len(cells))
        email = normalize_address(cells[email_at])
        if not _ADDRESS.match(email) or len(email) > 320:
            problems.append(OutreachProblem(line, email, f"{email!r} is not an email address"))
            continue
        if email in seen:
            problems.append(
                OutreachProblem(line, email, f"listed twice (first on line {seen[email]})")
            )
            continue
        seen[email] = line
        name = cells[name_at] if name_at is not None else ""
        variables = {c: v for c, v in zip(columns, cells, strict=False) if c}
        variables.setdefault("customer_name", name)
        variables.setdefault("customer_first_name", name.split(" ")[0] if name else "")
        rows.append(Recipient(line, email, name, variables))
    return rows, problems


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = getattr(reader, "line_num", "?")
            raise DeskError(
                _("the list is not valid CSV near line {line}: {reason}").format(
                    line=where, reason=exc
                )
            ) from None
        yield values


def load_template(session: Session, name: str) -> CannedAnswer:
    """The canned answer ``name``: a stored one by slug, a starter one, or a ``.md`` file.

    Raises:
        DeskError: nothing by that name.
    """
    row = session.exec(select(CannedAnswerRow).where(CannedAnswerRow.slug == name)).first()
    if row is not None:
        return CannedAnswer(
            slug=row.slug,
            title=row.title,
            language=row.language,
            category=row.category,
            body=row.body,
        )
    for answer in starter_answers():
        if answer.slug == name:
            return answer
    path = Path(name).expanduser()
    if path.suffix == ".md" and path.is_file():
        return parse_answer(path.read_text(encoding="utf-8"), slug=path.stem, source=str(path))
    raise DeskError(
        _("there is no canned answer {name} (a slug, or a path to a .md file)").format(
            name=repr(name)
        )
    )


def prepare_messages(
    recipients: Iterable[Recipient],
    *,
    subject: str,
    body: str,
    shop_name: str,
    agent_name: str = "",
) -> tuple[list[OutreachMessage], list[OutreachProblem]]:
    """Render the subject and body for every recipient; a row with a gap is a problem."""
    messages: list[OutreachMessage] = []
    problems: list[OutreachProblem] = []
    for recipient in recipients:
        values = {
            "shop_name": shop_name,
            "agent_name": agent_name,
            **recipient.variables,
            "ticket_number": "?",  # known once the ticket exists
        }
        rendered_subject = render(subject, values)
        rendered_body = render(body, values)
        gaps = list(
            dict.fromkeys(
                [
                    *rendered_subject.missing,
                    *rendered_subject.unknown,
                    *rendered_body.missing,
                    *rendered_body.unknown,
                ]
            )
        )
        if gaps:
            problems.append(
                OutreachProblem(recipient.line, recipient.email, f"no value for {', '.join(gaps)}")
            )
            continue
        messages.append(
            OutreachMessage(
                recipient,
                one_line(rendered_subject.text),
                rendered_body.text,
                subject_template=subject,
                body_template=body,
                values=values,
            )
        )
    return messages, problems


def _contacted(session: Session, email: str, tag: str) -> bool:
    found = session.exec(
        select(Ticket.id)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .join(TicketTag, col(TicketTag.ticket_id) == col(Ticket.id))
        .where(Customer.email == email, TicketTag.tag == tag)
        .limit(1)
    ).first()
    return found is not None


def queue_outreach(
    session: Session,
    settings: Settings,
    message: OutreachMessage,
    *,
    now: datetime,
    delay: timedelta = timedelta(0),
    tag: str,
    category: str = "other",
) -> int | None:
    """Open the ticket and queue the message of one recipient, in the caller's transaction.

    Returns the ticket number, or None when the customer is blocked or was
    already contacted in this campaign (``tag``).
    """
    from cs_console.desk.replies import current_agent, record_outgoing
    from cs_console.mail.compose import (
        AUTO_GENERATED,
        compose_message,
        make_message_id,
        message_domain,
        ticket_token,
    )
    from cs_console.mail.compose import (
        Recipient as MailRecipient,
    )

    if not settings.accounts:
        raise DeskError(_("no mail account is configured: add one with `cs-console init`"))
    account = settings.accounts[0]
    email = message.recipient.email
    existing = session.exec(select(Customer).where(Customer.email == email)).first()
    if existing is not None and existing.blocked:
        return None
    if _contacted(session, email, tag):
        return None
    agent = current_agent(session, settings, now=now)
    customer = get_or_create_customer(session, email, name=message.recipient.name, now=now)
    ticket = create_ticket(
        session,
        customer=customer,
        subject=message.subject,
        now=now,
        channel="outreach",
        category=category,
        account=account.name,
        assignee_id=agent.id,
        tags=[tag, "outreach"] if tag != "outreach" else [tag],
    )
    assert ticket.id is not None
    values = {**message.values, "ticket_number": str(ticket.id)}
    body = render(message.body_template or message.body, values).text
    plain_subject = one_line(render(message.subject_template or message.subject, values).text)
    ticket.subject = plain_subject
    subject = f"{plain_subject} {ticket_token(ticket.id)}"
    from_name = account.display_name or settings.shop.name
    mid = make_message_id(message_domain(account.address))
    mail = compose_message(
        from_address=account.address,
        from_name=from_name,
        to=[MailRecipient(email, message.recipient.name)],
        subject=subject,
        body=body,
        message_id=mid,
        date=now,
        auto_submitted=AUTO_GENERATED,
        html=account.html_replies,
    )
    record_outgoing(
        session,
        ticket,
        mail,
        account=account,
        agent=agent,
        from_name=from_name,
        to_address=email,
        body=body,
        now=now,
        kind="outreach",
        delay=delay,
    )
    set_status(session, ticket, "pending", now=now, agent_id=agent.id)
    record_event(session, ticket, "outreach", now=now, agent_id=agent.id, new=tag)
    session.flush()
    return ticket.id


def run_outreach(
    engine: Engine,
    settings: Settings,
    *,
    csv_text: str,
    answer: str,
    now: datetime,
    per_minute: float = 30.0,
    dry_run: bool = False,
    tag: str | None = None,
    subject: str | None = None,
    category: str | None = None,
) -> OutreachReport:
    """Check the list, render every message and (unless ``dry_run``) queue them.

    Each row is its own transaction: a row that fails is reported and the rest go on.

    Raises:
        DeskError: the list or the answer cannot be used at all.
    """
    from cs_console.errors import CsConsoleError

    if per_minute <= 0:
        raise DeskError(_("{option} must be more than zero").format(option="--per-minute"))
    recipients, problems = read_recipients(csv_text)
    with session_scope(engine) as session:
        template = load_template(session, answer)
    campaign = normalize_tag(tag or f"outreach-{template.slug}"[:64])
    report = OutreachReport(problems=list(problems))
    messages, gaps = prepare_messages(
        recipients,
        subject=subject or template.title,
        body=template.body,
        shop_name=settings.shop.name,
        agent_name=settings.agent.display_name or settings.agent.name,
    )
    report.problems.extend(gaps)
    report.problems.sort(key=lambda p: p.line)
    report.messages = messages
    if dry_run:
        return report
    interval = timedelta(seconds=60.0 / per_minute)
    sent = 0
    for message in messages:
        try:
            with session_scope(engine) as session:
                ticket_id = queue_outreach(
                    session,
                    settings,
                    message,
                    now=now,
                    delay=interval * sent,
                    tag=campaign,
                    category=category or template.category,
                )
        except CsConsoleError as exc:
            report.problems.append(
                OutreachProblem(message.recipient.line, message.recipient.email, exc.message)
            )
            continue
        if ticket_id is None:
            report.skipped.append(
                OutreachProblem(
                    message.recipient.line,
                    message.recipient.email,
                    "blocked, or already contacted in this campaign",
                )
            )
            continue
        report.queued.append((message.recipient.line, message.recipient.email, ticket_id))
        sent += 1
    return report
