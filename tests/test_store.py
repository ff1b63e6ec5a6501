"""Storage on SQLite and PostgreSQL: migrations, constraints, times, file safety."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cs_console.desk import tickets
from cs_console.store.engine import make_engine
from cs_console.store.migrate import current_revision, head_revision, needs_upgrade, upgrade
from cs_console.store.models import Message, Ticket


def seed(session: Session, now: datetime) -> Ticket:
    customer = tickets.get_or_create_customer(session, "Ana@Example.org", name="Ana", now=now)
    return tickets.create_ticket(session, customer=customer, subject="Pedido", now=now)


def source_message(ticket: Ticket, uid: int, **extra: object) -> Message:
    fields: dict[str, object] = {
        "ticket_id": ticket.id,
        "direction": "in",
        "created_at": ticket.created_at,
        "message_id": "same@example.org",
        "content_hash": "h1",
        "source_account": "shop",
        "source_folder": "INBOX",
        "source_uidvalidity": 7,
        "source_uid": uid,
    }
    fields.update(extra)
    return Message(**fields)  # type: ignore[arg-type]


def test_schema_is_at_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert not needs_upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"ticket", "message", "customer", "outbox", "folder_state", "ticket_event"} <= tables


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_same_mailbox_uid_cannot_be_stored_twice(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        ticket = seed(session, now)
        session.add(source_message(ticket, 1))
        session.commit()
        session.add(source_message(ticket, 1, content_hash="other"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_message_id_alone_is_not_unique(engine: Engine, now: datetime) -> None:
    """Senders reuse Message-IDs for different mail: both must be kept."""
    with Session(engine) as session:
        ticket = seed(session, now)
        session.add(source_message(ticket, 1, content_hash="a"))
        session.add(source_message(ticket, 2, content_hash="b"))
        session.commit()
        count = len(
            session.exec(select(Message).where(Message.message_id == "same@example.org")).all()
        )
    assert count == 2


def test_times_come_back_aware_utc(engine: Engine) -> None:
    madrid = datetime(2026, 3, 29, 3, 30, tzinfo=UTC).astimezone()
    with Session(engine) as session:
        ticket = seed(session, madrid)
        session.commit()
        ticket_id = ticket.id
    with Session(engine) as session:
        loaded = session.get(Ticket, ticket_id)
        assert loaded is not None
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at == madrid
        assert loaded.created_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        customer = tickets.get_or_create_customer(
            session, "a@example.org", now=datetime(2026, 1, 1, tzinfo=UTC)
        )
        session.add(customer)
        session.commit()
        with pytest.raises(Exception, match="naive datetime"):
            tickets.create_ticket(session, customer=customer, subject="x", now=datetime(2026, 1, 1))


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "cs.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    wal = path.with_name("cs.db-wal")
    if wal.exists():
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0
    engine.dispose()
    assert os.access(path, os.R_OK)


def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    """A model change without its migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    from cs_console.store.migrate import include_object

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": False}
        )
        assert compare_metadata(context, SQLModel.metadata) == []
