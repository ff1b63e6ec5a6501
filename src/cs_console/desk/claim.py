""" "Take next": claim the most urgent unassigned ticket, atomically.

On PostgreSQL the candidate row is locked with ``FOR UPDATE SKIP LOCKED``, so
agents claiming at the same moment each get a different ticket without
waiting on each other. SQLite has one writer at a time: the claim runs in an
immediate transaction (``BEGIN IMMEDIATE``), which serialises claimers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cs_console.desk import tickets
from cs_console.store.models import OPEN_STATUSES, Status, Ticket

_CLAIMABLE = [Status.NEW.value, Status.OPEN.value]


def take_next(engine: Engine, agent_name: str, *, now: datetime) -> int | None:
    """Assign the most urgent unassigned open ticket to ``agent_name``; returns its number.

    Most urgent: breached first, then the soonest SLA due time, then the oldest.
    Returns None when nothing is waiting. Commits its own transaction.
    """
    _ensure_agent(engine, agent_name, now=now)
    is_sqlite = engine.dialect.name == "sqlite"
    options = {"sqlite_begin": "IMMEDIATE"} if is_sqlite else {}
    with (
        engine.connect().execution_options(**options) as connection,
        Session(bind=connection) as session,
    ):
        query = (
            select(Ticket)
            .where(col(Ticket.assignee_id).is_(None), col(Ticket.status).in_(_CLAIMABLE))
            .order_by(
                col(Ticket.sla_breached).desc(),
                col(Ticket.sla_due_at).is_(None),
                col(Ticket.sla_due_at),
                col(Ticket.created_at),
                col(Ticket.id),
            )
            .limit(1)
        )
        if not is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ticket = session.exec(query).first()
        if ticket is None:
            session.rollback()
            return None
        agent = tickets.get_or_create_agent(session, agent_name, now=now)
        tickets.assign(session, ticket, agent, now=now, agent_id=agent.id)
        if ticket.status == Status.NEW.value:
            tickets.set_status(session, ticket, Status.OPEN.value, now=now, agent_id=agent.id)
        number = ticket.id
        session.commit()
        return number


def _ensure_agent(engine: Engine, name: str, *, now: datetime) -> None:
    """Create the agent row outside the claim, tolerating a concurrent creator."""
    try:
        with Session(engine) as session:
            tickets.get_or_create_agent(session, name, now=now)
            session.commit()
    except IntegrityError:
        pass  # another console created it at the same moment


def open_unassigned_count(session: Session) -> int:
    """How many open tickets wait for someone to take them."""
    from sqlalchemy import func

    statuses = [s.value for s in OPEN_STATUSES]
    query = select(func.count()).where(
        col(Ticket.assignee_id).is_(None), col(Ticket.status).in_(statuses)
    )
    return int(session.exec(query).one())
