"""Exactly once under failure: a real ``cs-console sync`` killed with SIGKILL at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from cs_console.store.engine import make_engine
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import account_table, write_config
from tests.test_sync_support import mail

TOTAL = 120


def _cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cs_console", "--config", str(config), *args]


# `cs-console` with parser processes for any sync, however small: they fetch and parse.
POOLED = (
    "import runpy, cs_console.desk.sync_parse as p; p.POOL_MIN_MESSAGES = 1; "
    "runpy.run_module('cs_console', run_name='__main__', alter_sys=True)"
)


def _pooled_cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", POOLED, "--config", str(config), *args]


def _rows(db: Path) -> int:
    if not db.exists():
        return 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            try:
                return int(conn.execute(text("SELECT count(*) FROM message")).scalar_one())
            except Exception:  # schema not created yet
                return 0
    finally:
        engine.dispose()


def _wait_for_rows(
    db: Path, target: int, proc: subprocess.Popen[bytes], *, limit: float = 60
) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if _rows(db) >= target:
            return
        time.sleep(0.005)  # polling observable progress (the row count)


@pytest.mark.parametrize("fetcher", ["writer", "workers"])
def test_sigkill_at_random_points_then_sync_again_gives_each_message_once(
    dovecot: Dovecot, tmp_path: Path, fetcher: str
) -> None:
    """``workers``: the sync's parser processes fetch and parse its batches."""
    cli = _pooled_cli if fetcher == "workers" else _cli
    config = write_config(tmp_path, {"accounts": [account_table(dovecot, after_ingest="seen")]})
    db = tmp_path / "data" / "cs-console.db"
    for i in range(TOTAL):
        dovecot.deliver(
            mail(
                sender=f"c{i % 40}@example.org",
                mid=f"k{i}@example.org",
                subject=f"Pedido {i}",
                body=f"Mensaje número {i}",
            )
        )
    rng = random.Random(20261124)
    kills = 0
    # Until a few kills landed: a fast machine may finish a run before its kill.
    for iteration in range(12):
        if iteration >= 6 and kills >= 3:
            break
        before = _rows(db)
        proc = subprocess.Popen(
            cli(config, "sync", "--batch-size", "7"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if iteration % 2 == 0 and before < TOTAL - 20:
            # Mid-sync, with at least a few batches still to come after the kill.
            _wait_for_rows(db, before + rng.randint(1, min(25, TOTAL - 20 - before)), proc)
        else:
            time.sleep(rng.uniform(0.2, 1.5))  # a kill at any moment: start-up, login, mid-batch
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 3
    final = subprocess.run(_cli(config, "sync"), capture_output=True, timeout=120)
    assert final.returncode == 0, final.stderr.decode()
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM message")).scalar_one()
        distinct = conn.execute(text("SELECT count(DISTINCT message_id) FROM message")).scalar_one()
        raws = conn.execute(text("SELECT count(*) FROM message_raw")).scalar_one()
        last_uid = conn.execute(text("SELECT last_uid FROM folder_state")).scalar_one()
        owed = conn.execute(text("SELECT after_ingest_pending FROM folder_state")).scalar_one()
        # With workers, messages are recorded from their headers and their bodies read after:
        # a kill in between leaves bodies owed, which the next sync reads.
        bodies_owed = conn.execute(text("SELECT count(*) FROM message_body_pending")).scalar_one()
        bodies = conn.execute(text("SELECT body_text FROM message")).scalars().all()
        indexed = conn.execute(
            text("SELECT count(*) FROM message_fts WHERE message_fts MATCH 'mensaje'")
        ).scalar_one()
        # The index agrees with every message's text (raises otherwise).
        conn.execute(
            text("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        )
    engine.dispose()
    assert bodies_owed == 0
    assert sorted(bodies) == sorted(f"Mensaje número {i}" for i in range(TOTAL))
    assert indexed == TOTAL
    assert count == distinct == raws == TOTAL
    assert last_uid == TOTAL
    # A kill between a batch's commit and its \Seen flags leaves them owed, not forgotten.
    assert owed is None
    with dovecot.client() as client:
        client.select_folder("INBOX")
        unseen = client.search("UNSEEN")
    assert unseen == []
    again = subprocess.run(_cli(config, "sync"), capture_output=True, timeout=60)
    assert again.returncode == 0
    assert b"0 new messages" in again.stdout
