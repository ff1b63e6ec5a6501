""" "Take next" under concurrency: agent processes never get the same ticket, and none is skipped."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.desk import tickets
from cs_console.desk.claim import take_next
from cs_console.store.models import Ticket, TicketEvent
from tests.rig.database import postgres_schema, postgres_url_for
from tests.rig.workspace import write_config

ROOT = Path(__file__).parent.parent


def seed_unassigned(engine: Engine, count: int, now: datetime) -> None:
    with Session(engine) as session:
        customer = tickets.get_or_create_customer(session, "many@example.org", now=now)
        session.commit()
        rows = [
            {
                "subject": f"Ticket {i}",
                "customer_id": customer.id,
                "status": "new",
                "priority": "normal",
                "category": "other",
                "channel": "email",
                "created_at": now - timedelta(minutes=i),
                "updated_at": now - timedelta(minutes=i),
                "sla_due_at": now + timedelta(minutes=count - i),
                "sla_breached": i % 10 == 0,
                "unread": True,
                "version": 1,
            }
            for i in range(count)
        ]
        session.execute(insert(Ticket), rows)
        session.commit()


def run_claimers(url: str, agents: int) -> list[list[int]]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.rig.claimer", url, f"agent{n}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(agents)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        results.append([int(line) for line in out.split()])
    return results


def check_each_claimed_once(engine: Engine, claimed: list[list[int]], count: int) -> None:
    everything = [n for batch in claimed for n in batch]
    duplicates = [n for n, times in Counter(everything).items() if times > 1]
    assert duplicates == []
    assert len(everything) == count
    with Session(engine) as session:
        unassigned = session.exec(
            select(func.count()).select_from(Ticket).where(col(Ticket.assignee_id).is_(None))
        ).one()
        assert unassigned == 0
        assigns = session.exec(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "assign")
        ).one()
        assert assigns == count


def test_five_agents_on_postgresql_claim_1000_tickets_once_each(
    postgres_available: None, now: datetime
) -> None:
    with postgres_schema() as (engine, schema):
        seed_unassigned(engine, 1000, now)
        claimed = run_claimers(postgres_url_for(schema), agents=5)
        check_each_claimed_once(engine, claimed, 1000)
        assert sum(1 for batch in claimed if batch) >= 2, "the agents did not run concurrently"


def test_three_agents_on_sqlite_claim_each_ticket_once(
    sqlite_engine: Engine, now: datetime
) -> None:
    seed_unassigned(sqlite_engine, 200, now)
    claimed = run_claimers(str(sqlite_engine.url), agents=3)
    check_each_claimed_once(sqlite_engine, claimed, 200)


def test_most_urgent_first(sqlite_engine: Engine, now: datetime) -> None:
    seed_unassigned(sqlite_engine, 20, now)
    first = take_next(sqlite_engine, "lucia", now=now)
    with Session(sqlite_engine) as session:
        ticket = session.get(Ticket, first)
        assert ticket is not None and ticket.sla_breached
        assert ticket.status == "open"
        expected = session.exec(
            select(Ticket.id)
            .where(col(Ticket.sla_breached).is_(True), col(Ticket.id) != first)
            .order_by(col(Ticket.sla_due_at))
        ).all()
    assert take_next(sqlite_engine, "lucia", now=now) == expected[0]


def test_cli_next_claims_and_says_when_nothing_is_left(tmp_path: Path, now: datetime) -> None:
    config = write_config(tmp_path, {"agent": {"name": "marc"}})
    runner = CliRunner()
    assert runner.invoke(app, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    from cs_console.config import load_settings
    from cs_console.store.engine import make_engine

    engine = make_engine(load_settings(config).database_url)
    with Session(engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=now)
        tickets.create_ticket(session, customer=customer, subject="[bold]¿Pedido?[/bold]", now=now)
        session.commit()
    result = runner.invoke(app, ["--config", str(config), "next", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert '"assignee": "marc"' in result.output
    assert "[bold]¿Pedido?[/bold]" in result.output
    result = runner.invoke(app, ["--config", str(config), "next"])
    assert result.exit_code == 3
    assert "Nothing waiting" in result.output
