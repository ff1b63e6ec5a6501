"""Rows written by ``insert_many``/``update_many`` read back as those the ORM writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Table, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.store.bulk_sql import insert_many, update_many
from cs_console.store.models import Customer, Message, MessageRaw, Ticket

WHEN = datetime(2026, 11, 24, 9, 30, 15, 250000, tzinfo=UTC)
MADRID = timezone(timedelta(hours=1))
TICKET: Table = Ticket.__table__  # type: ignore[attr-defined]
MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]


def _ticket(ticket_id: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": ticket_id,
        "subject": "Pedido 'raro' ; DROP",
        "customer_id": 1,
        "status": "new",
        "priority": "normal",
        "category": "other",
        "channel": "email",
        "created_at": WHEN,
        "updated_at": WHEN.astimezone(MADRID),  # stored as UTC either way
        "sla_breached": False,
        "unread": True,
        "version": 1,
    }
    row.update(values)
    return row


def test_inserted_and_updated_rows_read_back_as_orm_rows(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Customer(id=1, email="ana@example.org", created_at=WHEN))
        session.add(Ticket(**_ticket(1)))  # type: ignore[arg-type]
        session.commit()
        connection = session.connection()
        insert_many(connection, TICKET, [_ticket(2), _ticket(3, sla_breached=True)])
        message = {
            "id": 1,
            "ticket_id": 2,
            "direction": "in",
            "subject": "x",
            "created_at": WHEN,
            "body_text": "",
            "automated": False,
            "parse_warnings": "",
        }
        insert_many(connection, MESSAGE, [message])
        insert_many(connection, MessageRaw.__table__, [{"message_id": 1, "data": b"\x00\xffraw"}])  # type: ignore[arg-type]
        session.commit()
    with Session(engine) as session:
        one, two, three = session.exec(select(Ticket).order_by(Ticket.id)).all()  # type: ignore[arg-type]
        for got in (two, three):
            assert got.created_at == one.created_at == WHEN
            assert got.updated_at == one.updated_at == WHEN
            assert got.subject == one.subject
        assert (two.sla_breached, three.sla_breached) == (False, True)
        assert session.get(MessageRaw, 1).data == b"\x00\xffraw"  # type: ignore[union-attr]
        raw_one, raw_two = (
            session.connection()
            .execute(text("SELECT created_at FROM ticket WHERE id IN (1, 2) ORDER BY id"))
            .scalars()
            .all()
        )
        assert raw_one == raw_two  # the same stored form, not merely equal when read

    later = WHEN + timedelta(hours=2)
    with Session(engine) as session:
        changed = update_many(
            session.connection(),
            TICKET,
            ["priority", "sla_due_at", "version"],
            ["id", "version"],
            [("high", later, 2, 2, 1), ("urgent", None, 9, 3, 7)],  # the second: wrong version
        )
        session.commit()
    assert changed == 1
    with Session(engine) as session:
        two = session.get(Ticket, 2)
        three = session.get(Ticket, 3)
        assert two is not None and three is not None
        assert (two.priority, two.sla_due_at, two.version) == ("high", later, 2)
        assert (three.priority, three.sla_due_at, three.version) == ("normal", None, 1)
