"""Tickets and their changes: every change bumps the version and lands in the event log.

Functions take an open :class:`~sqlmodel.Session` and ``now``; the caller owns
the transaction, so a change, its event and (for replies) the outbox item
commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cs_console.desk.bulk import BulkRows, bulk_rows, keep, set_fields
from cs_console.desk.changes import announce
from cs_console.errors import DeskError
from cs_console.i18n import N_, _
from cs_console.store.models import (
    DEFAULT_CATEGORIES,
    Agent,
    Customer,
    Direction,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketTag,
)
from cs_console.store.search_index import index_message_bodies

STATUSES = tuple(s.value for s in Status)
PRIORITIES = tuple(p.value for p in Priority)


def normalize_address(address: str) -> str:
    """Addresses are matched case-insensitively (the local part too, as every provider does)."""
    return address.strip().lower()


def get_or_create_customer(
    session: Session, email: str, *, name: str = "", now: datetime
) -> Customer:
    """The customer with this address; created on first contact, name filled in when learnt."""
    address = normalize_address(email)
    customer = session.exec(select(Customer).where(Customer.email == address)).first()
    if customer is None:
        customer = Customer(email=address, name=name.strip(), created_at=now)
        session.add(customer)
        session.flush()
    elif name and not customer.name:
        customer.name = name.strip()
        session.add(customer)
    return customer


def get_or_create_agent(
    session: Session, name: str, *, now: datetime, display_name: str | None = None
) -> Agent:
    agent = session.exec(select(Agent).where(Agent.name == name)).first()
    if agent is None:
        agent = Agent(name=name, display_name=display_name, created_at=now)
        session.add(agent)
        session.flush()
    return agent


def get_ticket(session: Session, number: int) -> Ticket:
    """The ticket with this number.

    Raises:
        DeskError: there is no such ticket.
    """
    ticket = session.get(Ticket, number)
    if ticket is None:
        raise DeskError(_("there is no ticket #{number}").format(number=number))
    return ticket


def record_event(
    session: Session,
    ticket: Ticket,
    kind: str,
    *,
    now: datetime,
    old: str | None = None,
    new: str | None = None,
    agent_id: int | None = None,
    detail: str | None = None,
) -> TicketEvent | None:
    """Append to the ticket's event log and mark the ticket changed.

    Returns the new event, or None inside a batch ingest, where the event is a
    row queued for the batch's bulk insert (:mod:`cs_console.desk.bulk`).
    """
    assert ticket.id is not None, "flush the ticket before recording events"
    values: dict[str, Any] = {
        "ticket_id": ticket.id,
        "at": now,
        "agent_id": agent_id,
        "kind": kind,
        "old_value": old,
        "new_value": new,
        "detail": detail,
    }
    rows = bulk_rows(session)
    event: TicketEvent | None = None
    if rows is not None:
        rows.add(TicketEvent, values)
    else:
        event = TicketEvent(**values)
        session.add(event)
    set_fields(rows, ticket, _touched(ticket, now))
    keep(session, ticket)
    announce(session)
    return event


def touch(ticket: Ticket, *, now: datetime) -> None:
    """Bump the version (collision checks) and the last activity."""
    set_fields(None, ticket, _touched(ticket, now))


def _touched(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """What :func:`touch` changes."""
    values: dict[str, Any] = {"version": (ticket.version or 0) + 1}
    if ticket.updated_at is None or now > ticket.updated_at:
        values["updated_at"] = now
    return values


def create_ticket(
    session: Session,
    *,
    customer: Customer,
    subject: str,
    now: datetime,
    created_at: datetime | None = None,
    channel: str = "email",
    category: str = "other",
    priority: str = Priority.NORMAL.value,
    language: str | None = None,
    account: str | None = None,
    assignee_id: int | None = None,
    tags: Iterable[str] = (),
    follow_up_of_id: int | None = None,
    ticket_id: int | None = None,
) -> Ticket:
    """Open a new ticket; ``created_at`` is when the customer wrote (SLA clocks start there).

    ``ticket_id`` is a number reserved by the caller (a batch ingest); with it
    the ticket is not flushed here, so a batch's rows go to the database together.
    """
    check_priority(priority)
    start = created_at or now
    ticket = Ticket(
        subject=subject,
        customer_id=customer.id,  # type: ignore[arg-type]
        status=Status.NEW.value,
        priority=priority,
        category=category,
        channel=channel,
        language=language,
        account=account,
        assignee_id=assignee_id,
        created_at=start,
        updated_at=start,
        follow_up_of_id=follow_up_of_id,
    )
    if ticket_id is not None:
        ticket.id = ticket_id
    session.add(ticket)
    if ticket_id is None:
        session.flush()
    record_event(session, ticket, "created", now=start, new=channel)
    for tag in tags:
        add_tag(session, ticket, tag, now=start)
    return ticket


def add_message(
    session: Session,
    ticket: Ticket,
    *,
    direction: str,
    now: datetime,
    created_at: datetime | None = None,
    agent_id: int | None = None,
    **fields: Any,
) -> Message:
    """Add a message to the conversation and update the ticket's activity times.

    The message is flushed (its id is set) and, when it came from a mailbox
    (``source_uid``), added to the search index, which the insert trigger
    leaves to the writers of such messages (:mod:`cs_console.store.search_index`).

    A customer message on a solved or closed ticket does not reopen it here:
    that choice (reopen or follow-up) is the ingest's; see :func:`reopen`.
    """
    at = created_at or now
    assert ticket.id is not None, "flush the ticket before adding messages"
    message = Message(
        ticket_id=ticket.id, direction=direction, agent_id=agent_id, created_at=at, **fields
    )
    session.add(message)
    _note_message(session, ticket, direction, at)
    session.flush()
    if message.source_uid is not None:
        assert message.id is not None
        index_message_bodies(session.connection(), [(message.id, message.body_text)])
    return message


def add_message_row(
    session: Session,
    rows: BulkRows,
    ticket: Ticket,
    *,
    direction: str,
    now: datetime,
    id: int,
    created_at: datetime | None = None,
    agent_id: int | None = None,
    **fields: object,
) -> dict[str, object]:
    """:func:`add_message` for a batch ingest: the message is a row queued in ``rows``.

    ``id`` is reserved by the caller; the ticket changes exactly as with
    :func:`add_message`. Returns the row's values.
    """
    at = created_at or now
    values: dict[str, object] = {
        "id": id,
        "ticket_id": ticket.id,
        "direction": direction,
        "agent_id": agent_id,
        "created_at": at,
        **fields,
    }
    rows.add(Message, values)
    _note_message(session, ticket, direction, at)
    return values


def _note_message(session: Session, ticket: Ticket, direction: str, at: datetime) -> None:
    """A message was added to ``ticket``: its activity times, unread flag and version."""
    values = _touched(ticket, at)
    if direction == Direction.IN.value:
        values["last_customer_at"] = max(filter(None, [ticket.last_customer_at, at]))
        values["unread"] = True
    elif direction == Direction.OUT.value:
        values["last_agent_at"] = max(filter(None, [ticket.last_agent_at, at]))
        if ticket.first_reply_at is None:
            values["first_reply_at"] = at
    set_fields(bulk_rows(session), ticket, values)
    keep(session, ticket)
    announce(session)


def set_status(
    session: Session, ticket: Ticket, status: str, *, now: datetime, agent_id: int | None = None
) -> bool:
    """Change the status; returns False when it already was that."""
    _check_choice(_NOT_A_STATUS, status, STATUSES)
    if ticket.status == status:
        return False
    old = ticket.status
    ticket.status = status
    if status == Status.SOLVED.value:
        ticket.solved_at = now
    elif status == Status.CLOSED.value:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    elif old in (Status.SOLVED.value, Status.CLOSED.value):
        ticket.solved_at = None
        ticket.closed_at = None
    record_event(session, ticket, "status", now=now, old=old, new=status, agent_id=agent_id)
    return True


def reopen(session: Session, ticket: Ticket, *, now: datetime, agent_id: int | None = None) -> bool:
    """Put a solved or closed ticket back to open."""
    if ticket.status not in (Status.SOLVED.value, Status.CLOSED.value):
        return False
    return set_status(session, ticket, Status.OPEN.value, now=now, agent_id=agent_id)


def set_priority(
    session: Session, ticket: Ticket, priority: str, *, now: datetime, agent_id: int | None = None
) -> bool:
    check_priority(priority)
    return _set_field(session, ticket, "priority", priority, now=now, agent_id=agent_id)


def set_category(
    session: Session, ticket: Ticket, category: str, *, now: datetime, agent_id: int | None = None
) -> bool:
    category = category.strip().lower().replace(" ", "_")
    if not category:
        raise DeskError(_("a category cannot be empty"))
    return _set_field(session, ticket, "category", category, now=now, agent_id=agent_id)


def assign(
    session: Session,
    ticket: Ticket,
    agent: Agent | None,
    *,
    now: datetime,
    agent_id: int | None = None,
) -> bool:
    """Assign to an agent (None: unassign); recorded by name in the event log."""
    new_id = agent.id if agent else None
    if ticket.assignee_id == new_id:
        return False
    old_agent = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    ticket.assignee_id = new_id
    record_event(
        session,
        ticket,
        "assign",
        now=now,
        old=old_agent.name if old_agent else None,
        new=agent.name if agent else None,
        agent_id=agent_id,
    )
    return True


def tags_of(session: Session, ticket_id: int) -> list[str]:
    rows = session.exec(
        select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id).order_by(col(TicketTag.tag))
    )
    return list(rows)


def add_tag(
    session: Session, ticket: Ticket, tag: str, *, now: datetime, agent_id: int | None = None
) -> bool:
    tag = normalize_tag(tag)
    assert ticket.id is not None
    if session.get(TicketTag, (ticket.id, tag)) is not None:
        return False
    session.add(TicketTag(ticket_id=ticket.id, tag=tag))
    record_event(session, ticket, "tag", now=now, new=tag, agent_id=agent_id)
    return True


def remove_tag(
    session: Session, ticket: Ticket, tag: str, *, now: datetime, agent_id: int | None = None
) -> bool:
    tag = normalize_tag(tag)
    row = session.get(TicketTag, (ticket.id, tag))
    if row is None:
        return False
    session.delete(row)
    record_event(session, ticket, "untag", now=now, old=tag, agent_id=agent_id)
    return True


def normalize_tag(tag: str) -> str:
    cleaned = "-".join(tag.strip().lower().split())
    if not cleaned or len(cleaned) > 64:
        raise DeskError(_("{tag} is not a usable tag (1-64 characters)").format(tag=repr(tag)))
    return cleaned


def known_categories(extra: Iterable[str] = ()) -> list[str]:
    return list(dict.fromkeys([*DEFAULT_CATEGORIES, *extra]))


def _set_field(
    session: Session, ticket: Ticket, field: str, value: str, *, now: datetime, agent_id: int | None
) -> bool:
    old = getattr(ticket, field)
    if old == value:
        return False
    setattr(ticket, field, value)
    record_event(session, ticket, field, now=now, old=old, new=value, agent_id=agent_id)
    return True


_NOT_A_STATUS = N_("{value} is not a status; choose one of: {choices}")
_NOT_A_PRIORITY = N_("{value} is not a priority; choose one of: {choices}")


def check_priority(priority: str) -> None:
    """Refuse a priority that is not one of :data:`PRIORITIES` (a :class:`DeskError`)."""
    _check_choice(_NOT_A_PRIORITY, priority, PRIORITIES)


def _check_choice(problem: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise DeskError(_(problem).format(value=repr(value), choices=", ".join(choices)))
