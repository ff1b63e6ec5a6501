"""Ticket operations record every change in the event log and bump the version."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk import tickets
from cs_console.errors import DeskError
from cs_console.store.models import TicketEvent


def events(session: Session, ticket_id: int) -> list[tuple[str, str | None, str | None]]:
    rows = session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return [(e.kind, e.old_value, e.new_value) for e in rows]


def test_customer_is_matched_by_address_case_insensitively(
    sqlite_engine: Engine, now: datetime
) -> None:
    with Session(sqlite_engine) as session:
        first = tickets.get_or_create_customer(session, "Ana@Example.ORG", now=now)
        again = tickets.get_or_create_customer(
            session, " ana@example.org ", name="Ana Pérez", now=now
        )
        assert first.id == again.id
        assert again.name == "Ana Pérez"


def test_changes_are_logged_and_versioned(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=now)
        ticket = tickets.create_ticket(
            session, customer=customer, subject="Devolución", now=now, tags=["VIP client"]
        )
        agent = tickets.get_or_create_agent(session, "lucia", now=now)
        later = now + timedelta(minutes=5)
        assert tickets.set_status(session, ticket, "open", now=later)
        assert not tickets.set_status(session, ticket, "open", now=later)
        assert tickets.set_priority(session, ticket, "high", now=later)
        assert tickets.set_category(session, ticket, "Returns", now=later)
        assert tickets.assign(session, ticket, agent, now=later)
        assert tickets.remove_tag(session, ticket, "vip-client", now=later)
        session.commit()
        assert ticket.id is not None
        assert events(session, ticket.id) == [
            ("created", None, "email"),
            ("tag", None, "vip-client"),
            ("status", "new", "open"),
            ("priority", "normal", "high"),
            ("category", "other", "returns"),
            ("assign", None, "lucia"),
            ("untag", "vip-client", None),
        ]
        assert ticket.version == 8
        assert ticket.updated_at == later


def test_solving_and_reopening_keeps_times_consistent(sqlite_engine: Engine, now: datetime) -> None:
    with Session(sqlite_engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=now)
        ticket = tickets.create_ticket(session, customer=customer, subject="x", now=now)
        tickets.set_status(session, ticket, "solved", now=now)
        assert ticket.solved_at == now
        assert tickets.reopen(session, ticket, now=now + timedelta(days=1))
        assert ticket.status == "open"
        assert ticket.solved_at is None


def test_replies_set_first_reply_time_once(sqlite_engine: Engine, now: datetime) -> None:
    with Session(sqlite_engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=now)
        ticket = tickets.create_ticket(session, customer=customer, subject="x", now=now)
        tickets.add_message(session, ticket, direction="in", now=now, body_text="hola")
        first = now + timedelta(hours=1)
        tickets.add_message(session, ticket, direction="out", now=first, body_text="respuesta")
        tickets.add_message(session, ticket, direction="out", now=first + timedelta(hours=1))
        assert ticket.first_reply_at == first
        assert ticket.last_agent_at == first + timedelta(hours=1)
        assert ticket.last_customer_at == now


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s, t, n: tickets.set_status(s, t, "done", now=n), "not a status"),
        (lambda s, t, n: tickets.set_priority(s, t, "asap", now=n), "not a priority"),
        (lambda s, t, n: tickets.add_tag(s, t, "   ", now=n), "not a usable tag"),
    ],
)
def test_bad_values_are_refused(sqlite_engine: Engine, now: datetime, call, message: str) -> None:  # type: ignore[no-untyped-def]
    with Session(sqlite_engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=now)
        ticket = tickets.create_ticket(session, customer=customer, subject="x", now=now)
        with pytest.raises(DeskError, match=message):
            call(session, ticket, now)


def test_unknown_ticket(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session, pytest.raises(DeskError, match="no ticket #999"):
        tickets.get_ticket(session, 999)
