"""The CLI's foundation commands: help, doctor on working and broken configs, db upgrade."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.store.engine import make_engine
from cs_console.store.migrate import current_revision, head_revision
from tests.rig.database import postgres_schema, postgres_url_for
from tests.rig.dovecot import Dovecot
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD_ENV, account_table, write_config

runner = CliRunner()


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_help_lists_commands_and_teaches() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("doctor", "db", "demo"):
        assert command in result.output
    assert "cs-console demo" in result.output


def test_module_and_script_entry_points() -> None:
    for argv in ([sys.executable, "-m", "cs_console", "--version"], ["cs-console", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("cs-console ")


def test_doctor_passes_on_a_working_workspace(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    config = write_config(tmp_path, {"accounts": [account_table(dovecot, smtp_server)]})
    code, output = invoke(config, "db", "upgrade")
    assert code == 0, output
    code, output = invoke(config, "doctor")
    assert code == 0, output
    assert "account shop IMAP: 127.0.0.1" in output
    assert "account shop SMTP" in output
    assert "All checks passed." in output
    assert "secret-imap-pass" not in output


def test_doctor_fails_on_a_broken_workspace(
    tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_closed = SmtpServer()  # never started: connection refused
    broken = account_table(dovecot, smtp_closed, folders=["INBOX", "Pedidos"])
    config = write_config(tmp_path, {"accounts": [broken]})
    code, output = invoke(config, "doctor")
    assert code == 1
    assert "FAIL account shop IMAP" in output and "'Pedidos'" in output
    assert "FAIL account shop SMTP" in output and "cannot reach" in output
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    code, output = invoke(config, "doctor")
    assert code == 1
    assert "refused the login" in output
    assert "wrong-password" not in output


def test_doctor_names_a_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[shop]\ntimezone = "Nowhere/City"\n')
    result = runner.invoke(app, ["--config", str(config), "doctor"])
    assert result.exit_code == 1
    assert "shop.timezone" in result.output and str(config) in result.output


def test_missing_config_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        ["cs-console", "--config", str(tmp_path / "none.toml"), "doctor"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "No configuration" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_on_sqlite(tmp_path: Path) -> None:
    config = write_config(tmp_path, {})
    code, output = invoke(config, "db", "upgrade")
    assert code == 0, output
    assert "upgraded from empty" in output
    code, output = invoke(config, "db", "upgrade")
    assert "up to date" in output
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'cs-console.db'}")
    assert current_revision(engine) == head_revision()


def test_db_upgrade_on_postgresql(tmp_path: Path, postgres_available: None) -> None:
    with postgres_schema(migrate=False) as (engine, schema):
        config = write_config(tmp_path, {"database": {"url": postgres_url_for(schema)}})
        assert current_revision(engine) is None
        code, output = invoke(config, "db", "upgrade")
        assert code == 0, output
        assert current_revision(engine) == head_revision()


def test_doctor_logs_in_to_an_smtp_server_that_requires_it(
    tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer(require_auth=True)
    server.start()
    try:
        config = write_config(tmp_path, {"accounts": [account_table(dovecot, server)]})
        code, output = invoke(config, "doctor")
        assert code == 0, output
        monkeypatch.setenv(PASSWORD_ENV, "wrong")
        code, output = invoke(config, "doctor")
        assert code == 1
        assert "SMTP: 127.0.0.1" in output and "refused the login" in output
    finally:
        server.stop()


def test_doctor_warns_when_certificates_are_not_verified(tmp_path: Path, dovecot: Dovecot) -> None:
    account = account_table(dovecot, SmtpServer(), tls_verify=False)
    config = write_config(tmp_path, {"accounts": [account]})
    _code, output = invoke(config, "doctor", "--offline")
    assert "warn account shop TLS: tls_verify = false" in output
