"""Objects built by :func:`cs_console.desk.bulk.new_object` are stored like constructed ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.bulk import insert_objects, new_object
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


def test_inserted_objects_are_persistent_and_later_changes_are_written(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        customers = [
            new_object(Customer, {"id": 900 + i, "email": f"c{i}@example.org", "created_at": WHEN})
            for i in range(3)
        ]
        insert_objects(session, customers)
        tickets = [new_object(Ticket, {"id": 950 + i, **_ticket_values(900 + i)}) for i in range(3)]
        insert_objects(session, tickets)
        assert not session.new and all(t in session for t in tickets)
        tickets[1].subject = "Cambio de talla"  # a change after the INSERT
        tickets[1].version = 5
        assert session.get(Ticket, 951) is tickets[1]
        session.commit()
    with Session(engine) as session:
        stored = {t.id: (t.subject, t.version, t.status) for t in session.exec(select(Ticket))}
        assert stored == {
            950: ("Devolución", 1, "new"),
            951: ("Cambio de talla", 5, "new"),
            952: ("Devolución", 1, "new"),
        }
        assert len(session.exec(select(Customer)).all()) == 3
