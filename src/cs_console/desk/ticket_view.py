"""A ticket as the console shows it: the conversation, the customer and their history.

Everything is loaded in one session into plain frozen dataclasses, so a surface
can hold it after the session closed and never triggers a lazy load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.store.models import (
    Agent,
    Attachment,
    Customer,
    Message,
    MessageBodyPending,
    Status,
    Ticket,
    TicketTag,
)

__all__ = [
    "AttachmentInfo",
    "CustomerInfo",
    "MessageInfo",
    "PastTicket",
    "SlaTarget",
    "TicketView",
    "load_ticket_view",
    "mark_read",
    "mark_spam",
    "merge_ticket",
    "neighbour_ids",
]


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class MessageInfo:
    id: int
    direction: str  # in, out, note
    author: str
    from_address: str
    created_at: datetime
    subject: str
    new_text: str
    quoted_text: str
    signature: str
    automated: bool
    attachments: tuple[AttachmentInfo, ...]
    body_pending: bool = False  # recorded from its headers; a sync is reading the body


@dataclass(frozen=True, slots=True)
class PastTicket:
    """Another ticket of the same customer, and how it went."""

    id: int
    subject: str
    status: str
    created_at: datetime
    solved_at: datetime | None
    first_reply_time: timedelta | None
    resolution_time: timedelta | None


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    id: int
    name: str
    email: str
    blocked: bool
    since: datetime
    other_tickets: tuple[PastTicket, ...]

    @property
    def first_name(self) -> str:
        """The first word of the name; the local part of the address without one."""
        words = self.name.split()
        if words:
            return words[0]
        return ""


@dataclass(frozen=True, slots=True)
class SlaTarget:
    """A running SLA target of the ticket (from the cached due times)."""

    name: str  # first_reply, next_reply, resolution
    due_at: datetime


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    subject: str
    status: str
    priority: str
    category: str
    language: str | None
    account: str | None
    assignee: str | None
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    sla_breached: bool
    sla_due_at: datetime | None
    targets: tuple[SlaTarget, ...]
    tags: tuple[str, ...]
    customer: CustomerInfo
    messages: tuple[MessageInfo, ...]
    merged_into_id: int | None

    @property
    def last_customer_message(self) -> MessageInfo | None:
        for message in reversed(self.messages):
            if message.direction == "in":
                return message
        return None


_SOLVED = (Status.SOLVED.value, Status.CLOSED.value)


def _targets(ticket: Ticket) -> tuple[SlaTarget, ...]:
    if ticket.status in _SOLVED:
        return ()
    found = [
        SlaTarget(name, due)
        for name, due in (
            ("first reply", ticket.first_reply_due if ticket.first_reply_at is None else None),
            ("next reply", ticket.next_reply_due),
            ("resolution", ticket.resolution_due),
        )
        if due is not None
    ]
    if not found and ticket.sla_due_at is not None:
        found.append(SlaTarget("due", ticket.sla_due_at))
    return tuple(found)


def _other_tickets(session: Session, ticket: Ticket, *, limit: int) -> tuple[PastTicket, ...]:
    rows = session.exec(
        select(Ticket)
        .where(col(Ticket.customer_id) == ticket.customer_id, col(Ticket.id) != ticket.id)
        .order_by(col(Ticket.created_at).desc())
        .limit(limit)
    ).all()
    result = []
    for other in rows:
        first = other.first_reply_at - other.created_at if other.first_reply_at else None
        solved = other.solved_at - other.created_at if other.solved_at else None
        result.append(
            PastTicket(
                id=other.id or 0,
                subject=other.subject,
                status=other.status,
                created_at=other.created_at,
                solved_at=other.solved_at,
                first_reply_time=first,
                resolution_time=solved,
            )
        )
    return tuple(result)


def load_ticket_view(session: Session, ticket_id: int, *, history_limit: int = 20) -> TicketView:
    """Load ``ticket_id`` with its conversation and its customer's other tickets.

    Raises:
        DeskError: there is no such ticket.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise DeskError(_("there is no ticket #{number}").format(number=ticket_id))
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None and customer.id is not None
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    messages = session.exec(
        select(Message)
        .where(col(Message.ticket_id) == ticket_id)
        .order_by(col(Message.created_at), col(Message.id))
    ).all()
    ids = [m.id for m in messages]
    pending = set(
        session.exec(
            select(MessageBodyPending.message_id).where(col(MessageBodyPending.message_id).in_(ids))
        ).all()
    )
    attachments: dict[int, list[AttachmentInfo]] = {}
    if ids:
        for att in session.exec(
            select(Attachment)
            .where(col(Attachment.message_id).in_(ids))
            .order_by(col(Attachment.id))
        ):
            attachments.setdefault(att.message_id, []).append(
                AttachmentInfo(
                    id=att.id or 0,
                    filename=att.filename,
                    content_type=att.content_type,
                    size=att.size,
                    sha256=att.sha256,
                )
            )
    agents: dict[int, str] = {}
    agent_ids = {m.agent_id for m in messages if m.agent_id}
    if agent_ids:
        for agent in session.exec(select(Agent).where(col(Agent.id).in_(agent_ids))):
            agents[agent.id or 0] = agent.display_name or agent.name
    infos = tuple(
        MessageInfo(
            id=m.id or 0,
            direction=m.direction,
            author=(agents.get(m.agent_id or 0) if m.agent_id else None)
            or m.from_name
            or m.from_address,
            from_address=m.from_address,
            created_at=m.created_at,
            subject=m.subject,
            new_text=m.new_text or (m.body_text if not m.quoted_text else ""),
            quoted_text=m.quoted_text,
            signature=m.signature,
            automated=m.automated,
            attachments=tuple(attachments.get(m.id or 0, ())),
            body_pending=m.id in pending,
        )
        for m in messages
    )
    tags = tuple(
        session.exec(
            select(TicketTag.tag)
            .where(col(TicketTag.ticket_id) == ticket_id)
            .order_by(col(TicketTag.tag))
        )
    )
    return TicketView(
        id=ticket_id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        language=ticket.language,
        account=ticket.account,
        assignee=(assignee.display_name or assignee.name) if assignee else None,
        assignee_id=ticket.assignee_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
        sla_breached=ticket.sla_breached,
        sla_due_at=ticket.sla_due_at,
        targets=_targets(ticket),
        tags=tags,
        customer=CustomerInfo(
            id=customer.id,
            name=customer.name,
            email=customer.email,
            blocked=customer.blocked,
            since=customer.created_at,
            other_tickets=_other_tickets(session, ticket, limit=history_limit),
        ),
        messages=infos,
        merged_into_id=ticket.merged_into_id,
    )


def mark_read(session: Session, ticket_id: int) -> None:
    """Clear the unread mark; not a change of the ticket (no version bump, no event)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None and ticket.unread:
        ticket.unread = False
        session.add(ticket)


def neighbour_ids(ids: list[int], current: int) -> tuple[int | None, int | None]:
    """The tickets before and after ``current`` in a list of numbers (the queue's order)."""
    try:
        index = ids.index(current)
    except ValueError:
        return None, None
    before = ids[index - 1] if index > 0 else None
    after = ids[index + 1] if index + 1 < len(ids) else None
    return before, after


def merge_ticket(
    session: Session, source_id: int, target_id: int, *, now: datetime, agent_id: int | None
) -> None:
    """Merge ``source_id`` into ``target_id``: its messages move, it is closed and points there.

    Raises:
        DeskError: unknown tickets, the same ticket, or a target that was itself merged.
    """
    from cs_console.desk import tickets

    if source_id == target_id:
        raise DeskError(_("a ticket cannot be merged into itself"))
    source = tickets.get_ticket(session, source_id)
    target = tickets.get_ticket(session, target_id)
    if target.merged_into_id is not None:
        raise DeskError(
            _("ticket #{number} was merged into #{target}; use that").format(
                number=target_id, target=target.merged_into_id
            )
        )
    for message in session.exec(select(Message).where(col(Message.ticket_id) == source_id)):
        message.ticket_id = target_id
        session.add(message)
    for tag in tickets.tags_of(session, source_id):
        tickets.add_tag(session, target, tag, now=now, agent_id=agent_id)
    source.merged_into_id = target_id
    tickets.record_event(session, source, "merged", now=now, new=str(target_id), agent_id=agent_id)
    tickets.set_status(session, source, Status.CLOSED.value, now=now, agent_id=agent_id)
    tickets.record_event(
        session, target, "merged_from", now=now, new=str(source_id), agent_id=agent_id
    )
    if source.last_customer_at and (
        target.last_customer_at is None or source.last_customer_at > target.last_customer_at
    ):
        target.last_customer_at = source.last_customer_at
        target.unread = True
    session.add(target)
    session.flush()


def mark_spam(session: Session, ticket_id: int, *, now: datetime, agent_id: int | None) -> str:
    """Tag the ticket ``spam``, close it and block its sender; returns the blocked address."""
    from cs_console.desk import tickets

    ticket = tickets.get_ticket(session, ticket_id)
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None
    tickets.add_tag(session, ticket, "spam", now=now, agent_id=agent_id)
    tickets.set_status(session, ticket, Status.CLOSED.value, now=now, agent_id=agent_id)
    if not customer.blocked:
        customer.blocked = True
        session.add(customer)
        tickets.record_event(
            session, ticket, "blocked", now=now, new=customer.email, agent_id=agent_id
        )
    session.flush()
    return customer.email
