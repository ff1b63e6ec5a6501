"""Ingest keeps the queue's SLA columns current and recognises survey answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.ingest import IngestConfig, ingest_raw
from cs_console.desk.surveys import queue_survey
from cs_console.desk.sync import sync_account
from cs_console.desk.tickets import set_status
from cs_console.store.models import Survey, Ticket
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table
from tests.test_sync_support import NOW, mail, settings_for


def test_synced_tickets_get_their_sla_due_time(
    tmp_path: Path, dovecot: Dovecot, sqlite_engine: Engine
) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail(subject="¿Dónde está mi pedido 12345?", mid="a1@example.org"))
    report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    with Session(sqlite_engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.first_reply_due is not None
        assert ticket.sla_due_at == ticket.first_reply_due
        assert ticket.sla_due_at > NOW


def test_a_survey_answer_is_recorded_and_does_not_reopen(tmp_path: Path, engine: Engine) -> None:
    settings = settings_for(
        tmp_path,
        accounts=[account_table(None, None)],
        extra={"surveys": {"enabled": True, "kind": "csat", "delay": "1m"}},
    )
    config = IngestConfig.from_settings(settings)
    with Session(engine) as session:
        first = ingest_raw(session, mail(mid="q1@example.org"), config=config, now=NOW)
        ticket = session.get(Ticket, first.ticket_id)
        assert ticket is not None
        set_status(session, ticket, "solved", now=NOW + timedelta(hours=1))
        survey = queue_survey(session, settings, ticket, now=NOW + timedelta(hours=2))
        session.commit()
        answer = mail(
            subject=f"Re: {ticket.subject} [#{ticket.id}]",
            body="5, muy amables",
            mid="q2@example.org",
            in_reply_to="q1@example.org",
        )
        result = ingest_raw(session, answer, config=config, now=NOW + timedelta(hours=3))
        session.commit()
        assert result.outcome == "appended"
        assert result.ticket_id == ticket.id
        session.refresh(ticket)
        assert ticket.status == "solved"
        stored = session.exec(select(Survey).where(Survey.id == survey.id)).one()
        assert stored.score == 5
        assert "amables" in (stored.comment or "")
