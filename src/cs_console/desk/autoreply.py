"""Acknowledgements: the automatic "we got your message" reply, and its out-of-hours text.

Written to the outbox as ``OutboxItem(kind="auto_reply")`` with a complete RFC
822 message carrying ``Auto-Submitted: auto-replied`` (RFC 3834); the sender
sends it. Never sent to an automated message (auto-replies, bounces, lists,
bulk: :func:`cs_console.mail.automation.classify_automated`), to our own
addresses, to a blocked customer, to old mail found on a first sync, nor more
than once per customer per ``period``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlmodel import Session, col, select

from cs_console.desk.autoreply_settings import AutoReplySettings, AutoReplyTexts
from cs_console.desk.sla.calendar import BusinessCalendar, CalendarSet
from cs_console.desk.sla.policy import match_policy
from cs_console.desk.sla.settings import SlaSettings
from cs_console.desk.threading import subject_with_token
from cs_console.store.models import Customer, OutboxItem, OutboxStatus, Ticket

__all__ = [
    "Acknowledgement",
    "AutoReplySettings",
    "AutoReplyTexts",
    "build_acknowledgement",
    "expected_answer",
    "recently_acknowledged",
]

_ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
_ES_MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Acknowledgement:
    """A built acknowledgement, ready to become an outbox row."""

    message_id: str  # without angle brackets
    mail_from: str
    rcpt_to: str
    raw: bytes
    out_of_hours: bool
    expected: datetime


def expected_answer(
    sla: SlaSettings,
    calendars: CalendarSet,
    *,
    priority: str,
    category: str,
    channel: str,
    tags: list[str],
    received_at: datetime,
) -> datetime | None:
    """When the first reply is due under the matching SLA policy (business time), or None."""
    policy = match_policy(
        sla.policies, priority=priority, category=category, channel=channel, tags=tags
    )
    if policy is None or policy.first_reply is None:
        return None
    calendar = calendars.for_policy(policy)
    return calendar.add_business_time(received_at, calendar.target_time(policy.first_reply))


def describe_time(at: datetime, *, zone: object, language: str) -> str:
    """'before Tuesday 24 November, 14:30' in the shop's zone and the customer's language."""
    local = at.astimezone(zone)  # type: ignore[arg-type]
    clock = local.strftime("%H:%M")
    if language == "es":
        day = f"{_ES_DAYS[local.weekday()]} {local.day} de {_ES_MONTHS[local.month - 1]}"
        return f"antes del {day} a las {clock}"
    day = f"{_EN_DAYS[local.weekday()]} {local.day} {_EN_MONTHS[local.month - 1]}"
    return f"by {day}, {clock}"


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def recently_acknowledged(session: Session, customer_id: int, *, since: datetime) -> bool:
    """Whether an acknowledgement went (or waits to go) to this customer since ``since``."""
    row = session.exec(
        select(OutboxItem.id)
        .join(Ticket, col(Ticket.id) == col(OutboxItem.ticket_id))
        .where(
            OutboxItem.kind == "auto_reply",
            Ticket.customer_id == customer_id,
            col(OutboxItem.created_at) >= since,
            OutboxItem.status != OutboxStatus.CANCELLED.value,
        )
        .limit(1)
    ).first()
    return row is not None


def build_acknowledgement(
    *,
    settings: AutoReplySettings,
    ticket: Ticket,
    customer: Customer,
    shop_name: str,
    from_address: str,
    from_name: str | None,
    language: str,
    expected: datetime | None,
    business: BusinessCalendar,
    received_at: datetime,
    now: datetime,
    in_reply_to: str | None,
    references: list[str],
    original_subject: str,
) -> Acknowledgement:
    """The acknowledgement e-mail for a new ticket (not yet stored)."""
    assert ticket.id is not None
    texts = settings.texts(language)
    closed = settings.out_of_hours and not business.is_open(received_at)
    if expected is not None:
        when = describe_time(expected, zone=business.zone, language=language)
    else:
        when = "lo antes posible" if language == "es" else "as soon as we can"
    values = _Blank(
        ticket=str(ticket.id),
        name=customer.name or ("" if language == "es" else "there"),
        shop=shop_name,
        expected=when,
        subject=original_subject,
    )
    body = (texts.out_of_hours if closed else texts.acknowledgement).format_map(values)
    subject = subject_with_token(texts.subject.format_map(values), ticket.id)
    domain = from_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=f"ack{ticket.id}", domain=domain)
    msg = EmailMessage()
    msg["From"] = formataddr((from_name or shop_name, from_address))
    msg["To"] = formataddr((customer.name, customer.email))
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        refs = [*references, in_reply_to]
        msg["References"] = " ".join(f"<{r}>" for r in dict.fromkeys(refs))
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = language
    msg.set_content(body)
    return Acknowledgement(
        message_id=message_id.strip("<>"),
        mail_from=from_address,
        rcpt_to=customer.email,
        raw=msg.as_bytes(),
        out_of_hours=closed,
        expected=expected or now,
    )


def enqueue_acknowledgement(
    session: Session, ack: Acknowledgement, *, ticket: Ticket, account: str, now: datetime
) -> OutboxItem:
    """Store the acknowledgement as an outbox row, due now."""
    item = OutboxItem(
        ticket_id=ticket.id,
        account=account,
        kind="auto_reply",
        message_id=ack.message_id,
        mail_from=ack.mail_from,
        rcpt_to=json.dumps([ack.rcpt_to]),
        raw=ack.raw,
        status=OutboxStatus.QUEUED.value,
        created_at=now,
        not_before=now,
    )
    session.add(item)
    return item
