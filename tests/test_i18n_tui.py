"""The console in Spanish: the queue, the footer, the status bar and the help screen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from cs_console.i18n import set_language
from cs_console.tui.format import ago, countdown, duration, sla_text
from cs_console.tui.screens.dialogs import HelpScreen
from cs_console.tui.screens.queue import QueueScreen
from tests.test_tui_support import console_settings, make_app, seed, settle

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_queue_and_help_in_spanish(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    seed(sqlite_engine, now)
    set_language("es")
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        text = screen_text(app)
        for label in ("Cliente", "Asunto", "Categoría", "Estado", "Actividad"):
            assert label in text, label
        assert "1 Míos" in text and "2 Sin asignar" in text
        assert "/ Buscar" in text and "q Salir" in text  # the footer
        assert "bandeja de salida" in text  # the status bar
        assert "Customer" not in text and "Subject" not in text
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        help_text = screen_text(app)
        assert "Teclas: Cola" in help_text
        assert "Buscar  Búsqueda en todo el texto" in help_text
        assert "Filtrar  Filtro rápido mientras escribes" in help_text
        assert "Salir  Salir de la consola" in help_text
        assert "Esc cierra." in help_text
        assert "Full-text search" not in help_text


async def test_english_stays_english(sqlite_engine: Engine, now: datetime, tmp_path: Path) -> None:
    seed(sqlite_engine, now)
    set_language("en")
    app = make_app(console_settings(tmp_path), sqlite_engine, now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Customer" in text and "Cliente" not in text
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Search  Full-text search" in screen_text(app)


def test_countdowns_and_ago_in_both_languages(now: datetime) -> None:
    from datetime import timedelta

    assert duration(timedelta(hours=3, minutes=5)) == "3h 05m"
    assert countdown(now - timedelta(minutes=20), now) == "-20m"
    assert ago(now - timedelta(minutes=12), now) == "12m ago"
    assert sla_text(None, now, breached=True).plain == "breached"
    set_language("es")
    assert duration(timedelta(hours=3, minutes=5)) == "3h 05min"
    assert countdown(now - timedelta(minutes=20), now) == "-20min"
    assert ago(now - timedelta(minutes=12), now) == "hace 12min"
    assert ago(now + timedelta(minutes=1), now) == "ahora mismo"
    assert sla_text(None, now, breached=True).plain == "vencido"
