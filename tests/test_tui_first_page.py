"""The console's first page, read before the database layer loads, and its hand-over."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import astuple
from datetime import datetime, timedelta
from functools import partialmethod
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from textual.widgets import DataTable, Static
from typer.testing import CliRunner

from cs_console.cli import app as cli_app
from cs_console.config import load_settings
from cs_console.desk import tickets
from cs_console.desk.queue import QueueFilter, QueueRow, fetch_page
from cs_console.errors import ConfigError
from cs_console.store.engine import session_scope
from cs_console.store.migrate import head_revision
from cs_console.tui import first_page
from cs_console.tui.app import ConsoleApp, prepare_console
from cs_console.tui.screens.queue import PAGE, QueueScreen
from cs_console.tui.screens.ticket import TicketScreen
from tests.test_tui_support import seed, settle

SIZE = (120, 40)


def _more_tickets(engine: Engine, now: datetime) -> None:
    """Every open status, equal due times (ordered by number), warnings and no due time."""
    with session_scope(engine) as s:
        customer = tickets.get_or_create_customer(s, "zoe@example.com", now=now)
        plan = [
            ("new", True, timedelta(hours=-5)),
            ("on_hold", True, timedelta(hours=-5)),
            ("open", True, None),
            ("pending", False, timedelta(minutes=30)),
            ("new", False, timedelta(minutes=30)),
            ("open", False, timedelta(minutes=30)),
            ("on_hold", False, timedelta(days=2)),
            ("new", False, None),
            ("pending", False, None),
            ("solved", False, timedelta(minutes=-10)),
            ("closed", True, timedelta(minutes=-10)),
        ]
        for status, breached, due in plan:
            t = tickets.create_ticket(
                s, customer=customer, subject=f"{status} {due}", now=now, language="es"
            )
            t.status = status
            t.sla_breached = breached
            t.sla_due_at = now + due if due is not None else None
            s.add(t)
        s.flush()


def _write_config(tmp_path: Path, engine: Engine, extra: str = "") -> Path:
    folder = tmp_path / "conf"
    folder.mkdir(exist_ok=True)
    config = folder / "config.toml"
    database = Path(engine.url.database or "")
    relative = Path("..") / database.relative_to(tmp_path)  # resolved against the config folder
    config.write_text(
        f'[agent]\nname = "ana"\ndisplay_name = "Ana"\n\n[database]\nurl = "sqlite:///{relative}"\n'
        + extra,
        encoding="utf-8",
    )
    return config


def _fast_rows(engine: Engine, limit: int) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(engine.url.database or "")
    try:
        return [astuple(row) for row in first_page.read_page(db, limit=limit)]
    finally:
        db.close()


def _real_rows(engine: Engine, now: datetime, limit: int) -> list[tuple[Any, ...]]:
    with session_scope(engine) as s:
        return [astuple(row) for row in fetch_page(s, QueueFilter(), now=now, limit=limit)]


def test_first_page_gives_the_real_querys_rows_in_its_order(
    sqlite_engine: Engine, now: datetime
) -> None:
    seed(sqlite_engine, now)
    _more_tickets(sqlite_engine, now)
    real = _real_rows(sqlite_engine, now, PAGE)
    assert len(real) > 10
    statuses = {row[6] for row in real}
    assert statuses == {"new", "open", "pending", "on_hold"}
    assert any(row[9] for row in real) and any(row[8] is None for row in real)
    for limit in [*range(1, len(real) + 2), PAGE]:
        fast = _fast_rows(sqlite_engine, limit)
        assert fast == _real_rows(sqlite_engine, now, limit)
        assert [type(v) for row in fast for v in row] == [
            type(v) for row in real[:limit] for v in row
        ]
    due = next(row[8] for row in real if row[8] is not None)
    assert due.utcoffset() == timedelta(0)


def test_prepare_finds_the_database_the_settings_name(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    seed(sqlite_engine, now)
    config = _write_config(tmp_path, sqlite_engine)
    page = first_page.prepare(config, limit=3)
    assert page is not None
    assert page.database_url == load_settings(config).database_url
    assert (page.agent, page.config_file, page.more) == ("Ana", config, True)
    assert [astuple(r) for r in page.rows] == _real_rows(sqlite_engine, now, 3)
    # The default database under a relative data folder, as the settings resolve it.
    other = tmp_path / "conf" / "other.toml"
    other.write_text('[storage]\ndata_dir = "../data"\n', encoding="utf-8")
    assert first_page.database_url({"storage": {"data_dir": "../data"}}, other.parent) == (
        load_settings(other).database_url
    )


def test_prepare_leaves_unusual_workspaces_to_the_ordinary_path(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    seed(sqlite_engine, now)
    assert first_page.head_revision() == head_revision()
    config = _write_config(tmp_path, sqlite_engine)
    assert first_page.prepare(config, limit=3) is not None
    with session_scope(sqlite_engine) as s:  # a schema to migrate first
        s.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    assert first_page.prepare(config, limit=3) is None
    team = tmp_path / "team.toml"
    team.write_text('[database]\nurl = "postgresql+psycopg://cs@localhost/cs"\n', encoding="utf-8")
    assert first_page.prepare(team, limit=3) is None
    missing = tmp_path / "missing.toml"
    missing.write_text('[database]\nurl = "sqlite:///nothing-here.db"\n', encoding="utf-8")
    assert first_page.prepare(missing, limit=3) is None
    assert first_page.prepare(tmp_path / "no-such-config.toml", limit=3) is None
    broken = tmp_path / "broken.toml"
    broken.write_text("[database\n", encoding="utf-8")
    assert first_page.prepare(broken, limit=3) is None


def _options(now: datetime) -> dict[str, Any]:
    return {
        "now_fn": lambda: now,
        "send_outbox": False,
        "sync_mail": False,
        "poll_seconds": 3600.0,
        "watch_changes": False,
        "tick_seconds": 3600.0,
    }


def _not_called() -> Any:
    raise AssertionError("the ordinary path was taken")


def _hold_loading(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Keep the console's loading thread at the config until the event is set."""
    release = threading.Event()
    real_load = load_settings

    def held_load(path: Any = None, **kw: Any) -> Any:
        release.wait()
        return real_load(path, **kw)

    monkeypatch.setattr("cs_console.config.load_settings", held_load)
    return release


async def test_keys_typed_while_loading_wait_for_the_workspace(
    sqlite_engine: Engine, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_engine, now)
    config = _write_config(tmp_path, sqlite_engine)
    release = _hold_loading(monkeypatch)
    app = prepare_console(config, load_settings=_not_called, **_options(now))
    assert app.first_page is not None and not app.ready
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        shown = [row.id for row in screen.rows]
        assert shown == [row[0] for row in _real_rows(sqlite_engine, now, PAGE)]
        await pilot.press("j", "enter")
        await pilot.pause()
        assert not app.ready and app.screen is screen
        release.set()
        await settle(pilot)
        await pilot.pause()
        assert app.ready
        assert all(isinstance(row, QueueRow) for row in screen.rows)
        assert screen._generation == 0  # nothing changed: not read again
        assert isinstance(app.screen, TicketScreen)
        assert app.screen.ticket_id == shown[1]


def test_a_broken_config_still_stops_the_console_with_its_message(
    sqlite_engine: Engine, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_engine, now)
    config = _write_config(tmp_path, sqlite_engine, '\n[shop]\ntimezone = "Nowhere/City"\n')
    assert first_page.prepare(config, limit=PAGE) is not None  # the first page is shown
    with pytest.raises(ConfigError) as expected:
        load_settings(config)
    monkeypatch.setattr(ConsoleApp, "run", partialmethod(ConsoleApp.run, headless=True, size=SIZE))
    result = CliRunner().invoke(cli_app, ["--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "shop.timezone" in result.output
    assert " ".join(expected.value.message.split()) in " ".join(result.output.split())


def _table_text(app: ConsoleApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [
        [getattr(cell, "plain", str(cell)) for cell in table.get_row_at(i)]
        for i in range(table.row_count)
    ]


async def test_the_first_page_looks_like_the_ordinary_queue(
    sqlite_engine: Engine, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_engine, now)
    _more_tickets(sqlite_engine, now)
    config = _write_config(tmp_path, sqlite_engine)
    ordinary = ConsoleApp(load_settings(config), sqlite_engine, **_options(now))
    async with ordinary.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause()
        expected = _table_text(ordinary)
        views = str(ordinary.screen.query_one("#views", Static).render())
    assert len(expected) > 10 and "tickets" in views
    release = _hold_loading(monkeypatch)
    fast = prepare_console(config, load_settings=_not_called, **_options(now))
    async with fast.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not fast.ready
        assert _table_text(fast) == expected
        assert str(fast.screen.query_one("#views", Static).render()) == views
        release.set()
        await settle(pilot)
        await pilot.pause()
        assert fast.ready and _table_text(fast) == expected


def test_head_revision_reads_both_header_styles_and_gives_up_on_merges(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('revision = "0001"\ndown_revision = None\n', encoding="utf-8")
    (tmp_path / "b.py").write_text(
        'revision: str = "0002"\ndown_revision: Union[str, None] = "0001"\n', encoding="utf-8"
    )
    assert first_page.head_revision(tmp_path) == "0002"
    (tmp_path / "c.py").write_text('revision = "0003"\ndown_revision = "0001"\n', encoding="utf-8")
    assert first_page.head_revision(tmp_path) is None  # two heads
    (tmp_path / "c.py").write_text(
        "revision = '0003'\ndown_revision = ('0001', '0002')\n", encoding="utf-8"
    )
    assert first_page.head_revision(tmp_path) is None  # a merge: left to Alembic


async def test_a_change_committed_while_loading_is_read_with_the_real_query(
    sqlite_engine: Engine, now: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = seed(sqlite_engine, now)
    config = _write_config(tmp_path, sqlite_engine)
    release = _hold_loading(monkeypatch)
    app = prepare_console(config, load_settings=_not_called, **_options(now))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Renamed while loading" not in str(_table_text(app))
        with session_scope(sqlite_engine) as s:  # another process commits meanwhile
            s.execute(
                text("UPDATE ticket SET subject = 'Renamed while loading' WHERE id = :id"),
                {"id": ids["breached"]},
            )
        release.set()
        await settle(pilot)
        await pilot.pause()
        assert app.ready
        assert "Renamed while loading" in str(_table_text(app))
        assert _table_text(app)[0][0] == str(ids["breached"])
