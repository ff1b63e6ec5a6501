"""The outbox: every reply, auto-reply and survey leaves through it, and none is lost.

Life of an item::

    queued --(not_before passed; claimed)--> sending --(server said 250)--> sent
       ^  \\                                   |  \\
       |   `--(undo, within the window)--> cancelled
       |                                      |   `--(5xx, or too many tries)--> failed
       `-------(4xx, connection trouble: not_before moves, with jitter)--'

- Queuing happens in the caller's transaction, beside the ticket change, so a
  reply exists either in both the conversation and the outbox, or in neither.
- The Message-ID and the bytes are fixed when the item is queued. An item is
  marked ``sending`` (and its attempt counted) in its own commit *before* the
  SMTP transaction, so a crash leaves evidence; the next drain sends the same
  bytes again, and the recipient's client shows one message.
- Nothing is deleted: sent, failed and cancelled items stay as a record.
- One sender drains at a time (a :class:`~cs_console.store.models.Lease`), so
  two consoles and a cron job never send the same item twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from cs_console.desk.drafts import save_draft
from cs_console.desk.outbox_drain import (
    LEASE_NAME,
    MAX_ATTEMPTS,
    DrainReport,
    OutboxDrainer,
    backoff_delay,
    drain_outbox,
    write_eml,
)
from cs_console.desk.ticket_sla import TicketClock
from cs_console.desk.tickets import set_status
from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.mail.compose import as_bytes
from cs_console.store.models import (
    Draft,
    Message,
    OutboxItem,
    OutboxStatus,
    Ticket,
    TicketEvent,
)

__all__ = [
    "LEASE_NAME",
    "MAX_ATTEMPTS",
    "DrainReport",
    "OutboxDrainer",
    "UndoneReply",
    "backoff_delay",
    "drain_outbox",
    "outbox_counts",
    "queue_message",
    "requeue_failed",
    "undo_send",
    "write_eml",
]


def queue_message(
    session: Session,
    message: EmailMessage,
    *,
    account: str,
    now: datetime,
    kind: str = "reply",
    delay: timedelta = timedelta(0),
    rcpt_to: Sequence[str] | None = None,
    mail_from: str | None = None,
    ticket_id: int | None = None,
    message_row_id: int | None = None,
    agent_id: int | None = None,
) -> OutboxItem:
    """Put a composed message in the outbox, in the caller's transaction.

    Args:
        message: A complete message with its Message-ID (see :mod:`cs_console.mail.compose`).
        account: The account whose SMTP server sends it.
        now: Queue time.
        kind: ``reply``, ``auto_reply``, ``survey`` or ``outreach``.
        delay: The undo window: the item is not sent before ``now + delay``.
        rcpt_to: Envelope recipients; default the To and Cc addresses.
        mail_from: Envelope sender; default the From address.
    """
    # Stored without angle brackets, like every Message-ID in the database.
    message_id = str(message["Message-ID"] or "").strip().strip("<>")
    if not message_id:
        raise DeskError(_("the message has no Message-ID; it cannot be queued"))
    if rcpt_to is None:
        headers = [str(v) for name in ("To", "Cc") for v in message.get_all(name, [])]
        rcpt_to = [addr for _name, addr in getaddresses(headers) if addr]
    if mail_from is None:
        mail_from = next((a for _n, a in getaddresses([str(message["From"] or "")]) if a), "")
    if not rcpt_to:
        raise DeskError(_("the message has no recipient"))
    item = OutboxItem(
        ticket_id=ticket_id,
        message_row_id=message_row_id,
        account=account,
        kind=kind,
        message_id=message_id,
        mail_from=mail_from,
        rcpt_to=json.dumps(list(rcpt_to)),
        raw=as_bytes(message),
        status=OutboxStatus.QUEUED.value,
        created_at=now,
        not_before=now + delay,
        agent_id=agent_id,
    )
    session.add(item)
    session.flush()
    return item


@dataclass(frozen=True)
class UndoneReply:
    """A reply pulled back before it left: its text goes back to the editor."""

    ticket_id: int | None
    body: str
    draft_id: int | None


def undo_send(
    session: Session, item_id: int, *, now: datetime, clock: TicketClock | None = None
) -> UndoneReply:
    """Pull back a queued reply while its undo window is open.

    The outbox item is cancelled (kept, never deleted), the outgoing message
    leaves the conversation, the ticket's reply times are recomputed from what
    is left, a status the reply set is put back, and the text is saved as the
    agent's reply draft so it is never lost, then returned for the editor.
    Pass the workspace's SLA ``clock`` so the cached SLA columns follow.

    Raises:
        DeskError: the item is unknown, already left or is leaving, or the window closed.
    """
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise DeskError(_("there is no outbox item {number}").format(number=item_id))
    if item.status != OutboxStatus.QUEUED.value or item.attempts > 0:
        raise DeskError(_("too late to undo: the message is already on its way"))
    if now >= item.not_before:
        raise DeskError(_("too late to undo: the undo window has closed"))
    # Compare-and-set: a sender claiming it at this instant wins or loses cleanly.
    claimed = session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id)
        .where(col(OutboxItem.status) == OutboxStatus.QUEUED.value)
        .where(col(OutboxItem.attempts) == 0)
        .values(status=OutboxStatus.CANCELLED.value, last_error="undone by the agent")
    )
    if claimed.rowcount != 1:
        raise DeskError(_("too late to undo: the message is already on its way"))
    session.refresh(item)

    body = ""
    draft_id: int | None = None
    if item.message_row_id is not None:
        row = session.get(Message, item.message_row_id)
        item.message_row_id = None
        session.add(item)
        session.flush()
        if row is not None:
            body = row.body_text
            session.delete(row)
            session.flush()
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    if ticket is not None and ticket.id is not None:
        _recompute_reply_times(session, ticket)
        _revert_reply_status(session, ticket, item, now=now)
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=now,
                agent_id=item.agent_id,
                kind="reply_undone",
                detail=item.message_id,
            )
        )
        ticket.version = (ticket.version or 0) + 1
        session.add(ticket)
        draft = save_draft(
            session,
            ticket_id=ticket.id,
            agent_id=item.agent_id,
            kind="reply",
            body=body,
            now=now,
            ticket_version=ticket.version,
        )
        draft_id = _draft_id(session, ticket.id, item.agent_id) if draft is not None else None
        if clock is not None:
            clock.refresh(session, ticket, now=now)
    session.flush()
    return UndoneReply(ticket_id=item.ticket_id, body=body, draft_id=draft_id)


def _revert_reply_status(
    session: Session, ticket: Ticket, item: OutboxItem, *, now: datetime
) -> None:
    """Undo the status change made together with the reply, if nothing changed it since."""
    event = session.exec(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id)
        .where(TicketEvent.kind == "status")
        .where(TicketEvent.at == item.created_at)
        .where(TicketEvent.agent_id == item.agent_id)
        .order_by(col(TicketEvent.id).desc())
    ).first()
    if event is None or event.new_value != ticket.status or not event.old_value:
        return
    later = session.exec(
        select(TicketEvent.id)
        .where(TicketEvent.ticket_id == ticket.id)
        .where(TicketEvent.kind == "status")
        .where(col(TicketEvent.id) > event.id)
    ).first()
    if later is None:
        set_status(session, ticket, event.old_value, now=now, agent_id=item.agent_id)


def _draft_id(session: Session, ticket_id: int, agent_id: int | None) -> int | None:
    agent = col(Draft.agent_id).is_(None) if agent_id is None else col(Draft.agent_id) == agent_id
    return session.exec(
        select(Draft.id).where(Draft.ticket_id == ticket_id, agent, Draft.kind == "reply")
    ).first()


def _recompute_reply_times(session: Session, ticket: Ticket) -> None:
    first, last = session.exec(
        select(func.min(Message.created_at), func.max(Message.created_at))
        .where(Message.ticket_id == ticket.id)
        .where(Message.direction == "out")
    ).one()
    ticket.first_reply_at = first
    ticket.last_agent_at = last


def requeue_failed(session: Session, item_id: int, *, now: datetime) -> OutboxItem:
    """Send a failed item again (after the agent fixed the address, or the server)."""
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise DeskError(_("there is no outbox item {number}").format(number=item_id))
    if item.status != OutboxStatus.FAILED.value:
        raise DeskError(
            _("outbox item {number} is {status}, not failed").format(
                number=item_id, status=item.status
            )
        )
    item.status = OutboxStatus.QUEUED.value
    item.not_before = now
    item.attempts = 0
    session.add(item)
    session.flush()
    return item


def outbox_counts(session: Session) -> tuple[int, int]:
    """``(pending, failed)``: items still to leave, and items that could not."""
    rows = session.exec(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()
    counts = dict(rows)
    pending = counts.get(OutboxStatus.QUEUED.value, 0) + counts.get(OutboxStatus.SENDING.value, 0)
    return pending, counts.get(OutboxStatus.FAILED.value, 0)
