"""Pilot tests of the console: queue, ticket, editor, help, errors, hostile text."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from textual.widgets import DataTable, TextArea

from cs_console.desk import tickets
from cs_console.store.engine import session_scope
from cs_console.store.models import Customer, Draft, Message, OutboxItem
from cs_console.tui.screens.editor import EditorScreen
from cs_console.tui.screens.queue import QueueScreen
from cs_console.tui.screens.ticket import TicketScreen
from tests.test_tui_support import console_settings, make_app, seed, settle

SIZE = (120, 40)


@pytest.fixture
def ids(sqlite_engine: Engine, now: datetime) -> dict[str, int]:
    return seed(sqlite_engine, now)


async def test_queue_lists_tickets_by_urgency(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        assert [r.id for r in screen.rows][:3] == [ids["breached"], ids["soon"], ids["hostile"]]
        table = screen.query_one(DataTable)
        assert table.row_count == 6
        assert str(table.get_cell(str(ids["breached"]), "sla")) == "-20m"
        await pilot.press("j")
        assert screen.current_id == ids["soon"]
        await pilot.press("k")
        assert screen.current_id == ids["breached"]


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """Everything on the screen now, as plain lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _open(pilot, app, ticket_id: int) -> TicketScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    index = [r.id for r in screen.rows].index(ticket_id)
    screen.query_one(DataTable).move_cursor(row=index)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, TicketScreen)
    return app.screen


async def test_hostile_text_is_shown_literally_and_never_as_escapes(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "[bold red]x[/]" in text  # the subject's markup, as typed
        assert "[link=http://" in text  # the customer's name
        await _open(pilot, app, ids["hostile"])
        text = screen_text(app)
        assert "[bold]there[/bold]" in text
        assert "[link=http://evil]Mallory[/link] [2Jeve" in text
        assert "[link=http://x]click[/link]" in text
        strips = app.screen._compositor.render_strips()
        raw = "".join(seg.text for strip in strips for seg in strip)
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in raw
        assert all(seg.style is None or seg.style.link is None for s in strips for seg in s)


async def test_ticket_screen_conversation_customer_and_history(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, app, ids["breached"])
        text = screen_text(app)
        assert "Hola, mi pedido 1234 no ha llegado." in text
        assert "> old quote" not in text
        assert "internal note" in text and "Checked with the carrier" in text
        assert "label.pdf" in text
        assert "lucia@example.com" in text
        assert f"#{ids['solved']}" in text and "solved in 24h 00m" in text
        assert "first reply -20m" in text  # SLA badge, breached
        await pilot.press("z")
        await pilot.pause()
        assert "> old quote" in screen_text(app)
        with session_scope(sqlite_engine) as s:
            assert not tickets.get_ticket(s, ids["breached"]).unread
        await pilot.press("j")  # next ticket in the queue's order
        await settle(pilot)
        assert screen.ticket_id == ids["soon"]
        assert "Refund for returned shoes" in screen_text(app)
        await pilot.press("k")
        await settle(pilot)
        assert screen.ticket_id == ids["breached"]
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


async def test_set_status_priority_tags_assign_from_keys(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await pilot.press("s")
        await pilot.press(*"pend", "enter")
        await settle(pilot)
        await pilot.press("p")
        await pilot.press(*"urg", "enter")
        await settle(pilot)
        await pilot.press("t")
        await pilot.press("ctrl+u", *"vip, late", "enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"bob", "enter")
        await settle(pilot)
        assert "pending" in screen_text(app) and "late, vip" in screen_text(app)
    with session_scope(sqlite_engine) as s:
        t = tickets.get_ticket(s, ids["soon"])
        assert (t.status, t.priority) == ("pending", "urgent")
        assert tickets.tags_of(s, ids["soon"]) == ["late", "vip"]
        assert t.assignee_id is not None and t.assignee_id != ids["agent"]


async def test_merge_and_spam(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["nodue"])
        await pilot.press("m")
        await pilot.press(*f"#{ids['breached']}", "enter")
        await settle(pilot)
        await pilot.press("q")
        await _open(pilot, app, ids["hostile"])
        await pilot.press("x")
        await pilot.press(*"yes", "enter")
        await settle(pilot)
    with session_scope(sqlite_engine) as s:
        merged = tickets.get_ticket(s, ids["nodue"])
        assert merged.merged_into_id == ids["breached"] and merged.status == "closed"
        spam = tickets.get_ticket(s, ids["hostile"])
        assert spam.status == "closed" and "spam" in tickets.tags_of(s, ids["hostile"])
        assert s.get(Customer, spam.customer_id).blocked  # type: ignore[union-attr]


async def test_reply_with_greeting_signature_send_and_undo(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        ticket_screen = await _open(pilot, app, ids["breached"])
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        area = editor.query_one(TextArea)
        assert area.text.startswith("Hola Lucía,\n")
        assert area.text.endswith("--\nAna\nTienda Uno")
        await pilot.press(*"Ya lo hemos enviado.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is ticket_screen
        assert "Press u to undo" in screen_text(app)
        with session_scope(sqlite_engine) as s:
            item = s.exec(select(OutboxItem)).one()  # type: ignore[attr-defined]
            assert item.status == "queued" and item.ticket_id == ids["breached"]
            out = s.get(Message, item.message_row_id)
            assert out is not None and "Ya lo hemos enviado." in out.body_text
        await pilot.press("u")
        await settle(pilot)
        assert "Press u to undo" not in screen_text(app)
        with session_scope(sqlite_engine) as s:
            assert s.exec(select(OutboxItem)).one().status == "cancelled"  # type: ignore[attr-defined]
        await pilot.press("r")  # the undone reply comes back as the draft
        await settle(pilot)
        assert "Ya lo hemos enviado." in app.screen.query_one(TextArea).text


async def test_send_and_solve_and_internal_note(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"Hecho.", "ctrl+r")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one(TextArea).text == ""
        await pilot.press(*"Customer is nice", "ctrl+s")
        await settle(pilot)
        assert "Customer is nice" in screen_text(app)
    with session_scope(sqlite_engine) as s:
        assert tickets.get_ticket(s, ids["soon"]).status == "solved"
        notes = s.exec(select(Message).where(Message.direction == "note")).all()  # type: ignore[attr-defined]
        assert any(n.body_text == "Customer is nice" for n in notes)


async def test_draft_saved_on_close_and_restored(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"medio escrito")
        app.screen._save_if_dirty()  # what the debounce timer calls after a pause
        await settle(pilot)
        with session_scope(sqlite_engine) as s:
            draft = s.exec(select(Draft)).one()  # type: ignore[attr-defined]
            assert "medio escrito" in draft.body
        await pilot.press(*" y mas", "escape")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert "medio escrito y mas" in app.screen.query_one(TextArea).text


async def test_canned_answer_inserted_with_variables(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["breached"])
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen
        assert "none" not in str(editor.query_one("#suggestions").render())
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.press("enter")  # the top suggestion
        await settle(pilot)
        text = editor.query_one(TextArea).text
        assert "{{" not in text
        assert len(text) > len("Hola Lucía,\n\n\n\n--\nAna\nTienda Uno")


async def test_search_filter_and_views(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        await pilot.press("slash", *"carrier", "enter")
        await settle(pilot)
        assert [r.id for r in screen.rows] == [ids["breached"]]
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.rows) == 6
        await pilot.press("f", "q")  # typed into the filter: it does not quit
        await settle(pilot)
        assert app.is_running and screen.flt.text in ("", "q")
        await pilot.press("escape")  # clears it, and a pending filter too
        await settle(pilot)
        assert screen.flt.text == "" and screen._filter_timer is None
        await pilot.press("f", *"refund", "enter")
        await settle(pilot)
        assert [r.id for r in screen.rows] == [ids["soon"]]
        await pilot.press("escape", "1")
        await settle(pilot)
        assert [r.id for r in screen.rows] == [ids["mine"]]
        await pilot.press("4")
        await settle(pilot)
        assert [r.id for r in screen.rows] == [ids["pending"]]
        await pilot.press("6")
        await pilot.press(*"returns", "enter")
        await settle(pilot)
        assert [r.id for r in screen.rows] == [ids["soon"], ids["pending"]]


async def test_pages_are_fetched_as_the_cursor_nears_the_end(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    with session_scope(sqlite_engine) as s:
        customer = tickets.get_or_create_customer(s, "many@example.com", now=now)
        for i in range(400):
            tickets.create_ticket(s, customer=customer, subject=f"t{i}", now=now)
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(screen.rows) == 150 and screen.more
        screen.query_one(DataTable).move_cursor(row=140)
        await settle(pilot)
        assert len(screen.rows) == 300
        assert [r.id for r in screen.rows] == sorted(r.id for r in screen.rows)


async def test_changes_by_others_refresh_the_queue_with_a_toast(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.poll_now()
        await settle(pilot)
        with session_scope(sqlite_engine) as s:
            customer = tickets.get_or_create_customer(s, "new@example.com", now=now)
            tickets.create_ticket(s, customer=customer, subject="Brand new question", now=now)
        app.poll_now()
        await settle(pilot)
        assert len(app.screen.rows) == 7
        assert any("1 new ticket" in n.message for n in app._notifications)
        assert "Brand new question" in screen_text(app)


async def test_database_errors_are_notices_not_crashes(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from sqlalchemy.exc import OperationalError

    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        def locked(*_a: object, **_k: object) -> None:
            raise OperationalError("SELECT", {}, Exception("database is locked"))

        app.gateway.page = locked  # type: ignore[method-assign]
        await pilot.press("g")
        await settle(pilot)
        assert app.is_running
        assert any("database is locked" in n.message for n in app._notifications)
        assert len(app.screen.rows) == 6  # what was shown stays


async def test_send_failure_keeps_the_text(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    settings = console_settings(tmp_path, accounts=[])
    app = make_app(settings, sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"important words", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditorScreen)
        assert "important words" in app.screen.query_one(TextArea).text
        assert any("no mail account" in n.message for n in app._notifications)
    with session_scope(sqlite_engine) as s:
        assert "important words" in s.exec(select(Draft)).one().body  # type: ignore[attr-defined]


async def test_help_is_generated_from_bindings_and_keymap_applies(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    app = make_app(console_settings(tmp_path), sqlite_engine, now, keymap={"ticket.reply": "R"})
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await pilot.press("question_mark")
        await settle(pilot)
        text = screen_text(app)
        assert "Write a reply" in text and "Set the priority" in text
        assert re.search(r"\bR\s+Reply\s+Write a reply", text)
        await pilot.press("escape")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, EditorScreen)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert any(c.startswith("Send (") for c in commands)


async def test_presence_of_other_agents_is_shown(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from cs_console.desk import presence

    with session_scope(sqlite_engine) as s:
        bob = tickets.get_or_create_agent(s, "bob", now=now)
        presence.heartbeat(s, ids["soon"], bob.id, activity="replying", now=now)  # type: ignore[arg-type]
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["soon"])
        await settle(pilot)
        assert "bob is replying" in screen_text(app)
        await pilot.press("q")
        await settle(pilot)
    with session_scope(sqlite_engine) as s:
        others = presence.others_on(s, [ids["soon"]], me=bob.id, now=now)
        assert others == {}  # the console said it left


async def test_new_customer_message_while_writing_asks_before_sending(
    sqlite_engine: Engine, now: datetime, ids: dict[str, int], tmp_path: Path
) -> None:
    from datetime import timedelta

    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, ids["breached"])
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"Lo miramos.")
        with session_scope(sqlite_engine) as s:
            t = tickets.get_ticket(s, ids["breached"])
            tickets.add_message(
                s,
                t,
                direction="in",
                now=now + timedelta(minutes=1),
                from_name="Lucía",
                body_text="Ya llegó, gracias",
                new_text="Ya llegó, gracias",
            )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EditorScreen)
        assert any("Ya llegó, gracias" in n.message for n in app._notifications)
        with session_scope(sqlite_engine) as s:
            assert s.exec(select(OutboxItem)).first() is None
        await pilot.press("ctrl+s")  # send anyway
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
    with session_scope(sqlite_engine) as s:
        assert s.exec(select(OutboxItem)).one().ticket_id == ids["breached"]
