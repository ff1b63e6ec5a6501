"""Folder state: UIDVALIDITY changes, failures that are loud, locks, after-ingest actions, watch."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from imapclient import SEEN
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.desk.sync import SyncReport, account_lock, sync_account
from cs_console.desk.sync_watch import backoff_delays, watch_account
from cs_console.errors import ImapError
from cs_console.mail.imap_sync import ImapFolder
from cs_console.store.models import FolderState, Message, Ticket
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table, write_config
from tests.test_sync_support import NOW, count, mail, settings_for


def _sync(settings, engine: Engine) -> SyncReport:  # type: ignore[no-untyped-def]
    return sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)


def test_uidvalidity_change_resyncs_without_duplicates_or_misses(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    for i in range(3):
        dovecot.deliver(mail(sender=f"c{i}@example.org", mid=f"u{i}@example.org"))
    assert _sync(settings, engine).total("stored") == 3
    with dovecot.client() as client:
        before = client.select_folder("INBOX")[b"UIDVALIDITY"]
    dovecot.reset_uidvalidity()
    for i in range(3, 5):
        dovecot.deliver(mail(sender=f"c{i}@example.org", mid=f"u{i}@example.org"))
    report = _sync(settings, engine)
    assert report.ok, report.errors
    folder = report.folders[0]
    assert folder.uidvalidity_reset
    assert (folder.stored, folder.duplicates) == (2, 3)
    assert count(engine, Message) == 5 and count(engine, Ticket) == 5
    with Session(engine) as session:
        state = session.exec(select(FolderState)).one()
    assert state.uidvalidity != before and state.last_uid == 5
    assert _sync(settings, engine).folders[0].no_news


def test_a_failing_sync_is_loud(sqlite_engine: Engine, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CS_TEST_IMAP_PASSWORD", "x")
    settings = settings_for(tmp_path, None)  # port 1: connection refused
    for _ in range(2):
        report = _sync(settings, sqlite_engine)
    assert not report.ok
    assert "cannot reach" in report.errors[0]
    with Session(sqlite_engine) as session:
        state = session.exec(select(FolderState)).one()
    assert state.consecutive_failures == 2 and "cannot reach" in (state.last_error or "")


def test_a_missing_folder_fails_alone(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot, folders=["Nope", "INBOX"])
    dovecot.deliver(mail())
    report = _sync(settings, sqlite_engine)
    assert not report.ok
    assert report.folders[0].error and report.folders[1].stored == 1
    report = _sync(settings, sqlite_engine)
    assert report.folders[1].no_news


def test_cli_exit_code_and_reason_on_failure(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CS_TEST_IMAP_PASSWORD", "x")
    config = write_config(tmp_path, {"accounts": [account_table(None)]})
    result = subprocess.run(
        [sys.executable, "-m", "cs_console", "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "Sync failed" in result.stderr and "cannot reach" in result.stderr


def test_cli_sync_prints_one_summary_line(dovecot: Dovecot, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(dovecot)]})
    dovecot.deliver(mail())
    result = subprocess.run(
        [sys.executable, "-m", "cs_console", "--config", str(config), "sync"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("shop: 1 new messages, 1 new tickets")
    assert "shop/INBOX: 1/1" in lines  # plain progress when not a terminal


def test_a_held_lock_means_the_run_is_skipped(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail())
    with account_lock(settings, "shop"):
        report = _sync(settings, sqlite_engine)
    assert report.locked and count(sqlite_engine, Message) == 0
    assert _sync(settings, sqlite_engine).total("stored") == 1


def test_overlapping_runs_ingest_once(dovecot: Dovecot, engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot)
    for i in range(30):
        dovecot.deliver(mail(sender=f"c{i}@example.org", mid=f"o{i}@example.org"))
    reports: list[SyncReport] = []

    def run() -> None:
        reports.append(
            sync_account(
                settings,
                engine,
                settings.accounts[0],
                now_fn=lambda: NOW,
                lock_timeout=30,
                batch_size=5,
            )
        )

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r.ok for r in reports)
    assert sum(r.total("stored") for r in reports) == 30
    assert count(engine, Message) == 30


def test_keep_never_marks_read(dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail())
    _sync(settings, sqlite_engine)
    with dovecot.client() as client:
        client.select_folder("INBOX")
        flags = client.get_flags(client.search("ALL"))
    assert all(SEEN not in f for f in flags.values())


def test_seen_after_ingest(dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot, after_ingest="seen")
    dovecot.deliver(mail())
    _sync(settings, sqlite_engine)
    with dovecot.client() as client:
        client.select_folder("INBOX")
        flags = client.get_flags(client.search("ALL"))
    assert flags and all(SEEN in f for f in flags.values())


def test_move_after_ingest(dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, dovecot, after_ingest="move", move_to="Processed")
    dovecot.deliver(mail(mid="a@x"))
    dovecot.deliver(mail(mid="b@x", sender="b@example.org"))
    assert _sync(settings, sqlite_engine).total("stored") == 2
    with dovecot.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert client.select_folder("Processed")[b"EXISTS"] == 2
    dovecot.deliver(mail(mid="c@x", sender="c@example.org"))
    assert _sync(settings, sqlite_engine).total("stored") == 1
    assert count(sqlite_engine, Message) == 3


@pytest.mark.parametrize("after_ingest", ["move", "keep"])
def test_a_batch_whose_mail_is_then_moved_commits_to_disk_first(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path, after_ingest: str
) -> None:
    """synchronous=FULL for that batch: a power loss cannot undo it once the mail has moved."""
    settings = settings_for(tmp_path, dovecot, after_ingest=after_ingest, move_to="Processed")
    dovecot.deliver(mail(mid="a@x"))
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split())[:40])

    event.listen(sqlite_engine, "before_cursor_execute", record)
    try:
        assert _sync(settings, sqlite_engine).total("stored") == 1
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", record)
    insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO message "))
    begin = max(i for i in range(insert) if statements[i].startswith("BEGIN"))
    if after_ingest == "move":
        assert statements[begin - 1] == "PRAGMA synchronous=FULL"
        later = statements[insert:]
        assert "PRAGMA synchronous=NORMAL" in later  # the next transactions as before
    else:
        assert "PRAGMA synchronous=FULL" not in statements


def test_backoff_grows_to_a_limit() -> None:
    step = backoff_delays(limit=10)
    assert [step() for _ in range(6)] == [1, 2, 4, 8, 10, 10]


def test_watch_picks_up_new_mail_through_idle(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    stop = threading.Event()
    first = threading.Event()
    got_mail = threading.Event()

    def on_report(report: SyncReport) -> None:
        first.set()
        if report.total("stored"):
            got_mail.set()

    worker = threading.Thread(
        target=watch_account,
        args=(settings, sqlite_engine, settings.accounts[0]),
        kwargs={"stop": stop, "interval": 30, "on_report": on_report, "now_fn": lambda: NOW},
    )
    worker.start()
    try:
        assert first.wait(30)
        dovecot.append(mail(mid="idle@example.org"))
        assert got_mail.wait(30)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
    assert count(sqlite_engine, Message) == 1


def test_no_news_poll_is_one_status_round_trip(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    from cs_console.mail.connect import imap_connect
    from cs_console.mail.endpoints import imap_endpoint
    from tests.rig.dovecot import PASSWORD

    settings = settings_for(tmp_path, dovecot)
    account = settings.accounts[0]
    dovecot.deliver(mail())
    client = imap_connect(imap_endpoint(account), PASSWORD)
    sent: list[str] = []
    original = client._imap._command

    def counting(name, *args):  # type: ignore[no-untyped-def]
        sent.append(name)
        return original(name, *args)

    client._imap._command = counting
    try:
        first = sync_account(settings, sqlite_engine, account, now_fn=lambda: NOW, client=client)
        assert first.total("stored") == 1
        assert "SELECT" in sent
        sent.clear()
        poll = sync_account(settings, sqlite_engine, account, now_fn=lambda: NOW, client=client)
        assert poll.folders[0].no_news
        assert sent == ["STATUS"]
    finally:
        client.logout()


def test_sent_folder_is_found_by_special_use(dovecot: Dovecot) -> None:
    from cs_console.mail.imap_sync import detect_sent_folder

    with dovecot.client() as client:
        assert detect_sent_folder(client) == "Sent"


def test_cli_watch_syncs_new_mail_and_stops_on_ctrl_c(dovecot: Dovecot, tmp_path: Path) -> None:
    import signal

    config = write_config(tmp_path, {"accounts": [account_table(dovecot)]})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cs_console",
            "--config",
            str(config),
            "sync",
            "--watch",
            "--interval",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "Watching 1 account" in proc.stdout.readline()
        dovecot.append(mail(mid="watch@example.org"))
        for line in proc.stdout:  # wait for the observable result, not for time
            if "1 new messages" in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_marks_owed_by_a_stopped_sync_are_done_by_the_next(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, dovecot, after_ingest="seen")
    dovecot.deliver(mail(mid="a@x"))
    dovecot.deliver(mail(mid="b@x", sender="b@example.org"))

    def refuse(self: ImapFolder, uids: list[int]) -> None:
        raise ImapError("cannot mark mail read in 'INBOX': connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(ImapFolder, "mark_seen", refuse)
        first = _sync(settings, sqlite_engine)
    assert first.total("stored") == 2
    assert any("connection lost" in w for w in first.folders[0].warnings)
    with Session(sqlite_engine) as session:
        state = session.exec(select(FolderState)).one()
        assert state.after_ingest_pending == "1:2"
    with dovecot.client() as client:
        client.select_folder("INBOX")
        assert len(client.search("UNSEEN")) == 2

    second = _sync(settings, sqlite_engine)
    assert not second.folders[0].no_news  # owed work is not "no news"
    assert second.total("stored") == 0
    with dovecot.client() as client:
        client.select_folder("INBOX")
        assert client.search("UNSEEN") == []
    with Session(sqlite_engine) as session:
        assert session.exec(select(FolderState)).one().after_ingest_pending is None
    assert _sync(settings, sqlite_engine).folders[0].no_news


def test_owed_marks_are_dropped_when_the_account_keeps_mail(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)  # after_ingest = "keep"
    dovecot.deliver(mail())
    _sync(settings, sqlite_engine)
    with Session(sqlite_engine) as session:
        state = session.exec(select(FolderState)).one()
        state.after_ingest_pending = "1"  # owed under an earlier "seen" setting
        session.add(state)
        session.commit()
    _sync(settings, sqlite_engine)
    with Session(sqlite_engine) as session:
        assert session.exec(select(FolderState)).one().after_ingest_pending is None
    with dovecot.client() as client:
        client.select_folder("INBOX")
        assert len(client.search("UNSEEN")) == 1
