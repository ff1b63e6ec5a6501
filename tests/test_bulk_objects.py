"""Objects built by :func:`cs_console.desk.bulk.new_object` are stored like constructed ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.bulk import new_object
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
