"""A self-contained workspace folder: a config file, a data dir and a SQLite database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit

from tests.rig.dovecot import PASSWORD, USER, Dovecot
from tests.rig.smtp import SmtpServer

PASSWORD_ENV = "CS_TEST_IMAP_PASSWORD"


def account_table(
    dovecot: Dovecot | None = None, smtp: SmtpServer | None = None, **overrides: Any
) -> dict[str, Any]:
    """An ``[[accounts]]`` entry pointing at the rig's servers."""
    table: dict[str, Any] = {
        "name": "shop",
        "address": USER,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port if dovecot else 1,
        "imap_security": "none",
        "username": USER,
        "folders": ["INBOX"],
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port if smtp else 1,
        "smtp_security": "none",
        "password_env": PASSWORD_ENV,
    }
    table.update(overrides)
    return table


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    """Write ``config.toml`` into ``folder`` (data under ``folder/data``) and return its path."""
    document: dict[str, Any] = {
        "shop": {
            "name": "Tienda de Prueba",
            "timezone": "Europe/Madrid",
            "language": "es",
            "country": "ES",
        },
        "storage": {"data_dir": "data"},
    }
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = value
    path = folder / "config.toml"
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path


__all__ = ["PASSWORD", "PASSWORD_ENV", "account_table", "write_config"]
