"""The mail corpus through the real Dovecot: every message stored, readable, warnings shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import cs_console.desk.sync_batch as sync_module
from cs_console.desk.sync import sync_account
from cs_console.store.models import Attachment, Message, MessageRaw, Ticket
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, count, mail, messages, settings_for

CORPUS = Path(__file__).parent / "data" / "mail"
MALFORMED = sorted((CORPUS / "malformed").glob("*.eml"))
GOOD = sorted(CORPUS.glob("*.eml"))


def _lines(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def test_malformed_corpus_is_stored_raw_and_readable(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    assert MALFORMED, "the malformed corpus is missing"
    settings = settings_for(tmp_path, dovecot)
    for path in MALFORMED:
        dovecot.deliver(path.read_bytes())
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    folder = report.folders[0]
    assert folder.fetched == len(MALFORMED)
    assert folder.stored + folder.duplicates + folder.own == len(MALFORMED)
    assert folder.quarantined == 0  # the parser copes; nothing needed the fallback
    with Session(engine) as session:
        rows = session.exec(select(Message)).all()
        raws = {r.message_id: r.data for r in session.exec(select(MessageRaw)).all()}
        for row in rows:
            assert row.id in raws
            ticket = session.get(Ticket, row.ticket_id)
            assert ticket is not None
            for text in (row.body_text, row.subject, row.from_name, ticket.subject):
                assert "\x1b" not in text and "\x00" not in text
        warned = [r for r in rows if r.parse_warnings]
    assert len(warned) >= len(MALFORMED) // 2
    # IMAP serves lines ending in CRLF (the server rewrites the bare CRs of the binary one);
    # otherwise the stored bytes are the delivered ones.
    stored = {_lines(raw) for raw in raws.values()}
    assert len(raws) == len(rows)
    for path in MALFORMED:
        if path.name != "binary_garbage.eml" and folder.duplicates == 0:
            assert _lines(path.read_bytes()) in stored, path.name


def test_realistic_corpus(dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot)
    for path in GOOD:
        dovecot.deliver(path.read_bytes())
    report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert report.folders[0].fetched == len(GOOD)
    rows = messages(sqlite_engine)
    assert len(rows) + report.total("own") + report.total("duplicates") == len(GOOD)
    by_mid = {m.message_id: m for m in rows}
    order = by_mid["CAF7x9+order10452@correo.es"]
    assert order.from_address == "jose.munoz@correo.es" and order.new_text.startswith("Hola")
    with Session(sqlite_engine) as session:
        ticket = session.get(Ticket, order.ticket_id)
        assert ticket is not None and ticket.category == "order_status"
        assert ticket.subject == "¿Dónde está mi pedido? nº 10452"
        inline = session.exec(select(Attachment).where(Attachment.inline == True)).all()  # noqa: E712
    assert inline, "inline images are kept"
    assert count(sqlite_engine, Message, Message.automated == True) >= 3  # noqa: E712
    replies = [m for m in rows if m.quoted_text]
    assert replies and all(m.new_text for m in replies)


def test_one_bad_message_never_stops_the_run(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, dovecot)
    for i in range(5):
        dovecot.deliver(
            mail(sender=f"c{i}@example.org", mid=f"b{i}@example.org", body=f"texto {i}")
        )
    real = sync_module.ingest_raw

    def flaky(session, raw, **kwargs):  # type: ignore[no-untyped-def]
        if b"texto 2" in raw:
            session.add(Ticket(subject="half-written", customer_id=999999))  # rolled back
            raise RuntimeError("boom")
        return real(session, raw, **kwargs)

    monkeypatch.setattr(sync_module, "ingest_raw", flaky)
    report = sync_account(
        settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=10
    )
    assert report.ok
    assert report.folders[0].stored == 5 and report.folders[0].quarantined == 1
    assert any("boom" in w for w in report.folders[0].warnings)
    bad = [m for m in messages(sqlite_engine) if m.parse_warnings]
    assert len(bad) == 1 and "boom" in bad[0].parse_warnings and "texto 2" in bad[0].body_text
    assert count(sqlite_engine, Ticket, Ticket.subject == "half-written") == 0
    assert count(sqlite_engine, MessageRaw) == 5
    # The kept message is a duplicate for the next resync, not a new one.
    monkeypatch.setattr(sync_module, "ingest_raw", real)
    dovecot.reset_uidvalidity()
    again = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert again.folders[0].duplicates == 5 and count(sqlite_engine, Message) == 5
