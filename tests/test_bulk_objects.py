"""Objects built by :func:`cs_console.desk.bulk.new_object` are stored like constructed ones,
added to a session or held by a batch's collector."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.bulk import collect, keep, new_object, set_fields
from cs_console.store.models import Customer, Ticket

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def _ticket_values(customer_id: int) -> dict[str, object]:
    return {
        "subject": "Devolución",
        "customer_id": customer_id,
        "category": "returns",
        "language": "es",
        "created_at": WHEN,
        "updated_at": WHEN,
    }


def test_new_object_matches_the_constructor(engine: Engine) -> None:
    built = new_object(Ticket, {"id": 7, **_ticket_values(1)})
    constructed = Ticket(id=7, **_ticket_values(1))  # type: ignore[arg-type]
    assert built.model_dump() == constructed.model_dump()
    assert built.model_fields_set == constructed.model_fields_set
    with pytest.raises(TypeError):
        new_object(Ticket, {"colour": "blue"})


def test_new_objects_are_inserted_and_tracked_like_constructed_ones(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        customer = new_object(Customer, {"email": "ana@example.org", "created_at": WHEN})
        session.add(customer)
        session.flush()
        assert customer.id is not None
        built = new_object(Ticket, _ticket_values(customer.id))
        constructed = Ticket(**_ticket_values(customer.id))  # type: ignore[arg-type]
        session.add_all([built, constructed])
        session.flush()
        built.version = 2  # changed after the INSERT: an UPDATE, as for any object
        constructed.version = 2
        session.commit()
        ids = (built.id, constructed.id)
    with Session(engine) as session:
        rows = [session.exec(select(Ticket).where(Ticket.id == i)).one() for i in ids]
        dumps = [r.model_dump(exclude={"id"}) for r in rows]
        assert dumps[0] == dumps[1]
        assert dumps[0]["version"] == 2 and dumps[0]["status"] == "new"
        stored = session.exec(select(Customer)).one()
        assert (stored.email, stored.name, stored.blocked) == ("ana@example.org", "", False)


def test_held_objects_are_inserted_with_the_rows_then_tracked(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        rows = collect(session)
        customer = new_object(Customer, {"id": 41, "email": "eva@example.org", "created_at": WHEN})
        ticket = new_object(Ticket, {"id": 42, **_ticket_values(41)})
        rows.hold(customer)
        rows.hold(ticket)
        ticket.unread = True  # changed while held: part of its INSERT
        set_fields(rows, ticket, {"sla_breached": True, "version": 2})  # its state, no tracking
        keep(session, ticket)  # what every change of a batch's ticket calls
        assert ticket not in session and rows.holds(ticket) and len(rows) == 2
        rows.write(session)
        assert ticket in session and not rows.holds(ticket) and len(rows) == 0
        set_fields(rows, ticket, {"version": 3})  # changed after the INSERT: an UPDATE
        keep(session, ticket)
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(Ticket).where(Ticket.id == 42)).one()
        assert (stored.customer_id, stored.unread, stored.version) == (41, True, 3)
        assert stored.sla_breached is True
        assert stored.subject == "Devolución" and stored.status == "new"
        found = session.exec(select(Customer).where(Customer.id == 41)).one()
        assert found.email == "eva@example.org"
