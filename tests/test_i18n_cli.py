"""The CLI in Spanish: doctor's lines, summaries and --help."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.cli.help_text import translate_help
from cs_console.i18n import LANG_ENV, get_language, set_language
from tests.rig.workspace import write_config

runner = CliRunner()


@pytest.fixture(autouse=True)
def _english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (LANG_ENV, "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    set_language("en")
    translate_help(app)


def _doctor(config: Path, *options: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["--config", str(config), *options, "doctor", "--offline"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_doctor_speaks_spanish_with_lang_es(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    output = _doctor(config, "--lang", "es")
    assert "ok   configuración: " in output and "válida" in output
    assert "aviso cuentas: no hay [[accounts]] configuradas" in output
    assert "carpeta de datos:" in output
    assert "Todas las comprobaciones son correctas." in output
    assert "All checks passed." not in output


def test_doctor_follows_the_agents_language_and_the_environment(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"agent": {"name": "ana", "language": "es"}})
    assert "Todas las comprobaciones son correctas." in _doctor(config)
    assert "All checks passed." in _doctor(config, "--lang", "en")
    assert "All checks passed." in _doctor(config, env={LANG_ENV: "en"})


def test_doctor_follows_the_locale_and_stays_english_by_default(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})  # [shop] language = "es": the customers' language
    assert "All checks passed." in _doctor(config)
    assert get_language() == "en"
    assert "Todas las comprobaciones son correctas." in _doctor(config, env={"LANG": "es_ES.UTF-8"})


def test_errors_are_titled_in_spanish(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--lang", "es", "--config", str(tmp_path / "none.toml"), "doctor"])
    assert result.exit_code == 1
    assert result.output.startswith("Sin configuración:")


def test_help_in_spanish() -> None:
    set_language("es")
    translate_help(app)
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Una consola de atención al cliente" in result.output
    assert "Opciones" in result.output and "Empieza aquí" in result.output
    result = runner.invoke(app, ["doctor", "--help"])
    assert "Omitir el inicio de sesión en IMAP y SMTP." in result.output
    set_language("en")
    translate_help(app)
    result = runner.invoke(app, ["doctor", "--help"])
    assert "Skip the IMAP and SMTP logins." in result.output


def test_ticket_list_and_show_in_spanish(tmp_path: Path) -> None:
    from sqlalchemy.engine import Engine

    from cs_console.config import load_settings
    from cs_console.store.database import open_database
    from cs_console.store.engine import session_scope
    from tests.test_outbox_support import seed_ticket

    config = write_config(tmp_path, {"agent": {"name": "lucia", "language": "es"}})
    engine: Engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        number = seed_ticket(session, now=datetime.now(UTC) - timedelta(minutes=1)).id
    listed = runner.invoke(app, ["--config", str(config), "list", "--view", "all"])
    assert listed.exit_code == 0, listed.output
    for header in ("estado", "prio.", "vence", "cliente", "asunto"):
        assert header in listed.output
    assert "nuevo" in listed.output or "abierto" in listed.output
    shown = runner.invoke(app, ["--config", str(config), "show", str(number)])
    assert shown.exit_code == 0, shown.output
    assert "cliente: " in shown.output and "prioridad: normal" in shown.output
    assert "── cliente " in shown.output
    empty = runner.invoke(app, ["--config", str(config), "list", "--view", "pending"])
    assert "No hay tickets en la vista pendiente." in empty.output
    english = runner.invoke(app, ["--config", str(config), "--lang", "en", "list", "--view", "all"])
    assert "status" in english.output and "estado" not in english.output


def test_terms_name_the_desks_values_in_both_languages() -> None:
    from cs_console.i18n import term

    assert [term(v) for v in ("on_hold", "urgent", "breached", None, "custom")] == [
        "on_hold",
        "urgent",
        "breached",
        "",
        "custom",
    ]
    set_language("es")
    assert [term(v) for v in ("on_hold", "urgent", "breached", "mine", "custom")] == [
        "en espera",
        "urgente",
        "vencido",
        "míos",
        "custom",
    ]
