"""The console's parts without a screen: keys config, formatting, attachments, sync toasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from cs_console.desk.sync import SyncReport
from cs_console.errors import DeskError
from cs_console.store.attachments import store_blob
from cs_console.tui.format import countdown, safe_line, safe_text, sla_state
from cs_console.tui.gateway import DeskGateway, greeting
from cs_console.tui.keys import BINDING_IDS, KeySettings
from tests.test_tui_support import console_settings, make_app, seed, settle

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def test_key_settings_validate_ids_and_keys() -> None:
    keys = KeySettings.model_validate({"ticket.reply": "R", "queue.down": "j, down"})
    assert keys.keymap() == {"ticket.reply": "R", "queue.down": "j,down"}
    with pytest.raises(ValidationError, match="unknown key binding id"):
        KeySettings.model_validate({"ticket.nope": "x"})
    with pytest.raises(ValidationError, match="is not a key"):
        KeySettings.model_validate({"ticket.reply": "ctrl s"})


def test_every_binding_has_a_known_id() -> None:
    from textual.binding import Binding

    from cs_console.tui.app import ConsoleApp
    from cs_console.tui.screens.dashboard import DashboardScreen
    from cs_console.tui.screens.editor import EditorScreen
    from cs_console.tui.screens.outbox import OutboxScreen
    from cs_console.tui.screens.queue import QueueScreen
    from cs_console.tui.screens.ticket import TicketScreen

    screens = (QueueScreen, TicketScreen, EditorScreen, OutboxScreen, DashboardScreen)
    for owner in (ConsoleApp, *screens):
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id in BINDING_IDS, (owner.__name__, binding.action)


def test_greetings() -> None:
    assert greeting("es", "Lucía") == "Hola Lucía,"
    assert greeting("en", "Tom") == "Hi Tom,"
    assert greeting("fr", "") == "Hello,"


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_countdown_sign_and_state_agree(seconds: int) -> None:
    due = NOW + timedelta(seconds=seconds)
    text = countdown(due, NOW)
    assert text.startswith("-") == (seconds < 0)
    state = sla_state(due, NOW)
    assert state == ("breached" if seconds <= 0 else "warning" if seconds <= 3600 else "ok")


@given(st.text())
def test_outside_text_never_carries_controls_or_markup(value: str) -> None:
    for text in (safe_text(value), safe_line(value)):
        assert not text.spans  # no style came from the content
        assert "\x1b" not in text.plain and "\u202e" not in text.plain


def test_save_attachment_stays_in_the_folder(tmp_path: Path, sqlite_engine: Engine) -> None:
    settings = console_settings(tmp_path)
    gateway = DeskGateway(settings, sqlite_engine, now_fn=lambda: NOW)
    settings.data_dir.mkdir(parents=True, mode=0o700)  # the workspace's folder exists
    digest = store_blob(settings.attachments_dir, b"%PDF-1.4 hello")
    folder = tmp_path / "out"
    folder.mkdir()
    first = gateway.save_attachment(digest, "../../etc/passwd", folder)
    second = gateway.save_attachment(digest, "../../etc/passwd", folder)
    assert first == folder.resolve() / "passwd"
    assert second == folder.resolve() / "passwd (1)"
    assert first.read_bytes() == b"%PDF-1.4 hello"
    weird = gateway.save_attachment(digest, "\x1b]0;x\x07CON.txt", folder)
    assert weird.parent == folder.resolve()
    with pytest.raises(DeskError):
        gateway.save_attachment(digest, "a.pdf", tmp_path / "missing")
    with pytest.raises(DeskError):
        gateway.save_attachment("0" * 64, "a.pdf", folder)


async def test_sync_failures_become_a_toast(
    tmp_path: Path, sqlite_engine: Engine, now: datetime
) -> None:
    seed(sqlite_engine, now)
    app = make_app(console_settings(tmp_path), sqlite_engine, now, sync_mail=True)
    calls: list[str] = []

    def fake_sync(account: str) -> SyncReport:
        calls.append(account)
        return SyncReport(account=account, error="connection refused")

    app.gateway.sync = fake_sync  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.start_background()
        await settle(pilot)
        assert calls == ["shop"]
        assert any("connection refused" in n.message for n in app._notifications)
        assert not app.status.syncing


def test_a_canned_answer_does_not_repeat_the_greeting() -> None:
    from cs_console.tui.gateway import without_repeated_greeting

    answer = "Hola Ana,\n\ntu pedido sale hoy.\n\nUn saludo"
    assert without_repeated_greeting("Hola Ana,\n\n\n--\nLucía", answer) == (
        "tu pedido sale hoy.\n\nUn saludo"
    )
    assert without_repeated_greeting("", answer) == answer
    one_line = "Hola Ana, tu pedido sale hoy."  # a greeting that carries the answer stays
    assert without_repeated_greeting("Hola Ana,", one_line) == one_line
    assert without_repeated_greeting("Hi Ana,", "Your order ships today.") == (
        "Your order ships today."
    )
