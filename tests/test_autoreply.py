"""Acknowledgements: content, timing from the SLA, and every case where none is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk.autoreply import AutoReplySettings
from cs_console.desk.ingest import IngestConfig, ingest_raw
from cs_console.desk.tickets import get_or_create_customer
from cs_console.store.models import OutboxItem
from tests.test_sync_support import NOW, SHOP, mail, outbox, settings_for


@pytest.fixture
def config(tmp_path: Path) -> IngestConfig:
    return IngestConfig.from_settings(settings_for(tmp_path, None))


def _ingest(engine: Engine, config: IngestConfig, raw: bytes, *, now: datetime = NOW) -> None:
    with Session(engine) as session:
        ingest_raw(session, raw, config=config, now=now)
        session.commit()


def _parsed(item: OutboxItem):  # type: ignore[no-untyped-def]
    return message_from_bytes(item.raw, policy=policy.default)


def test_acknowledgement_names_the_ticket_and_the_expected_time(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    _ingest(
        sqlite_engine,
        config,
        mail(
            subject="¿Dónde está mi pedido?", date=NOW, body="Hola, ¿dónde está mi pedido? Gracias"
        ),
    )
    (item,) = outbox(sqlite_engine)
    msg = _parsed(item)
    assert item.kind == "auto_reply" and item.status == "queued"
    assert json.loads(item.rcpt_to) == ["ana@example.org"] and item.mail_from == SHOP
    assert msg["Auto-Submitted"] == "auto-replied"
    assert "[#1]" in msg["Subject"]
    assert msg["In-Reply-To"] == "<m1@example.org>" and "<m1@example.org>" in msg["References"]
    assert msg["Message-ID"].strip("<>") == item.message_id
    assert msg["To"].endswith("<ana@example.org>") and SHOP in msg["From"] and msg["Date"]
    body = msg.get_content()
    # Tuesday 11:30 in Madrid, normal priority: one business day (9 h) -> Wednesday 11:30.
    assert "#1" in body and "antes del miércoles 25 de noviembre a las 11:30" in body
    assert "fuera de nuestro horario" not in body


def test_urgent_mail_gets_the_urgent_target(sqlite_engine: Engine, config: IngestConfig) -> None:
    _ingest(sqlite_engine, config, mail(subject="URGENTE", body="Es urgente, mi pedido", date=NOW))
    body = _parsed(outbox(sqlite_engine)[0]).get_content()
    # "urgente" routes to high priority: 5 business hours from 11:30 in Madrid.
    assert "antes del martes 24 de noviembre a las 16:30" in body


def test_out_of_hours_text_on_a_saturday(sqlite_engine: Engine, config: IngestConfig) -> None:
    saturday = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    _ingest(
        sqlite_engine,
        config,
        mail(
            date=saturday,
            body="Where is my order? Thank you so much for the help, it is the order I placed last week",
        ),
        now=saturday,
    )
    body = _parsed(outbox(sqlite_engine)[0]).get_content()
    assert "outside our opening hours" in body
    assert "by Monday 30 November" in body


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "ana@example.org"),
        ({"Precedence": "bulk"}, "ana@example.org"),
        ({"List-Id": "<clientes.lists.example.org>"}, "ana@example.org"),
        ({"X-Autoreply": "yes"}, "ana@example.org"),
        ({"Return-Path": "<>"}, "ana@example.org"),
        ({}, "MAILER-DAEMON@example.org"),
        ({}, "no-reply@example.org"),
    ],
)
def test_never_to_robots(
    sqlite_engine: Engine, config: IngestConfig, headers: dict[str, str], sender: str
) -> None:
    _ingest(sqlite_engine, config, mail(sender=sender, headers=headers, date=NOW))
    assert outbox(sqlite_engine) == []


def test_never_to_corpus_robots(sqlite_engine: Engine, config: IngestConfig) -> None:
    corpus = Path(__file__).parent / "data" / "mail"
    for name in (
        "auto_reply_out_of_office.eml",
        "bounce_dsn.eml",
        "mailing_list.eml",
        "en_noreply_notification.eml",
    ):
        with Session(sqlite_engine) as session:
            result = ingest_raw(
                session, (corpus / name).read_bytes(), config=config, now=NOW, received_at=NOW
            )
            session.commit()
        assert not result.acknowledged, name
    assert outbox(sqlite_engine) == []


def test_at_most_one_per_customer_per_period(sqlite_engine: Engine, config: IngestConfig) -> None:
    _ingest(sqlite_engine, config, mail(subject="Uno", mid="a@x", date=NOW))
    _ingest(sqlite_engine, config, mail(subject="Dos", mid="b@x", date=NOW))
    assert len(outbox(sqlite_engine)) == 1
    later = NOW + timedelta(days=2)
    _ingest(sqlite_engine, config, mail(subject="Tres", mid="c@x", date=later), now=later)
    assert len(outbox(sqlite_engine)) == 2


def test_not_for_old_mail_found_by_a_first_sync(
    sqlite_engine: Engine, config: IngestConfig
) -> None:
    _ingest(sqlite_engine, config, mail(date=NOW - timedelta(days=5)), now=NOW)
    assert outbox(sqlite_engine) == []


def test_disabled(sqlite_engine: Engine, config: IngestConfig) -> None:
    config.autoreply = AutoReplySettings(enabled=False)
    _ingest(sqlite_engine, config, mail(date=NOW))
    assert outbox(sqlite_engine) == []


def test_not_to_a_blocked_customer(sqlite_engine: Engine, config: IngestConfig) -> None:
    with Session(sqlite_engine) as session:
        customer = get_or_create_customer(session, "ana@example.org", now=NOW)
        customer.blocked = True
        session.add(customer)
        session.commit()
    _ingest(sqlite_engine, config, mail(date=NOW))
    assert outbox(sqlite_engine) == []


def test_custom_texts_from_settings() -> None:
    settings = AutoReplySettings.model_validate(
        {
            "period": "12h",
            "es": {
                "subject": "Recibido",
                "acknowledgement": "Caso {ticket}",
                "out_of_hours": "Cerrado, caso {ticket}",
            },
        }
    )
    assert settings.period_delta == timedelta(hours=12)
    assert settings.texts("es").acknowledgement == "Caso {ticket}"
    with pytest.raises(ValueError):
        AutoReplySettings(period="soon")
