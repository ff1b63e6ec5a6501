"""Team mode: leases with take-over, presence, collision detection, live change notices."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.clock import utcnow
from cs_console.desk import tickets
from cs_console.desk.changes import ChangeWatcher
from cs_console.desk.collisions import changes_since
from cs_console.desk.leases import current_holder, release, try_acquire
from cs_console.desk.presence import PRESENCE_TTL, heartbeat, others_on
from tests.rig.database import postgres_schema, postgres_url_for

ROOT = Path(__file__).parent.parent


def test_lease_is_exclusive_until_it_expires(engine: Engine, now: datetime) -> None:
    ttl = timedelta(seconds=30)
    assert try_acquire(engine, "sync:shop", "a", now=now, ttl=ttl)
    assert not try_acquire(engine, "sync:shop", "b", now=now + timedelta(seconds=10), ttl=ttl)
    assert try_acquire(engine, "sync:shop", "a", now=now + timedelta(seconds=20), ttl=ttl)  # renew
    assert not try_acquire(engine, "sync:shop", "b", now=now + timedelta(seconds=45), ttl=ttl)
    assert try_acquire(engine, "sync:shop", "b", now=now + timedelta(seconds=51), ttl=ttl)
    assert current_holder(engine, "sync:shop", now=now + timedelta(seconds=52)) == "b"
    release(engine, "sync:shop", "b")
    assert current_holder(engine, "sync:shop", now=now + timedelta(seconds=53)) is None


def test_killed_lease_holder_is_replaced_within_the_lease_time(postgres_available: None) -> None:
    with postgres_schema() as (engine, schema):
        url = postgres_url_for(schema)
        command = [sys.executable, "-m", "tests.rig.lease_holder", url, "sync:shop", "2"]
        first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert first.stdout is not None
        assert first.stdout.readline().startswith("held")
        second = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert second.stdout is not None
        try:
            holder = current_holder(engine, "sync:shop", now=utcnow())
            assert holder is not None
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            killed_at = utcnow()
            line = second.stdout.readline()  # blocks until the second process takes over
            took_over = utcnow()
            assert line.startswith("held")
            assert line.split()[1] != holder
            assert took_over - killed_at < timedelta(seconds=10)
        finally:
            second.kill()
            second.wait()


def seed(session: Session, now: datetime) -> tuple[int, int, int]:
    customer = tickets.get_or_create_customer(session, "ana@example.org", name="Ana", now=now)
    ticket = tickets.create_ticket(session, customer=customer, subject="x", now=now)
    lucia = tickets.get_or_create_agent(session, "lucia", now=now)
    marc = tickets.get_or_create_agent(session, "marc", now=now)
    session.commit()
    assert ticket.id and lucia.id and marc.id
    return ticket.id, lucia.id, marc.id


def test_presence_shows_others_and_expires(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        ticket_id, lucia, marc = seed(session, now)
        heartbeat(session, ticket_id, lucia, now=now)
        heartbeat(session, ticket_id, marc, activity="replying", now=now)
        session.commit()
        seen_by_lucia = others_on(session, [ticket_id], me=lucia, now=now + timedelta(seconds=5))
        assert [(p.agent, p.activity) for p in seen_by_lucia[ticket_id]] == [("marc", "replying")]
        later = now + PRESENCE_TTL + timedelta(seconds=1)
        assert others_on(session, [ticket_id], me=lucia, now=later) == {}


def test_collision_lists_what_arrived_while_writing(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        ticket_id, lucia, marc = seed(session, now)
        ticket = tickets.get_ticket(session, ticket_id)
        draft_began = now + timedelta(minutes=1)
        tickets.add_message(
            session, ticket, direction="out", now=now, agent_id=lucia, body_text="mine, before"
        )
        assert changes_since(session, ticket_id, since=draft_began, agent_id=lucia) == []
        tickets.add_message(
            session,
            ticket,
            direction="in",
            now=now + timedelta(minutes=2),
            from_name="Ana",
            body_text="¡Ya llegó, gracias!",
        )
        tickets.add_message(
            session,
            ticket,
            direction="out",
            now=now + timedelta(minutes=3),
            agent_id=marc,
            body_text="Marc answered",
        )
        tickets.add_message(
            session,
            ticket,
            direction="note",
            now=now + timedelta(minutes=4),
            agent_id=lucia,
            body_text="my own note",
        )
        session.commit()
        changes = changes_since(session, ticket_id, since=draft_began, agent_id=lucia)
        assert [(c.direction, c.author, c.text) for c in changes] == [
            ("in", "Ana", "¡Ya llegó, gracias!"),
            ("out", "marc", "Marc answered"),
        ]


def test_a_change_reaches_another_console(engine: Engine, now: datetime) -> None:
    with Session(engine) as session:
        ticket_id, _, _ = seed(session, now)
    watcher = ChangeWatcher(engine)
    woke = threading.Event()
    waited: list[bool] = []

    def wait() -> None:
        woke.set()
        waited.append(watcher.wait(timeout=20))

    thread = threading.Thread(target=wait)
    thread.start()
    woke.wait()
    try:
        with Session(engine) as session:
            tickets.set_status(session, tickets.get_ticket(session, ticket_id), "open", now=now)
            session.commit()
        thread.join(timeout=30)
        assert waited == [True]
        assert not watcher.wait(timeout=0.6)  # nothing new since
    finally:
        watcher.close()
        thread.join(timeout=5)
