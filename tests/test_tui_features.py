"""Pilot tests of the console's team, live-update, canned, outbox and dashboard features."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from cs_console.store.engine import session_scope
from cs_console.store.models import Agent, Ticket
from cs_console.tui.screens.queue import QueueScreen
from cs_console.tui.screens.ticket import TicketScreen
from tests.test_tui_support import console_settings, make_app, seed, settle

SIZE = (120, 40)


@pytest.fixture
def ids(sqlite_engine: Engine, now: datetime) -> dict[str, int]:
    return seed(sqlite_engine, now)


async def _until(pilot, condition: Callable[[], bool], *, rounds: int = 400) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``condition`` holds (a bounded number of turns, no sleeps)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition(), "the console did not get there"


async def test_take_next_claims_the_most_urgent_and_opens_it(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("n")
        await _until(pilot, lambda: isinstance(app.screen, TicketScreen))
        assert app.screen.ticket_id == ids["breached"]  # type: ignore[attr-defined]
    with session_scope(sqlite_engine) as s:
        ticket = s.get(Ticket, ids["breached"])
        assert ticket is not None
        agent = s.get(Agent, ticket.assignee_id)
        assert agent is not None and agent.name == "ana"


async def test_take_next_with_nothing_waiting_says_so(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        assert any("Nothing waiting" in str(n.message) for n in app._notifications)


async def test_a_change_by_another_connection_shows_without_a_key(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from cs_console.store.engine import make_engine

    # It polls once an hour: only the watcher can bring the change in.
    app = make_app(console_settings(tmp_path), sqlite_engine, now, watch_changes=True)
    other = make_engine(sqlite_engine.url.render_as_string(hide_password=False))
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.rows)
            screen = app.screen
            assert isinstance(screen, QueueScreen)
            await _until(pilot, lambda: app._change_watcher is not None)
            with session_scope(other) as s:
                ticket = s.get(Ticket, ids["soon"])
                assert ticket is not None
                ticket.subject = "Changed elsewhere"
                s.add(ticket)

            def shown() -> bool:
                return any(r.subject == "Changed elsewhere" for r in screen.rows)

            await _until(pilot, shown)
    finally:
        other.dispose()


async def test_breaches_are_flagged_as_time_passes(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from datetime import timedelta

    later = now + timedelta(hours=1)  # "soon" was due in 30 minutes
    app = make_app(console_settings(tmp_path), sqlite_engine, later)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)

        def breached() -> bool:
            return any(r.id == ids["soon"] and r.sla_breached for r in screen.rows)

        await _until(pilot, breached)
    with session_scope(sqlite_engine) as s:
        ticket = s.get(Ticket, ids["soon"])
        assert ticket is not None and ticket.sla_breached


_SHOP_ANSWER = """+++
title = "Salida hoy Zeta"
language = "es"
category = "order_status"
keywords = ["pedido", "llegado"]
+++
Hola {{ customer_first_name }}: tu pedido {{ order_number }} sale hoy desde {{ shop_name }}.
"""


async def test_picker_offers_the_shop_library_and_counts_the_use(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from sqlmodel import select
    from textual.widgets import TextArea

    from cs_console.desk.canned.store import library_folder
    from cs_console.store.models import CannedAnswerRow, CannedAnswerUse
    from cs_console.tui.screens.editor import EditorScreen

    settings = console_settings(tmp_path)
    folder = library_folder(settings)
    folder.mkdir(parents=True)
    (folder / "salida-hoy.md").write_text(_SHOP_ANSWER, encoding="utf-8")
    app = make_app(settings, sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        index = [r.id for r in screen.rows].index(ids["breached"])
        from textual.widgets import DataTable

        screen.query_one(DataTable).move_cursor(row=index)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press(*"Zeta")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        text = editor.query_one(TextArea).text
        assert "tu pedido 1234 sale hoy desde Tienda Uno." in text
        assert editor.canned_used == ["salida-hoy"]
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: not isinstance(app.screen, EditorScreen))
    with session_scope(sqlite_engine) as s:
        slugs = s.exec(select(CannedAnswerRow.slug)).all()
        assert slugs == ["salida-hoy"]  # the shop's folder, not the starter set
        uses = s.exec(select(CannedAnswerUse)).all()
        assert [(u.ticket_id, u.agent_id) for u in uses] == [(ids["breached"], ids["agent"])]


async def test_failed_outbox_items_are_listed_and_retried(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from textual.widgets import DataTable

    from cs_console.store.models import OutboxItem
    from cs_console.tui.screens.outbox import OutboxScreen

    with session_scope(sqlite_engine) as s:
        item = OutboxItem(
            ticket_id=ids["breached"],
            account="shop",
            message_id="<failed-1@tienda.example>",
            mail_from="hola@tienda.example",
            rcpt_to='["lucia@example.com"]',
            raw=b"Subject: x\r\n\r\nbody\r\n",
            status="failed",
            created_at=now,
            not_before=now,
            attempts=5,
            last_error="550 5.1.1 mailbox unavailable",
        )
        s.add(item)
        s.flush()
        item_id = item.id
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from cs_console.tui.widgets import StatusBar

        assert "1 failed) [o]" in str(app.screen.query_one(StatusBar).render())
        await pilot.press("o")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OutboxScreen)
        assert [i.id for i in screen.items] == [item_id]
        table = screen.query_one(DataTable)
        assert "550 5.1.1 mailbox unavailable" in str(table.get_cell(str(item_id), "error"))
        assert "lucia@example.com" in str(table.get_cell(str(item_id), "to"))
        await pilot.press("r")
        await settle(pilot)
        assert screen.items == []
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
    with session_scope(sqlite_engine) as s:
        row = s.get(OutboxItem, item_id)
        assert row is not None and row.status == "queued" and row.attempts == 0


async def test_dashboard_shows_the_figures_of_the_workspace(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from cs_console.desk.metrics import dashboard_report
    from cs_console.tui.screens.dashboard import DashboardScreen

    settings = console_settings(tmp_path)
    with session_scope(sqlite_engine) as s:
        expected = dashboard_report(s, settings, now=now, days=7)
    assert expected.total.received == 6  # the seeded tickets of the last hours
    app = make_app(settings, sqlite_engine, now)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.report.total.received == expected.total.received
        text = "\n".join(strip.text for strip in screen._compositor.render_strips())
        import re

        shown = re.search(r"Received\s+│\s+(\d+)", text)
        assert shown is not None and int(shown.group(1)) == 6
        assert "By agent" in text and "Top categories" in text
        assert "returns" in text or "Returns" in text
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
