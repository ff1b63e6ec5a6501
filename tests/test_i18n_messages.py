"""Messages built deep in the program, in Spanish: faq, lint-reply, config, outbox, mail, store,
exports, composing a message, spelling, the editor's draft line.

The catalog's completeness (no msgid without a translation, no fuzzy entry) is
checked by ``tests/test_i18n.py::test_every_message_is_translated``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from textual.widgets import DataTable
from typer.testing import CliRunner, Result

from cs_console.cli import app
from cs_console.cli.help_text import translate_help
from cs_console.config import AccountSettings, load_settings
from cs_console.desk.canned import CATEGORIES
from cs_console.desk.canned.orders import compile_order_patterns
from cs_console.desk.export_formats import ExportFileError
from cs_console.desk.metrics import dashboard_report
from cs_console.desk.writing.spelling import SpellChecker
from cs_console.errors import ConfigError, OAuthError, SecretError, StoreError
from cs_console.i18n import LANG_ENV, _, set_language
from cs_console.mail.compose import ComposeError, Recipient, compose_message, make_message_id
from cs_console.mail.oauth import TokenRevoked, oauth_client
from cs_console.mail.smtp_send import TemporarySendError
from cs_console.secrets import get_password, secret_source
from cs_console.store.database import open_database
from cs_console.store.engine import make_engine, session_scope
from cs_console.tui.screens.dashboard import agents_table
from cs_console.tui.screens.editor import EditorScreen
from cs_console.tui.screens.queue import QueueScreen
from tests.rig.dovecot import Dovecot
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config
from tests.test_outbox_support import seed_ticket
from tests.test_tui_support import console_settings, make_app, seed, settle

runner = CliRunner()


@pytest.fixture(autouse=True)
def _english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (LANG_ENV, "LC_ALL", "LC_MESSAGES", PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    set_language("en")
    translate_help(app)


def _run(config: Path, *args: str, lang: str = "es", input: str | None = None) -> Result:
    return runner.invoke(app, ["--lang", lang, "--config", str(config), *args], input=input)


def _flat(text: str) -> str:
    """The output with Rich's line wrapping undone (messages are matched across lines)."""
    return " ".join(text.split())


def _faq_workspace(folder: Path) -> Path:
    return write_config(folder, {"canned": {"folder": "respuestas"}})


# --- faq --------------------------------------------------------------------------------------


def test_faq_import_and_list_in_spanish(tmp_path: Path) -> None:
    config = _faq_workspace(tmp_path)
    imported = _run(config, "faq", "import")
    assert imported.exit_code == 0, imported.output
    assert "Respuestas predefinidas: " in imported.stdout
    assert " añadidas, 0 actualizadas, 0 sin cambios." in imported.stdout

    listed = _run(config, "faq", "list")
    assert listed.exit_code == 0, listed.output
    header = listed.stdout.splitlines()[0].split()
    assert header == ["slug", "título", "idioma", "categoría", "usos"]

    assert (
        "No se usó ninguna respuesta predefinida en ese periodo."
        in _run(config, "faq", "usage").stdout
    )
    gaps = _run(config, "faq", "gaps", "--min-count", "4")
    assert "Ninguna pregunta se ha respondido a mano 4 o más veces." in gaps.stdout


def test_faq_stays_english_by_default(tmp_path: Path) -> None:
    config = _faq_workspace(tmp_path)
    imported = _run(config, "faq", "import", lang="en")
    assert "Canned answers: " in imported.stdout and " added, 0 updated" in imported.stdout
    assert _run(config, "faq", "list", lang="en").stdout.split()[:5] == [
        "slug",
        "title",
        "language",
        "category",
        "uses",
    ]


def test_faq_errors_in_spanish(tmp_path: Path) -> None:
    config = _faq_workspace(tmp_path)
    bad = _run(config, "faq", "list", "--format", "xml")
    assert bad.exit_code == 2
    assert "--format: elige uno de table, json" in bad.output
    missing = _run(config, "faq", "edit", "no-existe")
    assert missing.exit_code == 1
    assert "No es posible: no hay ninguna respuesta 'no-existe'" in missing.output


def test_faq_help_in_spanish_names_every_category() -> None:
    set_language("es")
    translate_help(app)
    result = runner.invoke(app, ["faq", "new", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Crear una respuesta a partir de una plantilla" in result.output
    assert "Una de: " in result.output
    assert all(category in result.output for category in CATEGORIES)


# --- lint-reply ------------------------------------------------------------------------------


def test_lint_reply_errors_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    missing = tmp_path / "falta.md"
    result = _run(config, "lint-reply", str(missing))
    assert result.exit_code == 2
    assert f"no se puede leer la respuesta {missing}: " in result.output

    reply = tmp_path / "reply.md"
    reply.write_text("Hola, María:\n\nYa está.\n", encoding="utf-8")
    result = _run(config, "lint-reply", str(reply), "--customer-message", str(missing))
    assert f"no se puede leer el mensaje del cliente {missing}: " in result.output

    result = _run(config, "lint-reply", str(reply), "--language", "fr")
    assert result.exit_code == 2
    assert "--language: elige uno de es, en" in result.output


def test_lint_reply_help_in_spanish() -> None:
    set_language("es")
    translate_help(app)
    result = runner.invoke(app, ["lint-reply", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Mostrar las sugerencias de redacción de una respuesta" in _flat(result.output)


# --- config ------------------------------------------------------------------------------------


def test_broken_config_names_file_and_key_in_spanish(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[shop]\nnmae = "x"\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    result = _run(config, "faq", "list")
    assert result.exit_code == 1
    output = _flat(result.output)
    assert output.startswith(f"Error de configuración: {config} tiene 2 problemas:")
    assert (
        "shop.nmae: clave desconocida (revisa cómo está escrita; consulta config.example.toml)"
        in output
    )
    assert "shop.timezone: zona horaria desconocida 'Mars/Olympus'" in output

    english = _flat(_run(config, "faq", "list", lang="en").output)
    assert f"{config} has 2 problems:" in english
    assert "shop.nmae: unknown key" in english


def test_config_that_is_not_toml_in_spanish(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[shop\n", encoding="utf-8")
    result = _run(config, "faq", "list")
    assert result.exit_code == 1
    assert f"{config} no es TOML válido: " in _flat(result.output)


def test_account_key_errors_in_spanish(tmp_path: Path) -> None:
    account = account_table(None, None, password="secreto")
    config = write_config(tmp_path, {"accounts": [account]})
    output = _flat(_run(config, "faq", "list").output)
    assert "accounts[0] ('shop'): 'password' no está permitido: nunca pongas una contraseña" in (
        output
    )
    assert "Usa password_env, password_cmd o password_keyring = true" in output


# --- the outbox, the mail servers, the database ------------------------------------------------


def test_send_summary_in_spanish(tmp_path: Path) -> None:
    account = account_table(None, None)
    del account["password_env"]
    config = write_config(
        tmp_path,
        {"accounts": [account], "outbox": {"undo_seconds": 0, "deliver_to_folder": "outgoing"}},
    )
    engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        ticket = seed_ticket(session, now=datetime.now(UTC) - timedelta(minutes=1))
        number = ticket.id
    queued = _run(config, "reply", str(number), input="Hola María,\nsale hoy.\n")
    assert queued.exit_code == 0, queued.output
    sent = _run(config, "send")
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip() == "enviados 1, reintentando 0, fallidos 0; 0 en espera"
    assert (
        _run(config, "send", lang="en").stdout.strip() == "sent 0, retrying 0, failed 0; 0 waiting"
    )


def test_unreachable_smtp_server_in_spanish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "secreto")
    config = write_config(
        tmp_path, {"accounts": [account_table(None, None)], "outbox": {"undo_seconds": 0}}
    )
    engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        number = seed_ticket(session, now=datetime.now(UTC) - timedelta(minutes=1)).id
    queued = _run(config, "reply", str(number), input="Hola María,\nsale hoy.\n")
    assert queued.exit_code == 0, queued.output
    sent = _run(config, "send")
    assert sent.exit_code == 1, sent.output
    output = _flat(sent.output)
    assert "no se puede conectar con el servidor SMTP 127.0.0.1:1: " in output
    assert "enviados 0, reintentando 1, fallidos 0, sin conexión: shop; 1 en espera" in output


def test_database_errors_in_spanish() -> None:
    set_language("es")
    with pytest.raises(StoreError) as caught:
        make_engine("::no es una URL::")
    assert caught.value.message.startswith("la URL de la base de datos no es válida: ")
    with pytest.raises(StoreError) as caught:
        make_engine("mysql://tienda@localhost/tickets")
    assert caught.value.message == "base de datos no admitida 'mysql': usa sqlite o postgresql"


def test_sign_in_errors_in_spanish() -> None:
    account = AccountSettings.model_validate(account_table(None, None))
    set_language("es")
    with pytest.raises(OAuthError) as caught:
        oauth_client(account)
    assert caught.value.message == (
        "la cuenta 'shop' no usa inicio de sesión OAuth2 "
        "(pon auth = 'oauth2', oauth2_provider y oauth2_client_id)"
    )


def test_section_checks_in_spanish(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "business_hours": {"monday": ["18:00-09:00"]},
            "sla": {"policies": [{"name": "normal", "first_reply": "pronto"}]},
        },
    )
    output = _flat(_run(config, "faq", "list").output)
    assert f"{config} tiene 2 problemas:" in output
    assert "business_hours.monday: '18:00-09:00' termina antes de empezar" in output
    assert (
        "sla.policies[0] ('normal').first_reply: 'pronto' no es una duración como '30m', '5h', '2d'"
        in output
    )


def test_faq_import_reports_a_bad_file_in_spanish(tmp_path: Path) -> None:
    config = _faq_workspace(tmp_path)
    other = tmp_path / "otra"
    other.mkdir()
    bad = other / "mala.md"
    bad.write_text("+++\ntitle = 'x'\nlanguage = 'fr'\ncategory = 'other'\n+++\nHola", "utf-8")
    result = _run(config, "faq", "import", str(other))
    assert result.exit_code == 1
    output = _flat(result.output)
    assert f"no importado: {bad}: language 'fr' debe ser uno de: es, en" in output
    assert "1 archivo sin importar." in output


def test_ticket_errors_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    result = _run(config, "reply", "999", input="Hola")
    assert result.exit_code == 1
    assert "No es posible: no existe el ticket #999" in result.output


# --- password sources, order-number patterns, key bindings --------------------------------------


def test_unset_password_variable_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(None, None)]})
    doctor = _run(config, "doctor", "--offline")
    assert doctor.exit_code == 1
    output = _flat(doctor.output)
    assert (
        f"cuenta shop secreto: cuenta 'shop': la variable de entorno {PASSWORD_ENV} "
        "no está definida o está vacía"
    ) in output
    assert "1 comprobación ha fallado." in output

    status = _run(config, "auth", "status")
    assert status.exit_code == 0, status.output
    assert f"shop: contraseña (variable de entorno {PASSWORD_ENV})" in _flat(status.output)


def test_password_source_errors_in_spanish() -> None:
    account = account_table(None, None)
    del account["password_env"]
    set_language("es")
    with pytest.raises(SecretError) as caught:
        get_password(AccountSettings.model_validate(account))
    assert caught.value.message == (
        "la cuenta 'shop' no tiene de dónde sacar la contraseña: "
        "pon password_env, password_cmd o password_keyring = true"
    )
    failing = AccountSettings.model_validate({**account, "password_cmd": "false"})
    with pytest.raises(SecretError) as caught:
        get_password(failing)
    assert caught.value.message == "cuenta 'shop': password_cmd terminó con el código 1"
    assert secret_source(failing) == "comando `false`"


def test_order_number_patterns_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"canned": {"order_patterns": [r"pedido (\d+", r"pedido \d+"]}})
    output = _flat(_run(config, "faq", "list").output)
    assert f"{config} tiene 1 problema:" in output
    assert (
        r"canned.order_patterns: el patrón de número de pedido 'pedido (\\d+' "
        "no es una expresión regular válida ("
    ) in output

    set_language("es")
    with pytest.raises(ConfigError) as caught:
        compile_order_patterns([r"pedido \d+"])
    assert caught.value.message == (
        r"el patrón de número de pedido 'pedido \\d+' necesita un grupo que capture el número"
    )


def test_key_binding_checks_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"keys": {"queue.nada": "x", "queue.down": "flecha abajo"}})
    output = _flat(_run(config, "faq", "list").output)
    assert "keys: id de atajo de teclado desconocido 'queue.nada'; ids conocidos: " in output

    config = write_config(tmp_path, {"keys": {"queue.down": "flecha abajo"}})
    output = _flat(_run(config, "faq", "list").output)
    assert "'flecha abajo' para 'queue.down' no es una tecla (p. ej. 'j' o 'ctrl+s')" in output


# --- the dashboard ------------------------------------------------------------------------------


def test_dashboard_open_column_is_not_the_verb(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, {}))
    engine = open_database(settings.database_url)
    with session_scope(engine) as session:
        report = dashboard_report(session, settings, now=datetime.now(UTC), days=7)
    headers = [str(column.header) for column in agents_table(report).columns]
    assert headers[:4] == ["Agent", "Received", "Solved", "Open"]
    set_language("es")
    headers = [str(column.header) for column in agents_table(report).columns]
    assert headers[:4] == ["Agente", "Recibidos", "Resueltos", "Abiertos"]
    assert _("Open") == "Abrir"  # the queue's key keeps its verb


# --- option checks and lines of the commands ----------------------------------------------------


def test_option_checks_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    by = _run(config, "report", "--by", "planeta")
    assert by.exit_code == 2
    assert "elige uno de: " in by.output
    fmt = _run(config, "report", "--format", "xml")
    assert "elige table o json" in fmt.output
    dataset = _run(config, "export", "clientes")
    assert dataset.exit_code == 2 and "elige uno de: tickets" in _flat(dataset.output)
    demo = _run(config, "demo", "--language", "fr", str(tmp_path / "demo"))
    assert demo.exit_code == 2 and "elige es o en" in demo.output
    listed = _run(config, "list", "--format", "xml")
    assert listed.exit_code == 2 and "elige uno de: table, json" in listed.output


def test_command_errors_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    both = _run(config, "reply", "1", "--answer", "envio", "--file", "-", input="Hola")
    assert both.exit_code == 1
    assert "No es posible: indica --answer o --file, no los dos" in _flat(both.output)
    report = _run(config, "report", "--since", "2026-11-02", "--until", "2026-11-01")
    assert report.exit_code == 1
    assert "el inicio del informe debe ser anterior a su final" in _flat(report.output)
    empty = _run(config, "enqueue", "--raw", input="")
    assert empty.exit_code == 1
    assert (
        "No se puede poner en cola: la entrada estándar está vacía; pasa un correo por una "
        "tubería a `cs-console enqueue --raw`"
    ) in _flat(empty.output)
    sync = _run(config, "sync")
    assert sync.exit_code == 1
    assert "no hay ninguna cuenta de correo configurada; añade una tabla [[accounts]]" in _flat(
        sync.output
    )


def test_init_without_a_terminal_in_spanish(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    result = _run(config, "init", "--no-input", "--skip-test", "--shop-name", "Mi Tienda")
    assert result.exit_code == 2
    assert "sin terminal no se puede preguntar: indica --address" in _flat(
        result.output.replace("│", "")
    )
    config.write_text("", encoding="utf-8")
    again = _run(config, "init", "--no-input")
    assert again.exit_code == 1
    assert f"{config} ya existe; usa --force para sobrescribirlo" in _flat(again.output)


def test_report_by_agent_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    result = runner.invoke(
        app,
        ["--lang", "es", "--config", str(config), "report", "--by", "agent"],
        terminal_width=160,
    )
    assert result.exit_code == 0, result.output
    assert "Por agente" in result.output
    header = next(line for line in result.output.splitlines() if "recibidos" in line).split()
    assert " ".join(header).startswith(
        "agente recibidos resueltos abiertos respuesta resolución SLA"
    )
    assert "tiempos: medianas en horario laborable" in result.output


# --- exports, composing a message, spelling, the titles ------------------------------------------


def test_export_errors_in_spanish(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    xlsx = _run(config, "export", "tickets", "--format", "xlsx")
    assert xlsx.exit_code == 1
    assert "Ha fallado la exportación: una exportación XLSX necesita --out FILE" in _flat(
        xlsx.output
    )
    folder = tmp_path / "no-existe"
    missing = _run(config, "export", "tickets", "--out", str(folder / "tickets.csv"))
    assert missing.exit_code == 1
    assert f"la carpeta {str(folder)!r} no existe" in _flat(missing.output)
    english = _run(config, "export", "tickets", "--format", "xlsx", lang="en")
    assert "Export failed: an XLSX export needs --out FILE" in _flat(english.output)


def test_compose_errors_in_spanish(now: datetime) -> None:
    def compose(address: str) -> None:
        compose_message(
            from_address="hola@tienda.example",
            from_name="Tienda",
            to=[Recipient(address, "Ana")],
            subject="Re: pedido",
            body="Hola",
            message_id="<1.cs@tienda.example>",
            date=now,
        )

    with pytest.raises(ComposeError) as caught:
        compose("ana@@example.org")
    assert caught.value.message == "'ana@@example.org' is not a usable email address"
    set_language("es")
    with pytest.raises(ComposeError) as caught:
        compose("ana@@example.org")
    assert caught.value.message == "'ana@@example.org' no es una dirección de correo válida"
    assert _(caught.value.title) == "No se puede crear el mensaje"
    with pytest.raises(ComposeError) as caught:
        make_message_id("tienda..")
    assert caught.value.message == "'tienda..' no es un dominio válido para un Message-ID"


def test_spelling_errors_in_spanish() -> None:
    set_language("es")
    with pytest.raises(ValueError, match="no hay diccionario ortográfico para el idioma 'fr'"):
        SpellChecker("fr")


def test_error_titles_in_spanish() -> None:
    set_language("es")
    assert _(ExportFileError.title) == "Ha fallado la exportación"
    assert _(TemporarySendError.title) == "Envío aplazado"
    assert _(TokenRevoked.title) == "Inicio de sesión revocado"
    assert _(ComposeError.title) == "No se puede crear el mensaje"


def test_show_names_the_delivery_state_in_spanish(tmp_path: Path) -> None:
    account = account_table(None, None)
    del account["password_env"]
    config = write_config(tmp_path, {"accounts": [account]})
    engine = open_database(load_settings(config).database_url)
    with session_scope(engine) as session:
        number = seed_ticket(session, now=datetime.now(UTC) - timedelta(minutes=1)).id
    queued = _run(config, "reply", str(number), input="Hola María,\nsale hoy.\n")
    assert queued.exit_code == 0, queued.output
    shown = _run(config, "show", str(number))
    assert shown.exit_code == 0, shown.output
    assert "[en cola]" in shown.stdout and "[queued]" not in shown.stdout
    assert "[queued]" in _run(config, "show", str(number), lang="en").stdout


# --- the editor's draft line ---------------------------------------------------------------------


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_editor_draft_line_in_spanish(
    sqlite_engine: Engine, now: datetime, tmp_path: Path
) -> None:
    ids = seed(sqlite_engine, now)
    set_language("es")
    app = make_app(console_settings(tmp_path, accounts=[]), sqlite_engine, now)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        queue.query_one(DataTable).move_cursor(row=[r.id for r in queue.rows].index(ids["soon"]))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        await pilot.press(*"Ya sale.")
        editor._save_if_dirty()  # as the debounce timer would
        await settle(pilot)
        assert "borrador guardado" in _screen_text(app)
        await pilot.press("ctrl+s")  # no mail account: the reply cannot be queued
        await settle(pilot)
        assert app.screen is editor
        assert "sin enviar: tu texto se guarda como borrador" in _screen_text(app)
        assert "draft saved" not in _screen_text(app)


def test_sla_targets_are_terms_and_tags_are_left_as_written() -> None:
    from cs_console.desk.metrics import Trend
    from cs_console.i18n import set_language, term
    from cs_console.tui.screens.dashboard import trends_table

    set_language("es")
    try:
        assert term("first_reply") == "primera respuesta"
        assert term("next_reply") == "siguiente respuesta"
        table = trends_table("Etiquetas", [Trend(name="sent", count=2, previous=1)])
        assert [str(cell) for cell in table.columns[0].cells] == ["sent"]  # a tag, not a state
    finally:
        set_language("en")
    assert term("resolution") == "resolution"


def test_attachment_saving_errors_in_spanish(tmp_path: Path) -> None:
    from cs_console.errors import DeskError
    from cs_console.i18n import set_language
    from cs_console.tui.gateway import DeskGateway

    gateway = DeskGateway.__new__(DeskGateway)
    set_language("es")
    try:
        with pytest.raises(DeskError, match="no es una carpeta"):
            gateway.save_attachment("0" * 64, "a.pdf", tmp_path / "missing")
    finally:
        set_language("en")


def test_a_missing_folder_is_reported_in_spanish(
    dovecot: Dovecot, sqlite_engine: Engine, tmp_path: Path
) -> None:
    from cs_console.desk.sync import sync_account
    from cs_console.i18n import set_language
    from tests.test_sync_support import NOW, settings_for

    settings = settings_for(tmp_path, dovecot, folders=["Nope"])
    set_language("es")
    try:
        report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    finally:
        set_language("en")
    error = report.folders[0].error or ""
    assert "no se puede" in error and "'Nope'" in error
