"""The batch ingest (bulk INSERTs) stores what the one-message path stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk import sync_bodies, sync_parse
from cs_console.desk.ingest import IngestConfig, ingest_raw
from cs_console.desk.sync import sync_account
from cs_console.mail.imap_sync import ImapFolder
from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade
from cs_console.store.models import Message, MessageBodyPending
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, mail, settings_for

QUERIES = {
    "tickets": "SELECT subject, category, priority, status, version, unread, language,"
    " follow_up_of_id IS NOT NULL, sla_due_at IS NOT NULL FROM ticket",
    "ticket_times": "SELECT subject, channel, created_at, updated_at, last_customer_at,"
    " first_reply_due, next_reply_due, resolution_due, sla_due_at, sla_breached FROM ticket",
    "messages": "SELECT t.subject, m.direction, m.from_address, m.message_id, m.in_reply_to,"
    " m.body_text, m.new_text, m.quoted_text, m.signature, m.content_hash, m.automated,"
    " m.parse_warnings FROM message m JOIN ticket t ON t.id = m.ticket_id",
    "raw": "SELECT m.message_id FROM message_raw r JOIN message m ON m.id = r.message_id",
    "events": "SELECT t.subject, e.kind, e.new_value FROM ticket_event e"
    " JOIN ticket t ON t.id = e.ticket_id",
    "tags": "SELECT t.subject, g.tag FROM ticket_tag g JOIN ticket t ON t.id = g.ticket_id",
    "attachments": "SELECT m.message_id, a.filename, a.size, a.sha256, a.content_type"
    " FROM attachment a JOIN message m ON m.id = a.message_id",
    "customers": "SELECT email, name FROM customer",
}


def _counted(fetch: Any, calls: list[int]) -> Any:
    def counting(self: ImapFolder, uids: Any) -> Any:
        calls.append(len(uids))
        return fetch(self, uids)

    return counting


def _snapshot(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            name: sorted(tuple(row) for row in conn.execute(text(sql)))
            for name, sql in QUERIES.items()
        }


MIDS = ["a1@x", "l1@x", "a2@x", "e1@x", "b1@x", "l1@x"]


def _corpus() -> list[bytes]:
    raws = [
        mail(sender="ana@example.org", mid="a1@x", subject="¿Dónde está mi pedido 1?"),
        mail(sender="luis@example.org", mid="l1@x", subject="Devolución", body="Quiero devolver"),
        mail(
            sender="ana@example.org",
            mid="a2@x",
            subject="Re: ¿Dónde está mi pedido 1?",
            in_reply_to="a1@x",
            body="Sigo esperando.\n\nEl lunes escribí:\n> ¿Dónde está mi pedido 1?\n",
        ),
        mail(sender="eva@example.org", mid="e1@x", attachment=("factura.pdf", b"%PDF-1 x")),
        mail(
            sender="mailer-daemon@example.net",
            mid="b1@x",
            subject="Undelivered Mail",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        mail(sender="luis@example.org", mid="l1@x", subject="Devolución", body="Quiero devolver"),
    ]
    return raws


@pytest.mark.parametrize("fetcher", ["writer", "workers"])
def test_batch_and_single_paths_store_the_same_rows(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fetcher: str
) -> None:
    """``workers``: batches of two, fetched and parsed by the parser processes.

    Such a sync records the messages from their headers and reads their bodies
    after (:mod:`cs_console.desk.sync_bodies`): the rows end up the same.
    """
    writer_fetches: list[int] = []
    bodies_read: list[int] = []
    real_read = sync_bodies.read_bodies

    def counted_read(engine: Engine, config: IngestConfig, items: Any, **kw: Any) -> int:
        bodies_read.append(len(items))
        return real_read(engine, config, items, **kw)

    monkeypatch.setattr(sync_bodies, "read_bodies", counted_read)
    if fetcher == "workers":
        monkeypatch.setattr(sync_parse, "POOL_MIN_MESSAGES", 1)
        real_fetch = sync_parse.BatchParser.fetch

        def fetch_once_started(self: sync_parse.BatchParser, *args: Any, **kw: Any) -> Any:
            self.wait_started()  # else the first batches may be fetched by the writer
            return real_fetch(self, *args, **kw)

        monkeypatch.setattr(sync_parse.BatchParser, "fetch", fetch_once_started)
        monkeypatch.setattr(ImapFolder, "fetch", _counted(ImapFolder.fetch, writer_fetches))
    raws = _corpus()
    settings = settings_for(tmp_path, dovecot)
    for raw in raws:
        dovecot.deliver(raw)
    batch_engine = make_engine(f"sqlite:///{tmp_path / 'batch.db'}")
    single_engine = make_engine(f"sqlite:///{tmp_path / 'single.db'}")
    try:
        upgrade(batch_engine)
        upgrade(single_engine)
        report = sync_account(
            settings,
            batch_engine,
            settings.accounts[0],
            now_fn=lambda: NOW,
            batch_size=2 if fetcher == "workers" else 50,
            parse_workers=2,
        )
        assert report.ok, report.errors
        assert report.total("fetched") == len(raws)
        # With workers, the writer fetches the first batch itself while they log in.
        assert writer_fetches == ([2] if fetcher == "workers" else [])
        assert report.total("duplicates") == 1
        # Five messages stored: with workers, each recorded from its headers, then read.
        assert sum(bodies_read) == (5 if fetcher == "workers" else 0)
        with Session(batch_engine) as session:
            assert session.exec(select(MessageBodyPending)).all() == []
        config = IngestConfig.from_settings(settings)
        with Session(batch_engine) as session:  # arrival times: the server's INTERNALDATEs
            arrived = {m.message_id: m.created_at for m in session.exec(select(Message))}
        for raw, mid in zip(raws, MIDS, strict=True):
            with Session(single_engine, expire_on_commit=False) as session:
                ingest_raw(session, raw, config=config, now=NOW, received_at=arrived[mid])
                session.commit()
        batch, single = _snapshot(batch_engine), _snapshot(single_engine)
        assert batch["messages"] and batch["events"] and batch["attachments"]
        assert any(row[5] is not None for row in batch["ticket_times"])  # SLA dues set
        for name in QUERIES:
            assert batch[name] == single[name], name
    finally:
        batch_engine.dispose()
        single_engine.dispose()
