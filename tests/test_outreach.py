"""Proactive outreach: list checks, rendering, one ticket per customer, pacing, re-runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cs_console.config import AccountSettings, AgentSettings, Settings, ShopSettings
from cs_console.desk.outreach import prepare_messages, read_recipients, run_outreach
from cs_console.desk.tickets import get_or_create_customer, tags_of
from cs_console.errors import DeskError
from cs_console.store.engine import session_scope
from cs_console.store.models import Message, OutboxItem, Ticket

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
TEMPLATE = """+++
title = "Su pedido {{ order_number }} se retrasa"
language = "es"
category = "delivery"
+++
Hola, {{ customer_first_name | "cliente" }}:

Su pedido {{ order_number }} saldrá con dos días de retraso. Referencia {{ ticket_number }}.
"""
LIST = (
    "\ufeffEmail;Nombre;Order Number\n"
    "ana@example.com;Ana Pérez;A-1001\n"
    "not-an-address;Bob;A-1002\n"
    "\n"
    'carla@example.com;"Carla\n\x1b[31mRoja";\n'  # no order number; controls in the name
    "ANA@example.com;Ana otra vez;A-1003\n"
    "dan@example.com;;A-1004\n"
)


def settings() -> Settings:
    return Settings(
        shop=ShopSettings(name="Tienda", timezone="Europe/Madrid", language="es"),
        agent=AgentSettings(name="ana-agent", display_name="Ana"),
        accounts=[
            AccountSettings(
                name="shop", address="help@shop.example", imap_host="imap.example", username="u"
            )
        ],
    )


@pytest.fixture
def template(tmp_path: Path) -> str:
    path = tmp_path / "retraso.md"
    path.write_text(TEMPLATE, encoding="utf-8")
    return str(path)


def test_the_list_is_checked_row_by_row() -> None:
    rows, problems = read_recipients(LIST)
    assert [(r.line, r.email) for r in rows] == [
        (2, "ana@example.com"),
        (6, "carla@example.com"),
        (8, "dan@example.com"),
    ]
    assert [(p.line, p.message) for p in problems] == [
        (3, "'not-an-address' is not an email address"),
        (7, "listed twice (first on line 2)"),
    ]
    assert rows[0].variables["order_number"] == "A-1001"
    assert rows[0].variables["customer_first_name"] == "Ana"
    assert "\x1b" not in rows[1].name and "\r" not in rows[1].name
    with pytest.raises(DeskError, match="no email column"):
        read_recipients("name,order\nAna,1\n")
    with pytest.raises(DeskError, match="empty"):
        read_recipients("")
    with pytest.raises(DeskError, match="not valid CSV near line 2"):
        read_recipients("email,name\nana@example.com,An\ra\n")


def test_missing_variables_stop_that_row_only() -> None:
    rows, _ = read_recipients(LIST)
    messages, problems = prepare_messages(
        rows,
        subject="Pedido {{ order_number }}",
        body='Hola {{ customer_first_name | "cliente" }}, {{ tracking_url }}',
        shop_name="Tienda",
    )
    assert messages == []
    assert [p.message for p in problems] == [
        "no value for tracking_url",
        "no value for order_number, tracking_url",
        "no value for tracking_url",
    ]
    messages, problems = prepare_messages(
        rows, subject="Pedido {{ order_number }}", body="{{ order_number }}", shop_name="Tienda"
    )
    assert [m.recipient.email for m in messages] == ["ana@example.com", "dan@example.com"]
    assert [(p.line, p.message) for p in problems] == [(6, "no value for order_number")]


def test_dry_run_shows_messages_and_writes_nothing(sqlite_engine: Engine, template: str) -> None:
    report = run_outreach(
        sqlite_engine, settings(), csv_text=LIST, answer=template, now=NOW, dry_run=True
    )
    assert [m.recipient.email for m in report.messages] == ["ana@example.com", "dan@example.com"]
    first = report.messages[0]
    assert first.subject == "Su pedido A-1001 se retrasa"
    assert "Hola, Ana:" in first.body and "Referencia ?." in first.body
    assert "Hola, cliente:" in report.messages[1].body
    assert [p.line for p in report.problems] == [3, 6, 7]
    assert report.queued == []
    with session_scope(sqlite_engine) as session:
        assert session.exec(select(Ticket)).all() == []


def test_each_customer_gets_a_pending_ticket_at_a_paced_rate(engine: Engine, template: str) -> None:
    with session_scope(engine) as session:
        blocked = get_or_create_customer(session, "dan@example.com", now=NOW)
        blocked.blocked = True
    report = run_outreach(
        engine, settings(), csv_text=LIST, answer=template, now=NOW, per_minute=20
    )
    assert [(line, email) for line, email, _t in report.queued] == [(2, "ana@example.com")]
    assert [(p.line, p.email) for p in report.skipped] == [(8, "dan@example.com")]
    ticket_id = report.queued[0][2]
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.channel, ticket.status, ticket.category) == (
            "outreach",
            "pending",
            "delivery",
        )
        assert ticket.subject == "Su pedido A-1001 se retrasa"
        assert tags_of(session, ticket_id) == ["outreach", "outreach-retraso"]
        message = session.exec(select(Message).where(Message.ticket_id == ticket_id)).one()
        assert message.direction == "out" and f"Referencia {ticket_id}." in message.body_text
        item = session.exec(select(OutboxItem)).one()
        assert (item.kind, item.ticket_id, json.loads(item.rcpt_to)) == (
            "outreach",
            ticket_id,
            ["ana@example.com"],
        )
        mail = message_from_bytes(item.raw, policy=policy.default)
        assert mail["Subject"] == f"Su pedido A-1001 se retrasa [#{ticket_id}]"
        assert mail["Auto-Submitted"] == "auto-generated"


def test_pacing_spreads_the_outbox_and_reruns_skip_contacted_customers(
    sqlite_engine: Engine, template: str
) -> None:
    text = "email,order_number\n" + "".join(f"c{i}@example.com,N{i}\n" for i in range(4))
    report = run_outreach(
        sqlite_engine, settings(), csv_text=text, answer=template, now=NOW, per_minute=30
    )
    assert len(report.queued) == 4
    with session_scope(sqlite_engine) as session:
        due = session.exec(select(OutboxItem.not_before).order_by(col(OutboxItem.id))).all()
    assert [d - NOW for d in due] == [timedelta(seconds=2 * i) for i in range(4)]
    again = run_outreach(
        sqlite_engine, settings(), csv_text=text, answer=template, now=NOW, per_minute=30
    )
    assert again.queued == [] and len(again.skipped) == 4
    with pytest.raises(DeskError, match="no canned answer"):
        run_outreach(sqlite_engine, settings(), csv_text=text, answer="nope", now=NOW)
    with pytest.raises(DeskError, match="per-minute"):
        run_outreach(
            sqlite_engine, settings(), csv_text=text, answer=template, now=NOW, per_minute=0
        )


def test_a_starter_answer_can_be_used_by_slug(sqlite_engine: Engine) -> None:
    report = run_outreach(
        sqlite_engine,
        settings(),
        csv_text="email,name,order_number\nana@example.com,Ana,A-1\n",
        answer="entrega-retraso",
        now=NOW,
        dry_run=True,
    )
    assert len(report.messages) + len(report.problems) == 1


def test_outreach_messages_are_stored_with_bare_message_ids(
    sqlite_engine: Engine, template: str
) -> None:
    """Ingest looks ids up without angle brackets: a reply to outreach must find its message."""
    from cs_console.store.models import Message, OutboxItem

    run_outreach(
        sqlite_engine,
        settings(),
        csv_text="email,name,order_number\nana@example.com,Ana,A-1\n",
        answer=template,
        now=NOW,
    )
    with Session(sqlite_engine) as session:
        message = session.exec(select(Message).where(Message.direction == "out")).first()
        item = session.exec(select(OutboxItem)).first()
        assert message is not None and item is not None
        assert message.message_id and not message.message_id.startswith("<")
        assert message.message_id == item.message_id
