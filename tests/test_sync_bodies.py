"""A large sync records messages from their headers, then reads the bodies; nothing is left behind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from cs_console.desk import sync_bodies, sync_parse
from cs_console.desk.ingest import IngestConfig, ingest_raw
from cs_console.desk.routing import Router, RoutingSettings
from cs_console.desk.sync import sync_account
from cs_console.desk.sync_bodies import read_bodies
from cs_console.desk.sync_parse import OwedBody, PrepareContext, prepare, prepare_head
from cs_console.desk.ticket_sla import sla_columns
from cs_console.desk.ticket_view import load_ticket_view
from cs_console.desk.tickets import set_priority
from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade
from cs_console.store.models import (
    Message,
    MessageBodyPending,
    MessageRaw,
    OutboxItem,
    Ticket,
)
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table
from tests.test_ingest_bulk import MIDS, QUERIES, _corpus, _snapshot
from tests.test_sync_support import NOW, settings_for


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _pending(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(MessageBodyPending.message_id)).all())


def _delivered_for_a_large_sync(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[bytes], Any]:
    """The corpus in the mailbox, and settings whose sync takes the large-sync path."""
    monkeypatch.setattr(sync_parse, "POOL_MIN_MESSAGES", 1)
    raws = _corpus()
    for raw in raws:
        dovecot.deliver(raw)
    return raws, settings_for(tmp_path, dovecot)


def _recorded_from_headers(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Engine, Any]:
    """The corpus synced in batches of two, every body left owed; the database and settings."""
    _raws, settings = _delivered_for_a_large_sync(dovecot, tmp_path, monkeypatch)
    engine = _engine(tmp_path / "cs.db")
    with monkeypatch.context() as patch:
        patch.setattr(sync_bodies, "read_bodies", lambda *a, **k: 0)  # leave them all owed
        sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=2)
    return engine, settings


def _one_by_one(engine: Engine, settings: Any, raws: list[bytes], arrived: dict[str, Any]) -> None:
    config = IngestConfig.from_settings(settings)
    for raw, mid in zip(raws, MIDS, strict=True):
        with Session(engine, expire_on_commit=False) as session:
            ingest_raw(session, raw, config=config, now=NOW, received_at=arrived[mid])
            session.commit()


def test_bodies_a_stopped_sync_left_are_read_by_the_next_one(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first sync dies after recording the headers; the next one reads the stored raw bytes."""
    raws, settings = _delivered_for_a_large_sync(dovecot, tmp_path, monkeypatch)
    engine = _engine(tmp_path / "two.db")
    single = _engine(tmp_path / "single.db")

    def stopped(*args: Any, **kw: Any) -> int:
        raise RuntimeError("stopped before reading the bodies")

    with monkeypatch.context() as patch:
        patch.setattr(sync_bodies, "read_bodies", stopped)
        first = sync_account(
            settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=2
        )
    assert not first.ok  # the failure is reported...
    assert first.total("stored") == 5  # ...after every message and ticket was recorded
    owed = _pending(engine)
    assert len(owed) == 5
    with Session(engine) as session:
        assert {m.body_text for m in session.exec(select(Message))} == {""}
        assert session.exec(select(OutboxItem)).all() == []  # acknowledgements wait too
        some = session.exec(select(Message)).first()
        assert some is not None
        # The ticket is in the queue; its view says the text is still being read.
        shown = load_ticket_view(session, some.ticket_id).messages
        assert shown and all(m.body_pending for m in shown)

    again = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert again.ok, again.errors
    assert again.total("fetched") == 0  # nothing fetched again: the raw bytes were stored
    assert _pending(engine) == []
    with Session(engine) as session:
        shown = load_ticket_view(session, some.ticket_id).messages
        assert not any(m.body_pending for m in shown) and all(m.new_text for m in shown)
    with engine.connect() as conn:  # searchable, and the index agrees with the texts
        found = conn.execute(
            text("SELECT count(*) FROM message_fts WHERE message_fts MATCH 'devolver'")
        ).scalar_one()
        assert found == 1
        conn.execute(
            text("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        )
    with Session(engine) as session:
        arrived = {m.message_id: m.created_at for m in session.exec(select(Message))}
    _one_by_one(single, settings, raws, arrived)
    two_pass, one_pass = _snapshot(engine), _snapshot(single)
    for name in QUERIES:
        assert two_pass[name] == one_pass[name], name
    with Session(engine) as session, Session(single) as other:
        acks = session.exec(select(OutboxItem.rcpt_to)).all()
        assert sorted(acks) == sorted(other.exec(select(OutboxItem.rcpt_to)).all())
        assert acks  # the corpus has customers owed an acknowledgement
    engine.dispose()
    single.dispose()


def test_what_an_agent_changed_before_the_bodies_are_read_is_kept(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body routes what nobody set: an agent's priority stays, the category is routed."""
    engine, settings = _recorded_from_headers(dovecot, tmp_path, monkeypatch)
    with Session(engine, expire_on_commit=False) as session:
        ticket = session.exec(select(Ticket).where(Ticket.subject == "Devolución")).one()
        assert (ticket.category, ticket.priority) == ("other", "normal")  # not routed yet
        set_priority(session, ticket, "urgent", now=NOW + timedelta(minutes=1))
        session.commit()
        changed_version = ticket.version
    again = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert again.ok, again.errors
    assert _pending(engine) == []
    clock = IngestConfig.from_settings(settings).clock
    assert clock is not None
    with Session(engine) as session:
        read = session.get(Ticket, ticket.id)
        assert read is not None
        assert read.priority == "urgent"  # the agent's
        assert read.category == "returns"  # routed from the body ("Quiero devolver")
        assert read.version > changed_version
        # The SLA columns are those of the urgent, returns ticket it now is.
        expected = sla_columns(clock.evaluate(session, read, now=NOW))
        assert {name: getattr(read, name) for name in expected} == expected
        assert read.sla_due_at is not None
    engine.dispose()


def test_bodies_owed_to_an_account_renamed_since_are_read_by_the_next_sync(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No sync of "shop" will come again: the sync of the account it became reads them."""
    engine, _settings = _recorded_from_headers(dovecot, tmp_path, monkeypatch)
    assert len(_pending(engine)) == 5
    renamed = settings_for(tmp_path, dovecot, name="tienda")
    report = sync_account(renamed, engine, renamed.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert _pending(engine) == []
    with Session(engine) as session:
        messages = session.exec(select(Message).where(Message.source_account == "shop")).all()
    assert len(messages) == 5 and all(m.body_text for m in messages)
    engine.dispose()


def test_bodies_owed_to_a_folder_no_longer_synced_are_read_by_the_accounts_next_sync(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _settings = _recorded_from_headers(dovecot, tmp_path, monkeypatch)
    with dovecot.client() as client:
        client.create_folder("Pedidos")
    moved = settings_for(tmp_path, dovecot, folders=["Pedidos"])
    report = sync_account(moved, engine, moved.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert _pending(engine) == []
    engine.dispose()


def test_bodies_owed_to_another_configured_account_are_left_to_its_sync(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own sync reads them, under its own lock and lease."""
    engine, _settings = _recorded_from_headers(dovecot, tmp_path, monkeypatch)
    both = settings_for(
        tmp_path,
        accounts=[account_table(dovecot), account_table(dovecot, name="tienda")],
    )
    report = sync_account(both, engine, both.accounts[1], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert len(_pending(engine)) == 5
    engine.dispose()


def test_a_body_that_cannot_be_stored_keeps_its_headers_and_says_why(
    tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, settings = _recorded_from_headers(dovecot, tmp_path, monkeypatch)
    config = IngestConfig.from_settings(settings)
    context = PrepareContext(config.attachments_dir, config.routing)
    with Session(engine) as session:
        rows = session.exec(
            select(MessageRaw.message_id, MessageRaw.data).order_by(col(MessageRaw.message_id))
        ).all()
    items = [(row_id, prepare(bytes(data), context, config.router)) for row_id, data in rows]
    broken = items[1][0]
    real_store = sync_bodies.store_attachments

    def failing(session: Session, lookups: Any, message_id: int, *args: Any) -> None:
        if message_id == broken:
            raise OSError("disk full")
        real_store(session, lookups, message_id, *args)

    monkeypatch.setattr(sync_bodies, "store_attachments", failing)
    assert read_bodies(engine, config, items, now=NOW) == len(items)
    assert _pending(engine) == []  # not retried forever
    with Session(engine) as session:
        messages = {m.id: m for m in session.exec(select(Message))}
    assert messages[broken].body_text == ""
    assert "could not be read: OSError: disk full" in messages[broken].parse_warnings
    others = [m for row_id, m in messages.items() if row_id != broken]
    assert all(m.body_text for m in others)
    assert all("could not be read" not in m.parse_warnings for m in others)
    # Read again (another run with the same results): nothing is pending, nothing changes.
    assert read_bodies(engine, config, items, now=NOW) == 0
    engine.dispose()


def test_a_database_error_leaves_the_bodies_owed(
    tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database, not the message, is at fault: nothing is given up, the next sync reads them."""
    _raws, settings = _delivered_for_a_large_sync(dovecot, tmp_path, monkeypatch)
    engine = _engine(tmp_path / "cs.db")

    def locked(*args: Any, **kw: Any) -> int:
        raise OperationalError("UPDATE message", {}, Exception("database is locked"))

    with monkeypatch.context() as patch:
        patch.setattr(sync_bodies, "update_many", locked)
        first = sync_account(
            settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=2
        )
    assert not first.ok and "database is locked" in first.errors[0]
    assert len(_pending(engine)) == 5
    with Session(engine) as session:
        assert all(
            "could not be read" not in m.parse_warnings for m in session.exec(select(Message))
        )
    again = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert again.ok, again.errors
    assert _pending(engine) == []
    engine.dispose()


def _owed(row_id: int, raw: bytes) -> OwedBody:
    return OwedBody(row_id, raw, prepare_head(raw, Router(RoutingSettings())), opened=True)


def test_the_body_reader_stores_the_oldest_batches_once_too_many_or_too_large_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What waits is held in memory: bounded by batches and by bytes."""
    stored: list[list[int]] = []

    def recorded(engine: Engine, config: IngestConfig, items: Any, **kw: Any) -> int:
        stored.append([row_id for row_id, _ in items])
        return len(items)

    monkeypatch.setattr(sync_bodies, "read_bodies", recorded)
    config = IngestConfig(own_addresses=frozenset(), accounts={}, attachments_dir=tmp_path)
    context = PrepareContext(config.attachments_dir, config.routing)
    raws = _corpus()
    engine = _engine(tmp_path / "cs.db")
    parser = sync_parse.BatchParser(context, total=6, workers=0)
    with sync_bodies.BodyReader(engine, config, parser, now_fn=lambda: NOW, behind=2) as reader:
        for row_id, raw in enumerate(raws[:4], start=1):
            reader.owe([_owed(row_id, raw)])
        assert stored == [[1], [2]]  # two batches may wait, not three
        assert reader.finish() == 4
    assert stored == [[1], [2], [3], [4]]
    stored.clear()
    small = len(raws[0]) + len(raws[1])
    with sync_bodies.BodyReader(
        engine, config, parser, now_fn=lambda: NOW, max_bytes=small
    ) as reader:
        reader.owe([_owed(1, raws[0]), _owed(2, raws[1])])
        assert stored == []  # one batch always waits, whatever its size
        reader.owe([_owed(3, raws[2])])
        assert stored == [[1, 2]]
    assert stored == [[1, 2]]  # closed: what waited stays owed for the next sync
    engine.dispose()


class _Handed:
    """Bodies handed to the parser, done when the test says so."""

    def __init__(self, items: Sequence[OwedBody], spread: bool) -> None:
        self.items = list(items)
        self.ids = [item.row_id for item in items]
        self.spread = spread
        self.finished = False

    def done(self) -> bool:
        return self.finished

    def __call__(self) -> list[sync_parse.Prepared]:
        return [item.head for item in self.items]


class _RecordingParser:
    def __init__(self) -> None:
        self.handed: list[_Handed] = []

    def prepare_bodies(self, items: Sequence[OwedBody], *, spread: bool = True) -> _Handed:
        handed = _Handed(items, spread)
        self.handed.append(handed)
        return handed


def test_while_headers_are_recorded_one_batch_of_bodies_is_parsed_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker parses bodies meanwhile, the next batch once it is done; then all at once."""
    monkeypatch.setattr(sync_bodies, "read_bodies", lambda engine, config, items, **kw: len(items))
    config = IngestConfig(own_addresses=frozenset(), accounts={}, attachments_dir=tmp_path)
    raws = _corpus()
    parser = _RecordingParser()
    reader = sync_bodies.BodyReader(
        _engine(tmp_path / "cs.db"),
        config,
        parser,  # type: ignore[arg-type]
        now_fn=lambda: NOW,
    )
    reader.owe([_owed(1, raws[0]), _owed(2, raws[1])])
    reader.owe([_owed(3, raws[2])])
    assert [(h.ids, h.spread) for h in parser.handed] == [([1, 2], False)]  # the next waits
    parser.handed[0].finished = True
    reader.owe([_owed(4, raws[3])])
    assert [(h.ids, h.spread) for h in parser.handed] == [([1, 2], False), ([3], False)]
    assert reader.finish() == 4
    # The sync's headers are all recorded: what was not handed over goes split among workers.
    assert [(h.ids, h.spread) for h in parser.handed] == [
        ([1, 2], False),
        ([3], False),
        ([4], True),
    ]


def test_a_sync_fetches_far_ahead_only_while_the_batches_are_small() -> None:
    """Fetched batches wait in memory for the writer: how many depends on their size."""
    from cs_console.desk.sync import FETCH_AHEAD, HEADS_AHEAD_BYTES, _HeadsAhead
    from cs_console.mail.imap_sync import FetchedMessage

    small = _HeadsAhead(batch_size=500)
    assert small.limit == FETCH_AHEAD  # nothing seen yet
    small.saw([FetchedMessage(uid=i, raw=b"x" * 4000, internal_date=None) for i in range(500)])
    assert small.limit == sync_bodies.BODIES_BEHIND
    large = _HeadsAhead(batch_size=500)
    size = HEADS_AHEAD_BYTES // 500 // 3  # three batches fit
    large.saw([FetchedMessage(uid=i, raw=b"x" * size, internal_date=None) for i in range(500)])
    assert large.limit == 3
    huge = _HeadsAhead(batch_size=500)
    huge.saw([FetchedMessage(uid=1, raw=b"x" * HEADS_AHEAD_BYTES, internal_date=None)])
    assert huge.limit == FETCH_AHEAD


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "path",
    sorted((*(DATA / "mail").rglob("*.eml"), *(DATA / "hostile").rglob("*.eml"))),
    ids=lambda p: p.name,
)
def test_a_body_read_after_its_headers_is_what_one_parse_gives(path: Path, tmp_path: Path) -> None:
    """The corpus and the malformed messages: the same text, attachments, routing and hash."""
    config = IngestConfig(own_addresses=frozenset(), accounts={}, attachments_dir=tmp_path)
    context = PrepareContext(config.attachments_dir, config.routing)
    raw = path.read_bytes()
    whole = prepare(raw, context, config.router)
    head = prepare_head(raw, config.router)
    assert head.content_hash == whole.content_hash  # the hash the queue recorded holds
    body = sync_parse.prepare_body(OwedBody(1, raw, head, opened=True), context, config.router)
    assert body.parsed == whole.parsed
    assert (body.route, body.stored, body.content_hash) == (
        whole.route,
        whole.stored,
        whole.content_hash,
    )
    appended = sync_parse.prepare_body(OwedBody(1, raw, head, opened=False), context, config.router)
    assert appended.parsed == whole.parsed
    assert appended.route == config.router.unrouted()  # only a ticket's first message is routed


def test_a_survey_answer_recorded_from_headers_is_read_whole_at_once(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Only its text tells a survey answer from a new question: it is not left for later."""
    from cs_console.desk.surveys import queue_due_surveys
    from cs_console.desk.sync_batch import ingest_batch
    from cs_console.desk.sync_report import FolderReport
    from cs_console.mail.imap_sync import FetchedMessage
    from cs_console.store.models import FolderState, Survey, Ticket
    from tests.test_surveys import ON, solved_ticket, workspace
    from tests.test_sync_support import mail

    settings = workspace()
    with Session(sqlite_engine, expire_on_commit=False) as session:
        ticket = solved_ticket(session, "c@example.com", solved=NOW - timedelta(hours=2))
        queue_due_surveys(session, settings, now=NOW, surveys=ON)
        sent = session.exec(select(OutboxItem).where(OutboxItem.kind == "survey")).one()
        state = FolderState(account="shop", folder="INBOX", uidvalidity=7)
        session.add(state)
        session.commit()
    config = IngestConfig(
        own_addresses=frozenset(), accounts={"shop": settings.accounts[0]}, attachments_dir=tmp_path
    )
    raw = mail(
        sender="c@example.com",
        mid="answer@example.com",
        subject="Re: ¿Dónde está mi pedido?",
        in_reply_to=sent.message_id.strip("<>"),  # the answer to the survey mail
        body="Excelente, gracias",
    )
    done = ingest_batch(
        sqlite_engine,
        settings.accounts[0],
        "INBOX",
        7,
        [1],
        [FetchedMessage(1, raw, None)],
        [prepare_head(raw, config.router)],
        FolderReport(folder="INBOX"),
        config,
        lambda: NOW,
        state.id,
    )
    assert done.handled == [1] and done.bodies_owed == []  # read whole, nothing owed
    assert _pending(sqlite_engine) == []
    with Session(sqlite_engine) as session:
        survey = session.exec(select(Survey)).one()
        assert (survey.score, survey.comment) == (5, "gracias")
        kept = session.get(Ticket, ticket.id)
        assert kept is not None and kept.status == "solved"  # an answer does not reopen it
        answer = session.exec(select(Message).where(Message.message_id == "answer@example.com"))
        assert answer.one().body_text == "Excelente, gracias"
