"""``db migrate-to`` copies a SQLite workspace into PostgreSQL, verified, and the copy works."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, func, select
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.desk import tickets
from cs_console.desk.demo import create_demo_workspace
from cs_console.store.models import Message, Ticket
from tests.rig.database import postgres_schema, postgres_url_for

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def test_demo_workspace_moves_to_postgresql(tmp_path: Path, postgres_available: None) -> None:
    config = create_demo_workspace(tmp_path / "demo", now=NOW, count=40)
    runner = CliRunner()
    with postgres_schema(migrate=False) as (engine, schema):
        result = runner.invoke(
            app, ["--config", str(config), "db", "migrate-to", postgres_url_for(schema)]
        )
        assert result.exit_code == 0, result.output
        assert "counts and checksums match" in result.output
        with Session(engine) as session:
            assert session.exec(select(func.count()).select_from(Ticket)).one() == 40
            assert session.exec(select(func.count()).select_from(Message)).one() >= 40
            # The sequences moved on: a new ticket gets the next number.
            customer = tickets.get_or_create_customer(session, "new@example.org", now=NOW)
            ticket = tickets.create_ticket(session, customer=customer, subject="after", now=NOW)
            session.commit()
            assert ticket.id == 41
        again = runner.invoke(
            app, ["--config", str(config), "db", "migrate-to", postgres_url_for(schema)]
        )
        assert again.exit_code == 1
        assert "already has data" in again.output
