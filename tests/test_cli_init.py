"""``init`` writes a config that ``doctor`` passes, without prompts, against the rig."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.config import load_settings
from cs_console.mail.providers import guess_provider, provider_by_key
from tests.rig.dovecot import USER, Dovecot
from tests.rig.smtp import SmtpServer
from tests.rig.workspace import PASSWORD_ENV

runner = CliRunner()


def init_args(config: Path, dovecot: Dovecot, smtp: SmtpServer, *extra: str) -> list[str]:
    return [
        "--config", str(config), "init", "--no-input",
        "--shop-name", 'Tienda "La Ñ"', "--language", "es", "--timezone", "Europe/Madrid",
        "--country", "ES", "--hours", "09:00-14:00, 16:00-19:00",
        "--address", USER, "--provider", "custom",
        "--imap-host", "127.0.0.1", "--imap-port", str(dovecot.port), "--imap-security", "none",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp.port), "--smtp-security", "none",
        "--password-env", PASSWORD_ENV, "--agent", "lucia",
        "--data-dir", str(config.parent / "data"),
        *extra,
    ]  # fmt: skip


def test_init_then_doctor_passes(tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer) -> None:
    config = tmp_path / "conf" / "config.toml"
    result = runner.invoke(app, init_args(config, dovecot, smtp_server))
    assert result.exit_code == 0, result.output
    assert "ok   account shop IMAP" in result.output
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    text = config.read_text()
    assert "secret-imap-pass" not in text
    assert "# Where the password comes from" in text
    settings = load_settings(config)
    assert settings.shop.name == 'Tienda "La Ñ"'
    assert settings.business_hours.monday == ["09:00-14:00", "16:00-19:00"]
    assert settings.accounts[0].password_env == PASSWORD_ENV
    doctor = runner.invoke(app, ["--config", str(config), "doctor"])
    assert doctor.exit_code == 0, doctor.output


def test_init_refuses_to_save_when_the_test_fails(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    config = tmp_path / "config.toml"
    result = runner.invoke(app, init_args(config, dovecot, smtp_server))
    assert result.exit_code == 1
    assert "refused the login" in result.output
    assert "Nothing was written" in result.output
    assert not config.exists()


def test_init_does_not_overwrite_without_force(
    tmp_path: Path, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# mine\n")
    result = runner.invoke(app, init_args(config, dovecot, smtp_server, "--skip-test"))
    assert result.exit_code == 1
    assert config.read_text() == "# mine\n"
    result = runner.invoke(app, init_args(config, dovecot, smtp_server, "--skip-test", "--force"))
    assert result.exit_code == 0, result.output


def test_init_without_terminal_names_the_missing_flag(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "c.toml"), "init", "--no-input"])
    assert result.exit_code == 2
    assert "--address" in result.output


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("ana@gmail.com", "gmail"),
        ("x@hotmail.es", "outlook"),
        ("y@icloud.com", "icloud"),
        ("z@mitienda.es", None),
    ],
)
def test_provider_is_guessed_from_the_domain(address: str, key: str | None) -> None:
    found = guess_provider(address)
    assert (found.key if found else None) == key


def test_gmail_preset_explains_app_passwords() -> None:
    gmail = provider_by_key("gmail")
    assert gmail is not None and gmail.imap_host == "imap.gmail.com"
    assert "app password" in gmail.note
