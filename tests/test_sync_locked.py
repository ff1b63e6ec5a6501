"""A locked database: the sync says so in plain words and loses nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cs_console.desk.sync import sync_account
from cs_console.store import engine as store_engine
from cs_console.store.engine import make_engine
from cs_console.store.migrate import upgrade
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, mail, settings_for


def test_a_locked_database_is_reported_in_plain_words(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 200)
    engine = make_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    upgrade(engine)
    settings = settings_for(tmp_path, dovecot)
    dovecot.deliver(mail())
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    [error] = report.errors
    assert "locked" in error or "busy" in error
    assert "[SQL:" not in error and "sqlalche.me" not in error and "OperationalError" not in error
