"""The outbox's storage: queuing beside the ticket change, undo, counts, backoff (both engines)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import select

from cs_console.desk.outbox import (
    backoff_delay,
    drain_outbox,
    outbox_counts,
    queue_message,
    requeue_failed,
    undo_send,
)
from cs_console.desk.outbox_drain import BACKOFF_CAP
from cs_console.desk.replies import add_note, reply_to_ticket
from cs_console.desk.tickets import get_ticket, set_status
from cs_console.errors import DeskError
from cs_console.store.engine import session_scope
from cs_console.store.models import (
    Agent,
    Draft,
    Message,
    OutboxItem,
    Ticket,
    TicketEvent,
)
from tests.test_outbox_support import Clock, make_settings, new_ticket


def test_reply_queues_message_and_outbox_item_together(engine: Engine, now: datetime) -> None:
    settings = make_settings(undo=10)
    number = new_ticket(engine, now=now, message_id="<c1@example.org>")
    with session_scope(engine) as session:
        result = reply_to_ticket(session, settings, number, "Hola María, sale hoy.", now=now)
    with session_scope(engine) as session:
        item = session.get(OutboxItem, result.outbox_id)
        row = session.get(Message, result.message_row_id)
        ticket = session.get(Ticket, number)
        agent = session.exec(select(Agent).where(Agent.name == "lucia")).one()
        assert item is not None and row is not None and ticket is not None
        assert item.status == "queued" and item.attempts == 0
        assert item.not_before == now + timedelta(seconds=10)
        assert item.message_id == row.message_id == result.message_id
        assert item.message_row_id == row.id and item.ticket_id == number
        assert json.loads(item.rcpt_to) == ["maria@example.org"]
        assert item.mail_from == "shop@example.com"
        assert b"In-Reply-To: <c1@example.org>" in item.raw
        assert row.direction == "out" and row.agent_id == agent.id == item.agent_id
        # The SLA reply clocks stop when the outbox accepts the reply.
        assert ticket.first_reply_at == now and ticket.last_agent_at == now
        assert ticket.status == "open"
        assert outbox_counts(session) == (1, 0)


def test_a_failed_transaction_leaves_neither_message_nor_outbox_item(
    engine: Engine, now: datetime
) -> None:
    settings = make_settings()
    number = new_ticket(engine, now=now)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        reply_to_ticket(session, settings, number, "Hola", now=now)
        raise RuntimeError("crash before commit")
    with session_scope(engine) as session:
        assert session.exec(select(OutboxItem)).all() == []
        assert session.exec(select(Message).where(Message.direction == "out")).all() == []
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.first_reply_at is None


def test_reply_can_set_status_and_refuses_stale_versions(engine: Engine, now: datetime) -> None:
    settings = make_settings()
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        version = session.get(Ticket, number).version  # type: ignore[union-attr]
        reply_to_ticket(
            session,
            settings,
            number,
            "Resuelto",
            now=now,
            status="solved",
            expected_version=version,
        )
    with session_scope(engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status == "solved" and ticket.solved_at == now
        with pytest.raises(DeskError, match="changed"):
            reply_to_ticket(session, settings, number, "Otra", now=now, expected_version=version)
        with pytest.raises(DeskError, match="empty"):
            reply_to_ticket(session, settings, number, "  \n", now=now)


def test_undo_within_the_window_returns_the_text_and_keeps_a_draft(
    engine: Engine, now: datetime
) -> None:
    settings = make_settings(undo=10)
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        result = reply_to_ticket(session, settings, number, "Texto que me arrepiento", now=now)
    with session_scope(engine) as session:
        undone = undo_send(session, result.outbox_id, now=now + timedelta(seconds=9))
    assert undone.body == "Texto que me arrepiento" and undone.ticket_id == number
    with session_scope(engine) as session:
        item = session.get(OutboxItem, result.outbox_id)
        assert item is not None and item.status == "cancelled"  # kept, not deleted
        assert session.get(Message, result.message_row_id) is None
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.first_reply_at is None and ticket.last_agent_at is None
        draft = session.get(Draft, undone.draft_id)
        assert draft is not None and draft.body == "Texto que me arrepiento"
        kinds = [e.kind for e in session.exec(select(TicketEvent)).all()]
        assert "reply_undone" in kinds
        assert outbox_counts(session) == (0, 0)


def test_no_undo_after_the_window(engine: Engine, now: datetime) -> None:
    settings = make_settings(undo=10)
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        result = reply_to_ticket(session, settings, number, "Ya se fue", now=now)
    with session_scope(engine) as session, pytest.raises(DeskError, match="too late"):
        undo_send(session, result.outbox_id, now=now + timedelta(seconds=10))
    with session_scope(engine) as session:
        item = session.get(OutboxItem, result.outbox_id)
        assert item is not None and item.status == "queued"
        assert session.get(Message, result.message_row_id) is not None


async def test_undone_reply_is_never_sent_and_others_leave_after_the_window(
    engine: Engine, now: datetime, tmp_path: Path
) -> None:
    folder = tmp_path / "outgoing"
    settings = make_settings(undo=10, deliver_to=folder)
    first, second = new_ticket(engine, now=now), new_ticket(engine, now=now)
    with session_scope(engine) as session:
        keep = reply_to_ticket(session, settings, first, "Se queda", now=now)
        drop = reply_to_ticket(session, settings, second, "Me arrepiento", now=now)
    clock = Clock(now)
    report = await drain_outbox(settings, engine, now_fn=clock)
    assert report.sent == 0, "nothing leaves inside the undo window"
    with session_scope(engine) as session:
        undo_send(session, drop.outbox_id, now=clock.advance(seconds=5))
    clock.advance(seconds=6)
    report = await drain_outbox(settings, engine, now_fn=clock)
    assert report.sent == 1 and report.ok
    files = sorted(p.name for p in folder.iterdir())
    assert files == [keep.message_id.strip("<>") + ".eml"]
    with session_scope(engine) as session:
        item = session.get(OutboxItem, keep.outbox_id)
        assert item is not None and item.status == "sent" and item.sent_at == clock.now
        assert (folder / files[0]).read_bytes() == item.raw
        with pytest.raises(DeskError, match="too late"):
            undo_send(session, keep.outbox_id, now=clock.now)


def test_notes_are_never_queued(engine: Engine, now: datetime) -> None:
    settings = make_settings()
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        note = add_note(session, settings, number, "Llamar al almacén", now=now)
        assert note.direction == "note"
    with session_scope(engine) as session:
        assert session.exec(select(OutboxItem)).all() == []
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.first_reply_at is None


def test_requeue_a_failed_item(engine: Engine, now: datetime) -> None:
    settings = make_settings()
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        result = reply_to_ticket(session, settings, number, "Hola", now=now)
        item = session.get(OutboxItem, result.outbox_id)
        assert item is not None
        item.status, item.attempts, item.last_error = "failed", 1, "550 no such user"
        session.add(item)
    with session_scope(engine) as session:
        assert outbox_counts(session) == (0, 1)
        requeue_failed(session, result.outbox_id, now=now)
        assert outbox_counts(session) == (1, 0)
        with pytest.raises(DeskError):
            requeue_failed(session, result.outbox_id, now=now)


@given(attempts=st.integers(min_value=1, max_value=200), seed=st.integers())
def test_backoff_grows_is_capped_and_jittered(attempts: int, seed: int) -> None:
    delay = backoff_delay(attempts, rng=Random(seed))
    ceiling = min(timedelta(seconds=30) * 2 ** min(attempts - 1, 20), BACKOFF_CAP)
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_jitter_spreads_retries() -> None:
    rng = Random(7)
    delays = {backoff_delay(3, rng=rng) for _ in range(20)}
    assert len(delays) > 10


def test_undo_puts_back_the_status_the_reply_set(engine: Engine, now: datetime) -> None:
    settings = make_settings(undo=10)
    number = new_ticket(engine, now=now)
    with session_scope(engine) as session:
        set_status(session, get_ticket(session, number), "open", now=now)
    with session_scope(engine) as session:
        result = reply_to_ticket(session, settings, number, "Cerrado", now=now, status="solved")
    with session_scope(engine) as session:
        undo_send(session, result.outbox_id, now=now + timedelta(seconds=1))
    with session_scope(engine) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None and ticket.status == "open" and ticket.solved_at is None


def test_queue_refuses_a_message_without_id_or_recipient(engine: Engine, now: datetime) -> None:
    message = EmailMessage()
    message["From"] = "shop@example.com"
    message.set_content("x")
    with session_scope(engine) as session:
        with pytest.raises(DeskError, match="Message-ID"):
            queue_message(session, message, account="shop", now=now)
        message["Message-ID"] = "<x1.cs@example.com>"
        with pytest.raises(DeskError, match="recipient"):
            queue_message(session, message, account="shop", now=now)
        message["To"] = "Ana <ana@example.org>"
        item = queue_message(session, message, account="shop", now=now, kind="survey")
        assert item.message_id == "x1.cs@example.com"
        assert json.loads(item.rcpt_to) == ["ana@example.org"] and item.not_before == now
