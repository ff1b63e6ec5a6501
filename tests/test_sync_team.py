"""Team mode: one syncer per account when several processes share a database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from cs_console.clock import utcnow
from cs_console.desk.leases import current_holder, sync_lease_name, try_acquire
from cs_console.desk.sync import SyncReport, sync_account
from cs_console.desk.sync_watch import watch_account
from cs_console.store.models import Message
from tests.rig.database import postgres_schema, postgres_url_for
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table, write_config
from tests.test_sync_support import NOW, count, mail, settings_for

ROOT = Path(__file__).parent.parent
ELSEWHERE = "another-machine:4242:abcd1234"  # a holder this machine cannot see die


def _wait_for(condition: object, *, limit: float, what: str) -> None:
    """Poll until ``condition`` holds; ``limit`` is a generous deadline for a loaded machine."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)  # polling an observable fact
    raise AssertionError(f"timed out waiting for {what}")


def test_an_account_leased_elsewhere_is_skipped_until_the_lease_expires(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    account = settings.accounts[0]
    dovecot.deliver(mail(mid="a@example.org"))
    start = utcnow()
    ttl = timedelta(seconds=30)
    assert try_acquire(engine, sync_lease_name("shop"), ELSEWHERE, now=start, ttl=ttl)
    skipped = sync_account(settings, engine, account, now_fn=lambda: NOW, lease_clock=lambda: start)
    assert skipped.ok and skipped.skipped
    assert skipped.lease_holder == ELSEWHERE
    assert count(engine, Message) == 0
    later = start + ttl + timedelta(seconds=1)
    report = sync_account(settings, engine, account, now_fn=lambda: NOW, lease_clock=lambda: later)
    assert report.ok and not report.skipped
    assert report.total("stored") == 1
    # released on a clean exit: nobody holds it now
    assert current_holder(engine, sync_lease_name("shop"), now=later) is None


def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's lines are read in English whatever the machine's locale."""
    monkeypatch.setenv("CS_CONSOLE_LANG", "en")


def test_cli_sync_says_it_skipped_and_exits_zero(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _english(monkeypatch)
    with postgres_schema() as (engine, schema):
        config = write_config(
            tmp_path,
            {"accounts": [account_table(dovecot)], "database": {"url": postgres_url_for(schema)}},
        )
        dovecot.deliver(mail(mid="b@example.org"))
        assert try_acquire(engine, sync_lease_name("shop"), ELSEWHERE, now=utcnow())
        run = subprocess.run(
            [sys.executable, "-m", "cs_console", "--config", str(config), "sync"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert "shop: skipped, another process syncs it" in run.stdout
        assert ELSEWHERE in run.stdout
        assert count(engine, Message) == 0


def test_a_watcher_takes_over_when_a_lease_from_elsewhere_expires(
    dovecot: Dovecot, engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, dovecot)
    ttl = timedelta(seconds=2)
    for i in range(3):
        dovecot.deliver(mail(mid=f"e{i}@example.org", sender=f"c{i}@example.org"))
    assert try_acquire(engine, sync_lease_name("shop"), ELSEWHERE, now=utcnow(), ttl=ttl)
    reports: list[SyncReport] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_account,
        args=(settings, engine, settings.accounts[0]),
        kwargs={"stop": stop, "interval": 1.0, "lease_ttl": ttl, "on_report": reports.append},
    )
    thread.start()
    try:
        _wait_for(lambda: count(engine, Message) == 3, limit=30, what="the take-over")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert any(r.lease_holder == ELSEWHERE for r in reports)  # it stood by first
    assert current_holder(engine, sync_lease_name("shop"), now=utcnow()) is None  # released


class _Watcher:
    """A real ``cs-console sync --watch`` process whose output lines are collected."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cs_console",
                "--config",
                str(config),
                "sync",
                "--watch",
                "--interval",
                "1",
                "--lease-seconds",
                "3",
                "--batch-size",
                "5",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def said(self, words: str) -> bool:
        return any(words in line for line in self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _rows(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM message")).scalar_one()
        distinct = conn.execute(text("SELECT count(DISTINCT message_id) FROM message")).scalar_one()
    return int(total), int(distinct)


def test_two_watchers_ingest_each_message_once_and_one_takes_over_after_kill_9(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _english(monkeypatch)
    total = 90
    with postgres_schema() as (engine, schema):
        url = postgres_url_for(schema)
        configs = []
        for name in ("one", "two"):  # two machines: separate data dirs (no shared file lock)
            folder = tmp_path / name
            folder.mkdir()
            configs.append(
                write_config(
                    folder, {"accounts": [account_table(dovecot)], "database": {"url": url}}
                )
            )
        watchers = [_Watcher(config) for config in configs]
        delivered = threading.Event()

        def deliver() -> None:
            for i in range(total):
                dovecot.deliver(
                    mail(sender=f"c{i % 9}@example.org", mid=f"t{i}@example.org", subject=f"P {i}")
                )
                time.sleep(0.03)  # mail keeps arriving over a few seconds
            delivered.set()

        producer = threading.Thread(target=deliver)
        producer.start()
        try:
            _wait_for(
                lambda: any(w.said("skipped, another process syncs it") for w in watchers),
                limit=180,
                what="one watcher standing by",
            )
            _wait_for(lambda: _rows(engine)[0] >= 20, limit=180, what="the first messages")
            holder = current_holder(engine, sync_lease_name("shop"), now=utcnow())
            assert holder is not None
            pid = int(holder.split(":")[1])
            by_pid = {w.proc.pid: w for w in watchers}
            assert pid in by_pid
            os.kill(pid, signal.SIGKILL)
            by_pid[pid].proc.wait(timeout=10)
            survivor = next(w for w in watchers if w.proc.pid != pid)
            assert survivor.said("skipped, another process syncs it")
            producer.join(timeout=60)
            assert delivered.is_set()
            _wait_for(lambda: _rows(engine)[0] >= total, limit=180, what="every message")
            _wait_for(
                lambda: survivor.said("this process syncs it now"), limit=10, what="the take-over"
            )
            rows, distinct = _rows(engine)
            assert rows == distinct == total
            new_holder = current_holder(engine, sync_lease_name("shop"), now=utcnow())
            assert new_holder is not None and new_holder.split(":")[1] == str(survivor.proc.pid)
        finally:
            producer.join(timeout=60)
            for watcher in watchers:
                watcher.stop()
        assert _rows(engine) == (total, total)
