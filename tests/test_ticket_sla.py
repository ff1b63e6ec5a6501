"""Stored tickets get their SLA columns from the engine; breaches are flagged as time passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.config import settings_from_mapping
from cs_console.desk import tickets
from cs_console.desk.demo import create_demo_workspace
from cs_console.desk.ticket_sla import TicketClock, mark_breaches
from cs_console.store.database import open_database
from cs_console.store.models import Ticket

SETTINGS = settings_from_mapping({"shop": {"timezone": "Europe/Madrid", "country": "ES"}})
# Tuesday 2026-11-24 11:30 in Madrid; the shop opens 09:00-18:00 on weekdays.
WROTE = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def urgent_ticket(session: Session) -> Ticket:
    customer = tickets.get_or_create_customer(session, "ana@example.org", now=WROTE)
    ticket = tickets.create_ticket(
        session, customer=customer, subject="x", now=WROTE, priority="urgent"
    )
    tickets.add_message(session, ticket, direction="in", now=WROTE, body_text="¿Y mi pedido?")
    return ticket


def test_first_reply_due_is_cached_and_stops_on_reply(engine: Engine) -> None:
    clock = TicketClock(SETTINGS)
    with Session(engine) as session:
        ticket = urgent_ticket(session)
        sla = clock.refresh(session, ticket, now=WROTE)
        assert sla.policy_name == "urgent"
        assert ticket.first_reply_due == WROTE + timedelta(hours=1)
        assert ticket.sla_due_at == WROTE + timedelta(hours=1)
        assert not ticket.sla_breached
        reply_at = WROTE + timedelta(minutes=40)
        tickets.add_message(session, ticket, direction="out", now=reply_at, body_text="Hola")
        sla = clock.refresh(session, ticket, now=reply_at)
        assert sla.targets["first_reply"].met is True
        assert ticket.first_reply_due is None
        assert ticket.sla_due_at == ticket.resolution_due
        session.commit()


def test_breaches_are_flagged_when_time_runs_out(engine: Engine) -> None:
    clock = TicketClock(SETTINGS)
    with Session(engine) as session:
        ticket = urgent_ticket(session)
        clock.refresh(session, ticket, now=WROTE)
        session.commit()
        assert mark_breaches(session, now=WROTE + timedelta(minutes=59)) == 0
        assert mark_breaches(session, now=WROTE + timedelta(minutes=61)) == 1
        session.commit()
        session.refresh(ticket)
        assert ticket.sla_breached


def test_pending_pauses_and_solved_stops(sqlite_engine: Engine) -> None:
    clock = TicketClock(SETTINGS)
    with Session(sqlite_engine) as session:
        ticket = urgent_ticket(session)
        tickets.set_status(session, ticket, "pending", now=WROTE + timedelta(minutes=10))
        sla = clock.refresh(session, ticket, now=WROTE + timedelta(hours=5))
        assert sla.targets["first_reply"].paused
        assert ticket.sla_due_at is None
        tickets.set_status(session, ticket, "solved", now=WROTE + timedelta(hours=6))
        clock.refresh(session, ticket, now=WROTE + timedelta(hours=6))
        assert ticket.sla_due_at is None and not ticket.sla_breached


def test_demo_workspace_has_a_live_queue(tmp_path: Path) -> None:
    now = WROTE
    config = create_demo_workspace(tmp_path / "demo", now=now, count=60)
    assert (tmp_path / "demo" / "outbox-sent").is_dir()
    from cs_console.config import load_settings

    settings = load_settings(config)
    assert settings.outbox.deliver_to_folder == tmp_path / "demo" / "outbox-sent"
    engine = open_database(settings.database_url)
    with Session(engine) as session:
        rows = session.exec(select(Ticket)).all()
        assert len(rows) == 60
        assert {t.language for t in rows} == {"es", "en"}
        assert any(t.sla_breached for t in rows)
        assert any(t.status == "solved" for t in rows)
        assert any(t.sla_due_at and t.sla_due_at > now for t in rows)
    engine.dispose()


def test_escalation_rules_fire_once(sqlite_engine: Engine) -> None:
    settings = settings_from_mapping(
        {
            "shop": {"timezone": "Europe/Madrid", "country": "ES"},
            "sla": {
                "escalation": [
                    {
                        "when": "breached",
                        "target": ["first_reply"],
                        "set_priority": "urgent",
                        "add_tag": "escalated",
                        "assign": "jefa",
                    },
                ]
            },
        }
    )
    from cs_console.desk.ticket_sla import apply_escalations

    clock = TicketClock(settings)
    with Session(sqlite_engine) as session:
        customer = tickets.get_or_create_customer(session, "ana@example.org", now=WROTE)
        ticket = tickets.create_ticket(
            session, customer=customer, subject="x", now=WROTE, priority="high"
        )
        clock.refresh(session, ticket, now=WROTE)
        assert apply_escalations(session, clock, now=WROTE + timedelta(hours=1)) == 0
        late = WROTE + timedelta(days=1)
        assert apply_escalations(session, clock, now=late) == 1
        assert ticket.priority == "urgent"
        assert tickets.tags_of(session, ticket.id) == ["escalated"]
        assert apply_escalations(session, clock, now=late + timedelta(hours=1)) == 0


def test_survey_answers_and_auto_replies_move_no_clock(sqlite_engine: Engine) -> None:
    clock = TicketClock(SETTINGS)
    with Session(sqlite_engine) as session:
        ticket = urgent_ticket(session)
        replied = WROTE + timedelta(minutes=30)
        tickets.add_message(session, ticket, direction="out", now=replied, body_text="Hola")
        solved = replied + timedelta(minutes=1)
        tickets.set_status(session, ticket, "solved", now=solved)
        before = clock.evaluate(session, ticket, now=solved)
        answer_at = solved + timedelta(hours=2)
        tickets.record_event(session, ticket, "survey", now=answer_at, new="5")
        tickets.add_message(session, ticket, direction="in", now=answer_at, body_text="5, genial")
        tickets.add_message(
            session,
            ticket,
            direction="in",
            now=answer_at + timedelta(hours=1),
            automated=True,
            body_text="Estoy de vacaciones",
        )
        after = clock.evaluate(session, ticket, now=answer_at + timedelta(hours=2))
        assert set(after.targets) == set(before.targets)
        assert after.targets["resolution"].met is True
        assert "next_reply" not in after.targets
