"""Simple ticket listings for scripts and the plain CLI (``cs-console list``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from cs_console.errors import DeskError
from cs_console.i18n import _
from cs_console.store.models import OPEN_STATUSES, Agent, Customer, Status, Ticket

__all__ = ["VIEWS", "TicketRow", "list_tickets"]

VIEWS = ("open", "pending", "unassigned", "mine", "all", "breaching")

#: ``breaching`` lists tickets already breached or due within this time.
BREACHING_SOON = timedelta(hours=1)


@dataclass(frozen=True)
class TicketRow:
    """One line of a listing."""

    id: int
    subject: str
    status: str
    priority: str
    category: str
    customer_name: str
    customer_email: str
    assignee: str | None
    updated_at: datetime
    sla_due_at: datetime | None
    sla_breached: bool
    unread: bool


def list_tickets(
    session: Session,
    *,
    view: str = "open",
    now: datetime,
    agent_id: int | None = None,
    limit: int = 50,
) -> list[TicketRow]:
    """Tickets of a view, most urgent first (``all``: newest activity first).

    Views: ``open`` (new and open), ``pending`` (pending and on hold), ``unassigned``
    and ``mine`` (any unsolved status), ``breaching`` (unsolved, breached or due
    within an hour) and ``all``.

    Raises:
        DeskError: an unknown view, or ``mine`` without an agent.
    """
    if view not in VIEWS:
        raise DeskError(
            _("unknown view {view}; choose one of: {choices}").format(
                view=repr(view), choices=", ".join(VIEWS)
            )
        )
    assignee = aliased(Agent)
    query = (
        select(Ticket, Customer, assignee.name)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .outerjoin(assignee, col(assignee.id) == col(Ticket.assignee_id))
        .where(col(Ticket.merged_into_id).is_(None))
    )
    unsolved = [s.value for s in OPEN_STATUSES]
    if view == "open":
        query = query.where(col(Ticket.status).in_([Status.NEW.value, Status.OPEN.value]))
    elif view == "pending":
        query = query.where(col(Ticket.status).in_([Status.PENDING.value, Status.ON_HOLD.value]))
    elif view == "unassigned":
        query = query.where(col(Ticket.status).in_(unsolved), col(Ticket.assignee_id).is_(None))
    elif view == "mine":
        if agent_id is None:
            raise DeskError(
                _("the {view} view needs to know who you are ({key})").format(
                    view="'mine'", key="[agent] name"
                )
            )
        query = query.where(col(Ticket.status).in_(unsolved), col(Ticket.assignee_id) == agent_id)
    elif view == "breaching":
        query = query.where(
            col(Ticket.status).in_(unsolved),
            col(Ticket.sla_breached) | (col(Ticket.sla_due_at) <= now + BREACHING_SOON),
        )
    if view == "all":
        query = query.order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc())
    else:
        query = query.order_by(
            col(Ticket.sla_breached).desc(),
            case((col(Ticket.sla_due_at).is_(None), 1), else_=0),
            col(Ticket.sla_due_at),
            col(Ticket.id),
        )
    rows = session.exec(query.limit(max(1, limit))).all()
    return [
        TicketRow(
            id=ticket.id,  # type: ignore[arg-type]
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            category=ticket.category,
            customer_name=customer.name,
            customer_email=customer.email,
            assignee=assignee_name,
            updated_at=ticket.updated_at,
            sla_due_at=ticket.sla_due_at,
            sla_breached=ticket.sla_breached,
            unread=ticket.unread,
        )
        for ticket, customer, assignee_name in rows
    ]
