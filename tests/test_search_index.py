"""Synced messages are searchable: the sync indexes their bodies itself (migration 0005)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk.ingest import IngestConfig, SourceRef, ingest_raw
from cs_console.desk.queue import search_ticket_ids
from cs_console.desk.sync import sync_account
from cs_console.store.copy import copy_database
from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table
from tests.test_sync_support import NOW, mail, settings_for, tickets

WORDS = ["zapatillas", "batidora", "chaqueta", "garantía", "devolución"]


def _deliver(dovecot: Dovecot) -> None:
    for i, word in enumerate(WORDS):
        dovecot.deliver(
            mail(
                sender=f"c{i}@example.org",
                mid=f"s{i}@example.org",
                subject=f"Consulta {i}",
                body=f"Hola, os escribo por la {word} del pedido.",
            )
        )


def _found(engine: Engine, word: str) -> list[int]:
    with Session(engine) as session:
        return search_ticket_ids(session, word)


def _check_index(engine: Engine) -> None:
    """FTS5's own check: the index matches the messages it indexes (raises when not)."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
            )


def test_a_synced_message_is_found_by_a_word_of_its_body(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    _deliver(dovecot)
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=2)
    assert report.ok, report.errors
    by_subject = {t.subject: t.id for t in tickets(engine)}
    for i, word in enumerate(WORDS):
        assert _found(engine, word) == [by_subject[f"Consulta {i}"]]
    _check_index(engine)


def test_a_message_ingested_alone_with_its_mailbox_position_is_indexed(
    tmp_path: Path, engine: Engine
) -> None:
    settings = settings_for(tmp_path, accounts=[account_table(None, None)])
    config = IngestConfig.from_settings(settings)
    with Session(engine) as session:
        result = ingest_raw(
            session,
            mail(body="La batidora no funciona."),
            config=config,
            now=NOW,
            source=SourceRef("shop", "INBOX", 7, 1),
        )
        session.commit()
    assert _found(engine, "batidora") == [result.ticket_id]
    _check_index(engine)


def test_a_copied_workspace_finds_the_synced_messages(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    _deliver(dovecot)
    report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    target = make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        upgrade(target)
        copy_database(sqlite_engine, target)
        assert len(_found(target, "chaqueta")) == 1
        _check_index(target)
    finally:
        target.dispose()
