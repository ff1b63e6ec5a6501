"""A large sync records headers without checkpoints of the log; its bodies' commits make one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cs_console.desk import sync_batch as sync_batch_module
from cs_console.desk import sync_bodies, sync_parse
from cs_console.desk.sync import sync_account
from cs_console.store.engine import SQLITE_AUTOCHECKPOINT, bulk_writes, make_engine
from cs_console.store.migrate import upgrade
from tests.rig.dovecot import Dovecot
from tests.test_sync_support import NOW, mail, settings_for


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _autocheckpoint(session: Session) -> int:
    return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_bulk_writes_turn_the_automatic_checkpoints_off_for_their_transactions_only(
    tmp_path: Path,
) -> None:
    engine = _engine(tmp_path / "cs.db")
    with Session(bulk_writes(engine)) as session:
        assert _autocheckpoint(session) == 0
    with Session(engine) as session:  # the same pooled connection, back to the default
        assert _autocheckpoint(session) == SQLITE_AUTOCHECKPOINT
    engine.dispose()


def test_the_next_ordinary_commit_checkpoints_what_bulk_writes_left(tmp_path: Path) -> None:
    """Checkpoints copy the log into the database file: its size shows when one ran."""
    path = tmp_path / "cs.db"
    engine = _engine(path)
    with Session(engine) as session:
        session.execute(text("CREATE TABLE filler (data BLOB)"))
        session.commit()
    before = path.stat().st_size
    for _ in range(3):  # each commit well over the automatic checkpoint's threshold
        with Session(bulk_writes(engine)) as session:
            session.execute(text("INSERT INTO filler VALUES (randomblob(2000000))"))
            session.commit()
    assert path.stat().st_size == before  # all of it still in the log
    with Session(engine) as session:
        session.execute(text("INSERT INTO filler VALUES (x'00')"))
        session.commit()
    assert path.stat().st_size > before + 6_000_000  # the ordinary commit checkpointed it
    engine.dispose()


def test_a_large_sync_records_headers_without_checkpoints_and_its_bodies_with(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_parse, "POOL_MIN_MESSAGES", 1)  # the large-sync path
    heads: list[int] = []
    bodies: list[int] = []
    real_heads = sync_batch_module.ingest_batch
    real_bodies = sync_bodies.read_bodies

    def recorded_heads(engine: Engine, *args: Any, **kw: Any) -> Any:
        with Session(engine) as session:
            heads.append(_autocheckpoint(session))
        return real_heads(engine, *args, **kw)

    def recorded_bodies(engine: Engine, *args: Any, **kw: Any) -> Any:
        with Session(engine) as session:
            bodies.append(_autocheckpoint(session))
        return real_bodies(engine, *args, **kw)

    monkeypatch.setattr("cs_console.desk.sync.ingest_batch", recorded_heads)
    monkeypatch.setattr(sync_bodies, "read_bodies", recorded_bodies)
    for i in range(6):
        dovecot.deliver(mail(sender=f"c{i}@example.org", mid=f"w{i}@x", subject=f"Pedido {i}"))
    settings = settings_for(tmp_path, dovecot)
    engine = _engine(tmp_path / "cs.db")
    report = sync_account(settings, engine, settings.accounts[0], now_fn=lambda: NOW, batch_size=2)
    assert report.ok, report.errors
    assert heads == [0, 0, 0]  # each batch of headers, without automatic checkpoints
    assert bodies and set(bodies) == {SQLITE_AUTOCHECKPOINT}  # the bodies' commits make them
    engine.dispose()


def test_bulk_writes_change_nothing_on_postgresql(pg_engine: Engine) -> None:
    with Session(bulk_writes(pg_engine)) as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
