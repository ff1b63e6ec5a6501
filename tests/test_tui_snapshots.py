"""Snapshot tests of the queue, ticket and editor screens (fixed clock, 120x40).

Snapshots live in ``tests/snapshots/``; update them with ``--snapshot-update``
after checking the change by eye (``pytest --snapshot-report`` shows a diff).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import pytest_textual_snapshot
from sqlalchemy.engine import Engine
from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea

from tests.test_tui_support import console_settings, make_app, seed, settle

SIZE = (120, 40)


class _SnapshotsFolder(pytest_textual_snapshot.SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:  # type: ignore[no-untyped-def, override]
        return str(Path(test_location.filepath).parent / "snapshots" / test_location.basename)


@pytest.fixture(autouse=True)
def _snapshots_in_tests_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", _SnapshotsFolder)


def _app(engine: Engine, now: datetime, tmp_path: Path):  # type: ignore[no-untyped-def]
    seed(engine, now)
    return make_app(console_settings(tmp_path), engine, now)


def test_queue_screen(snap_compare, sqlite_engine: Engine, now: datetime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(sqlite_engine, now, tmp_path), terminal_size=SIZE, run_before=settle)


def test_ticket_screen(snap_compare, sqlite_engine: Engine, now: datetime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_first(pilot: Pilot[None]) -> None:
        await settle(pilot)
        pilot.app.screen.query_one(DataTable).move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(
        _app(sqlite_engine, now, tmp_path), terminal_size=SIZE, run_before=open_first
    )


def test_editor_screen(snap_compare, sqlite_engine: Engine, now: datetime, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def reply(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"Ya esta en camino.")
        await settle(pilot)
        pilot.app.screen.query_one(TextArea).cursor_blink = False
        pilot.app.screen._hints()
        pilot.app.screen._save_if_dirty()  # as the debounce timer would: "draft saved"
        await settle(pilot)

    assert snap_compare(_app(sqlite_engine, now, tmp_path), terminal_size=SIZE, run_before=reply)
