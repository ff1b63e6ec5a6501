"""Faults between cs-console and its servers: nothing lost, nothing twice, recovery, a clear status.

A :class:`~tests.rig.faultproxy.FaultProxy` sits between the client and the
rig's Dovecot or aiosmtpd and drops, stalls, truncates or refuses on demand.
Each test arms one fault, shows the run reports it, lifts it and shows the
next run (same process, no restart) finishes the job exactly once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

import cs_console.desk.outbox_drain as outbox_drain
import cs_console.desk.sync as desk_sync
import cs_console.desk.sync_watch as desk_sync_watch
from cs_console.cli import app
from cs_console.config import load_settings
from cs_console.desk.outbox import drain_outbox
from cs_console.desk.replies import reply_to_ticket
from cs_console.desk.sync import SyncReport, read_states, sync_account
from cs_console.desk.sync_watch import watch_account
from cs_console.errors import ConfigError
from cs_console.mail.connect import imap_connect
from cs_console.mail.smtp_send import SmtpSender
from cs_console.store import engine as store_engine
from cs_console.store.database import open_database
from cs_console.store.engine import make_engine, session_scope
from cs_console.store.migrate import upgrade
from cs_console.store.models import Attachment, Message, MessageRaw, OutboxItem
from tests.rig.database import postgres_schema, postgres_url_for
from tests.rig.dovecot import Dovecot
from tests.rig.faultproxy import FaultProxy, running_proxy
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import account_table, write_config
from tests.test_outbox_support import Clock, make_settings, new_ticket, rig_passwords
from tests.test_sync_support import NOW, count, mail, settings_for

N_MAIL = 24
BATCH = 6
PAD = "Detalle del pedido, línea de relleno para que el mensaje pese algo.\n" * 20


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's messages are asserted in English, whatever the machine's locale."""
    monkeypatch.setenv("CS_CONSOLE_LANG", "en")


@pytest.fixture
def imap_proxy(dovecot: Dovecot) -> Iterator[FaultProxy]:
    with running_proxy(dovecot.host, dovecot.port) as proxy:
        yield proxy


@pytest.fixture
def smtp_proxy(smtp_server: SmtpServer) -> Iterator[FaultProxy]:
    with running_proxy(smtp_server.host, smtp_server.port) as proxy:
        yield proxy


def _fill(dovecot: Dovecot, n: int = N_MAIL) -> None:
    dovecot.deliver_many(
        mail(sender=f"c{i}@example.org", mid=f"fault{i}@example.org", body=f"{i}\n{PAD}")
        for i in range(n)
    )


def _sync(settings, engine: Engine) -> SyncReport:  # type: ignore[no-untyped-def]
    return sync_account(
        settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=BATCH
    )


def _assert_exactly_once(engine: Engine, n: int = N_MAIL) -> None:
    with Session(engine) as session:
        rows = session.exec(select(Message.message_id, Message.source_uid)).all()
    ids = [mid for mid, _ in rows]
    assert sorted(ids) == sorted(f"fault{i}@example.org" for i in range(n))
    uids = [uid for _, uid in rows]
    assert len(set(uids)) == len(uids)


# -- sync under faults ------------------------------------------------------------------------


FAULTS = {
    "drop on the second fetch": lambda p: p.drop_on(b"UID FETCH", after=1),
    "drop mid-response": lambda p: p.drop_after(9000),
    "truncated fetch answer": lambda p: p.truncate_on(b"UID FETCH", keep=700, after=2),
    "truncated select answer": lambda p: p.truncate_on(b"SELECT", keep=40),
    "drop on login": lambda p: p.drop_on(b"LOGIN"),
    "refused": lambda p: p.refuse(),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_sync_survives_a_fault_and_the_next_pass_completes(
    fault: str, dovecot: Dovecot, imap_proxy: FaultProxy, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, imap_port=imap_proxy.port)
    _fill(dovecot)
    FAULTS[fault](imap_proxy)

    first = _sync(settings, sqlite_engine)

    assert not first.ok and first.errors, fault
    assert all("\n" not in e and len(e) < 600 for e in first.errors)
    [state] = read_states(sqlite_engine)
    assert state.last_error and state.consecutive_failures == 1
    stored = count(sqlite_engine, Message)
    assert stored < N_MAIL
    assert stored % BATCH == 0  # whole batches only: a batch commits with its state

    imap_proxy.clear()
    imap_proxy.accept()
    second = _sync(settings, sqlite_engine)

    assert second.ok, second.errors
    assert second.total("stored") == N_MAIL - stored
    _assert_exactly_once(sqlite_engine)
    [state] = read_states(sqlite_engine)
    assert state.last_error is None and state.consecutive_failures == 0
    assert _sync(settings, sqlite_engine).folders[0].no_news


def test_a_stall_past_the_timeout_fails_the_pass_and_the_next_one_completes(
    dovecot: Dovecot,
    imap_proxy: FaultProxy,
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(desk_sync, "imap_connect", functools.partial(imap_connect, timeout=1.0))
    settings = settings_for(tmp_path, dovecot, imap_port=imap_proxy.port)
    _fill(dovecot)
    imap_proxy.stall_on(b"UID FETCH", after=2)

    first = _sync(settings, sqlite_engine)

    assert imap_proxy.stalled.is_set()
    assert not first.ok and any("timed out" in e or "time" in e for e in first.errors), first.errors
    stored = count(sqlite_engine, Message)
    assert stored < N_MAIL and stored % BATCH == 0
    imap_proxy.release()
    second = _sync(settings, sqlite_engine)
    assert second.ok, second.errors
    _assert_exactly_once(sqlite_engine)


def test_a_stall_that_ends_lets_the_same_pass_finish(
    dovecot: Dovecot, imap_proxy: FaultProxy, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, imap_port=imap_proxy.port)
    _fill(dovecot)
    imap_proxy.stall_on(b"UID FETCH", after=1)
    result: list[SyncReport] = []
    worker = threading.Thread(target=lambda: result.append(_sync(settings, sqlite_engine)))
    worker.start()
    assert imap_proxy.stalled.wait(20)
    assert worker.is_alive() and not result  # the pass waits, it does not give up or skip
    imap_proxy.release()
    worker.join(30)
    [report] = result
    assert report.ok, report.errors
    _assert_exactly_once(sqlite_engine)


# -- the IDLE watcher -------------------------------------------------------------------------


def test_watch_reconnects_after_a_cut_and_a_refusal_and_misses_nothing(
    dovecot: Dovecot, imap_proxy: FaultProxy, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, imap_port=imap_proxy.port)
    _fill(dovecot, 3)
    stop = threading.Event()
    synced = threading.Condition()
    errors: list[str] = []
    reports: list[SyncReport] = []

    def on_report(report: SyncReport) -> None:
        with synced:
            reports.append(report)
            synced.notify_all()

    def on_error(_account: str, message: str, _delay: float) -> None:
        with synced:
            errors.append(message)
            synced.notify_all()
            if len(errors) == 2:
                imap_proxy.accept()  # the server is back after the second failure

    def wait_until(predicate) -> None:  # type: ignore[no-untyped-def]
        with synced:
            assert synced.wait_for(predicate, timeout=30)

    watcher = threading.Thread(
        target=watch_account,
        args=(settings, sqlite_engine, settings.accounts[0]),
        kwargs={
            "stop": stop,
            "interval": 5.0,
            "now_fn": lambda: NOW,
            "on_report": on_report,
            "on_error": on_error,
        },
    )
    watcher.start()
    try:
        wait_until(lambda: count(sqlite_engine, Message) == 3)
        imap_proxy.refuse()
        imap_proxy.cut_all()  # the IDLE connection is gone and the server refuses for a while
        wait_until(lambda: len(errors) >= 2)
        _fill_more = [mail(sender=f"c{i}@example.org", mid=f"fault{i}@example.org") for i in (3, 4)]
        dovecot.deliver_many(_fill_more)
        wait_until(lambda: count(sqlite_engine, Message) == 5)
    finally:
        stop.set()
        watcher.join(30)
    assert not watcher.is_alive()
    assert any("dropped" in e or "IMAP" in e for e in errors[:1]), errors
    assert any("cannot reach" in e for e in errors), errors
    _assert_exactly_once(sqlite_engine, 5)
    assert reports[-1].ok


# -- a locked database -------------------------------------------------------------------------


@pytest.fixture
def quick_lock_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite engine whose busy timeout is 0.2 s, so a held lock outlasts it quickly."""
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = make_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def write_lock(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding a write transaction on the same file until the test ends."""
    conn = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, timeout=0)
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_sync_with_the_database_locked_reports_it_and_loses_nothing(
    dovecot: Dovecot,
    quick_lock_engine: Engine,
    write_lock: sqlite3.Connection,
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, dovecot)
    _fill(dovecot, 8)
    write_lock.execute("BEGIN IMMEDIATE")

    report = _sync(settings, quick_lock_engine)

    assert not report.ok
    assert any("database is locked" in e for e in report.errors), report.errors
    write_lock.execute("ROLLBACK")
    assert count(quick_lock_engine, Message) == 0
    again = _sync(settings, quick_lock_engine)
    assert again.ok, again.errors
    _assert_exactly_once(quick_lock_engine, 8)


async def test_send_with_the_database_locked_reports_it_and_sends_later(
    smtp_server: SmtpServer,
    quick_lock_engine: Engine,
    write_lock: sqlite3.Connection,
    now: datetime,
) -> None:
    settings = make_settings(smtp_server, undo=0)
    number = new_ticket(quick_lock_engine, now=now, message_id="<lock-1@example.org>")
    with session_scope(quick_lock_engine) as session:
        item_id = reply_to_ticket(session, settings, number, "Hola", now=now).outbox_id
    write_lock.execute("BEGIN IMMEDIATE")

    report = await drain_outbox(
        settings, quick_lock_engine, now_fn=lambda: now, password_fn=rig_passwords
    )

    assert not report.ok
    assert any("database" in e and "locked" in e for e in report.errors), report.errors
    assert smtp_server.received == []
    write_lock.execute("ROLLBACK")
    report = await drain_outbox(
        settings, quick_lock_engine, now_fn=lambda: now, password_fn=rig_passwords
    )
    assert report.sent == 1 and report.ok, report.errors
    assert len(smtp_server.wait_for(1)) == 1
    with session_scope(quick_lock_engine) as session:
        stored = session.get(OutboxItem, item_id)
        assert stored is not None and stored.status == "sent"


# -- the outbox under faults ------------------------------------------------------------------


def _queue(engine: Engine, settings, now: datetime, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        number = new_ticket(engine, now=now, message_id=f"<out-{i}@example.org>")
        with session_scope(engine) as session:
            ids.append(reply_to_ticket(session, settings, number, f"Hola {i}", now=now).outbox_id)
    return ids


def _statuses(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [i.status for i in session.exec(select(OutboxItem).order_by(OutboxItem.id)).all()]


def _delivered_ids(server: SmtpServer) -> list[str]:
    return [str(r.message["Message-ID"]) for r in server.received]


SEND_FAULTS = {
    "drop on the second DATA": (lambda p: p.drop_on(b"DATA\r\n", after=1), 2),
    "drop on the first MAIL FROM": (lambda p: p.drop_on(b"MAIL FROM"), 2),
    "truncated greeting": (lambda p: p.drop_after(10), 0),
    "truncated EHLO answer": (lambda p: p.truncate_on(b"EHLO", keep=12), 0),
    "refused": (lambda p: p.refuse(), 0),
}


@pytest.mark.parametrize("fault", list(SEND_FAULTS))
async def test_outbox_survives_a_fault_and_the_retry_sends_each_once(
    fault: str,
    sqlite_engine: Engine,
    smtp_server: SmtpServer,
    smtp_proxy: FaultProxy,
    now: datetime,
) -> None:
    settings = make_settings(smtp_server, undo=0, smtp_port=smtp_proxy.port)
    _queue(sqlite_engine, settings, now, 3)
    arm, sent_first = SEND_FAULTS[fault]
    arm(smtp_proxy)
    clock = Clock(now)

    first = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)

    assert first.sent == sent_first, first
    assert first.retrying == 3 - sent_first and first.failed == 0
    assert first.errors  # the reason is in the report
    if sent_first == 0:
        assert not first.ok and first.unreachable == ["shop"]
    assert _statuses(sqlite_engine).count("queued") == 3 - sent_first
    assert len(smtp_server.received) == sent_first

    smtp_proxy.clear()
    smtp_proxy.accept()
    clock.advance(hours=2)
    second = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert second.sent == 3 - sent_first and second.ok, second.errors
    smtp_server.wait_for(3)
    delivered = _delivered_ids(smtp_server)
    assert len(delivered) == len(set(delivered)) == 3
    assert _statuses(sqlite_engine) == ["sent"] * 3


async def test_outbox_stall_before_data_times_out_and_is_sent_once_later(
    sqlite_engine: Engine,
    smtp_server: SmtpServer,
    smtp_proxy: FaultProxy,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_drain, "SmtpSender", functools.partial(SmtpSender, timeout=1.0))
    settings = make_settings(smtp_server, undo=0, smtp_port=smtp_proxy.port)
    _queue(sqlite_engine, settings, now, 1)
    smtp_proxy.stall_on(b"RCPT TO")
    clock = Clock(now)

    first = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)

    assert smtp_proxy.stalled.is_set()
    assert first.sent == 0 and first.retrying == 1, first
    assert any("time" in e for e in first.errors), first.errors
    smtp_proxy.release()
    clock.advance(hours=2)
    second = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert second.sent == 1, second.errors
    assert len(smtp_server.wait_for(1)) == 1
    assert _statuses(sqlite_engine) == ["sent"]


async def test_outbox_loss_of_the_final_answer_resends_identical_bytes(
    sqlite_engine: Engine,
    smtp_server: SmtpServer,
    smtp_proxy: FaultProxy,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one window SMTP cannot close: the server took the message but its 250 was lost.

    The retry sends the very same bytes (same Message-ID), so the recipient's
    mail client shows one message; nothing is lost.
    """
    monkeypatch.setattr(outbox_drain, "SmtpSender", functools.partial(SmtpSender, timeout=1.0))
    settings = make_settings(smtp_server, undo=0, smtp_port=smtp_proxy.port)
    _queue(sqlite_engine, settings, now, 1)
    smtp_proxy.stall_on(b"\r\n.\r\n")
    clock = Clock(now)
    first = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert first.sent == 0 and first.retrying == 1
    smtp_proxy.release()
    clock.advance(hours=2)
    second = await drain_outbox(settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords)
    assert second.sent == 1
    copies = smtp_server.wait_for(2)
    assert len({c.message["Message-ID"] for c in copies}) == 1
    assert copies[0].data == copies[1].data


# -- disk full while saving an attachment -----------------------------------------------------

_LIMITED_SYNC = """
import json, resource, signal, sys
from datetime import UTC, datetime
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from cs_console.config import load_settings
from cs_console.desk.sync import sync_account
from cs_console.store.database import open_database
settings = load_settings(sys.argv[1])
engine = open_database(settings.database_url)
report = sync_account(
    settings, engine, settings.accounts[0], now_fn=lambda: datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
)
warnings = [w for f in report.folders for w in f.warnings]
print(json.dumps({"ok": report.ok, "errors": report.errors, "warnings": warnings,
                  "stored": report.total("stored"), "quarantined": report.total("quarantined")}))
"""


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_disk_full_while_saving_an_attachment_loses_nothing(
    database: str, dovecot: Dovecot, tmp_path: Path, postgres_available: None
) -> None:
    """A file-size limit on the syncing process: with SQLite the database write fails
    first (the run fails, nothing is taken); with PostgreSQL only the attachment file
    fails (the message is kept raw on a ticket, with a warning)."""
    with contextlib.ExitStack() as stack:
        extra: dict[str, object] = {}
        if database == "postgresql":
            _engine, schema = stack.enter_context(postgres_schema())
            extra["database"] = {"url": postgres_url_for(schema)}
        config = write_config(tmp_path, {"accounts": [account_table(dovecot)], **extra})
        settings = load_settings(config)
        engine = open_database(settings.database_url)  # migrated before the limit
        big = bytes(range(256)) * 8192  # 2 MiB: past the 1 MiB limit below
        dovecot.deliver(mail(mid="small@example.org", sender="a@example.org"))
        dovecot.deliver(
            mail(mid="big@example.org", sender="b@example.org", attachment=("v.bin", big))
        )

        limited = subprocess.run(
            [sys.executable, "-c", _LIMITED_SYNC, str(config), str(1024 * 1024)],
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert limited.returncode == 0, limited.stderr[-2000:]
        outcome = json.loads(limited.stdout.strip().splitlines()[-1])
        problems = " ".join(outcome["errors"] + outcome["warnings"])
        if database == "sqlite":
            assert not outcome["ok"] and "disk I/O error" in problems, outcome
            assert count(engine, Message) == 0
        else:
            assert outcome["quarantined"] == 1 and "File too large" in problems, outcome
        leftovers = [p for p in settings.attachments_dir.rglob("*.tmp")]
        assert leftovers == []

        again = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
        assert again.ok, again.errors
        with Session(engine) as session:
            rows = session.exec(select(Message)).all()
            mids = sorted(m.message_id or "" for m in rows)
            raws = session.exec(select(MessageRaw)).all()
            sizes = [a.size for a in session.exec(select(Attachment)).all()]
        assert mids == ["big@example.org", "small@example.org"]
        # Nothing is lost: the big message is there whole, raw bytes at least.
        assert any(len(r.data) > len(big) for r in raws)
        if database == "sqlite":
            assert sizes == [len(big)]
        engine.dispose()


# -- the config file edited while running -----------------------------------------------------


def test_a_broken_config_edit_is_reported_and_the_loaded_settings_keep_working(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(dovecot)]})
    settings = load_settings(config)
    engine = open_database(settings.database_url)
    dovecot.deliver(mail(mid="before@example.org"))
    config.write_text(config.read_text() + "\n[[accounts]\nname = 'half written'\n")

    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(config) in caught.value.message or "config.toml" in caught.value.message
    assert "line" in caught.value.message

    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok and report.total("stored") == 1

    cli = CliRunner().invoke(app, ["--config", str(config), "sync"])
    assert cli.exit_code != 0
    assert "Traceback" not in cli.output and "config.toml" in cli.output


def test_the_watcher_keeps_the_settings_it_started_with(dovecot: Dovecot, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(dovecot)]})
    settings = load_settings(config)
    engine = open_database(settings.database_url)
    dovecot.deliver(mail(mid="w1@example.org"))
    stop = threading.Event()
    seen = threading.Condition()
    reports: list[SyncReport] = []

    def on_report(report: SyncReport) -> None:
        with seen:
            reports.append(report)
            seen.notify_all()

    watcher = threading.Thread(
        target=watch_account,
        args=(settings, engine, settings.accounts[0]),
        kwargs={"stop": stop, "interval": 5.0, "now_fn": lambda: NOW, "on_report": on_report},
    )
    watcher.start()
    try:
        with seen:
            assert seen.wait_for(lambda: count(engine, Message) == 1, timeout=30)
        # Edit the file under the running watcher: another port, then garbage.
        config.write_text(config.read_text().replace(str(dovecot.port), "1"))
        config.write_text(config.read_text() + "\nthis is = = not toml\n")
        dovecot.deliver(mail(mid="w2@example.org", sender="b@example.org"))
        with seen:
            assert seen.wait_for(lambda: count(engine, Message) == 2, timeout=30)
    finally:
        stop.set()
        watcher.join(30)
    assert all(r.ok for r in reports), [r.errors for r in reports]


@pytest.mark.parametrize(
    "fault",
    [
        lambda p: p.drop_on(b"APPEND"),
        lambda p: p.truncate_on(b"APPEND", keep=3),
        lambda p: p.refuse(),
    ],
    ids=["drop on APPEND", "truncated APPEND answer", "refused"],
)
async def test_a_sent_copy_lost_to_a_fault_is_saved_later_and_the_mail_not_resent(
    fault,  # type: ignore[no-untyped-def]
    sqlite_engine: Engine,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    imap_proxy: FaultProxy,
    now: datetime,
) -> None:
    settings = make_settings(smtp_server, dovecot, undo=0, imap_port=imap_proxy.port)
    _queue(sqlite_engine, settings, now, 2)
    fault(imap_proxy)
    clock = Clock(now)
    drainer = outbox_drain.OutboxDrainer(
        settings, sqlite_engine, now_fn=clock, password_fn=rig_passwords
    )

    first = await drainer.drain()

    assert first.sent == 2 and first.copies_saved == 0
    assert any("sent cop" in e for e in first.errors), first.errors
    imap_proxy.clear()
    imap_proxy.accept()
    clock.advance(minutes=10)
    second = await drainer.drain()
    assert second.sent == 0 and second.copies_saved == 2, second.errors
    assert len(smtp_server.received) == 2
    with dovecot.client() as client:
        assert client.select_folder("Sent", readonly=True)[b"EXISTS"] == 2


WATCH_FAULTS = {
    "drop on IDLE": lambda p: p.drop_on(b"IDLE"),
    "stall on IDLE": lambda p: p.stall_on(b"IDLE"),
    "truncated IDLE answer": lambda p: p.truncate_on(b"IDLE", keep=2),
}


@pytest.mark.parametrize("fault", list(WATCH_FAULTS))
def test_watch_recovers_from_a_fault_while_idling(
    fault: str,
    dovecot: Dovecot,
    imap_proxy: FaultProxy,
    sqlite_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        desk_sync_watch, "imap_connect", functools.partial(imap_connect, timeout=1.0)
    )
    settings = settings_for(tmp_path, dovecot, imap_port=imap_proxy.port)
    _fill(dovecot, 2)
    stop = threading.Event()
    changed = threading.Condition()
    errors: list[str] = []

    def on_error(_account: str, message: str, _delay: float) -> None:
        with changed:
            errors.append(message)
            changed.notify_all()
        imap_proxy.release()  # a stalled answer may go now: the client has given up on it

    def on_report(_report: SyncReport) -> None:
        with changed:
            changed.notify_all()

    WATCH_FAULTS[fault](imap_proxy)
    watcher = threading.Thread(
        target=watch_account,
        args=(settings, sqlite_engine, settings.accounts[0]),
        kwargs={
            "stop": stop,
            "interval": 5.0,
            "now_fn": lambda: NOW,
            "on_report": on_report,
            "on_error": on_error,
        },
    )
    watcher.start()
    try:
        with changed:
            assert changed.wait_for(lambda: errors, timeout=30)
        dovecot.deliver_many(
            mail(sender=f"c{i}@example.org", mid=f"fault{i}@example.org") for i in (2, 3)
        )
        with changed:
            assert changed.wait_for(lambda: count(sqlite_engine, Message) == 4, timeout=30)
    finally:
        stop.set()
        imap_proxy.release()
        watcher.join(30)
    assert not watcher.is_alive()
    assert "dropped" in errors[0] or "IMAP" in errors[0], errors
    _assert_exactly_once(sqlite_engine, 4)


def test_cli_send_exits_non_zero_while_the_server_refuses_and_sends_after(
    smtp_server: SmtpServer, smtp_proxy: FaultProxy, tmp_path: Path
) -> None:
    account = account_table(None, smtp_server, smtp_port=smtp_proxy.port)
    del account["password_env"]
    config = write_config(
        tmp_path,
        {"accounts": [account], "outbox": {"undo_seconds": 0}, "agent": {"name": "lucia"}},
    )
    engine = open_database(load_settings(config).database_url)
    number = new_ticket(engine, now=datetime.now(UTC) - timedelta(minutes=5))
    cli = CliRunner()
    assert (
        cli.invoke(app, ["--config", str(config), "reply", str(number)], input="Hola").exit_code
        == 0
    )
    smtp_proxy.refuse()

    refused = cli.invoke(app, ["--config", str(config), "send"])

    assert refused.exit_code == 1
    assert "unreachable: shop" in refused.output and "Traceback" not in refused.output
    assert _statuses(engine) == ["queued"]
    smtp_proxy.accept()
    with session_scope(engine) as session:  # the retry is due now (no waiting for the backoff)
        for row in session.exec(select(OutboxItem)).all():
            row.not_before = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
    sent = cli.invoke(app, ["--config", str(config), "send"])
    assert sent.exit_code == 0, sent.output
    assert len(smtp_server.wait_for(1)) == 1
    assert _statuses(engine) == ["sent"]
