"""Writing a new, commented config file (``cs-console init``).

Values are quoted by tomlkit so a shop name with quotes or accents stays valid
TOML. Later edits by program go through tomlkit too, keeping the user's comments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from cs_console.config import settings_from_mapping


@dataclass(frozen=True)
class InitAnswers:
    """What ``init`` asked for."""

    shop_name: str
    language: str
    timezone: str
    country: str | None
    weekday_hours: list[str]
    agent_name: str
    address: str
    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    username: str
    secret_key: str  # password_env, password_cmd or password_keyring
    secret_value: str | bool
    data_dir: str | None = None
    database_url: str | None = None


def _q(value: object) -> str:
    return tomlkit.item(value).as_string()


def render_config(answers: InitAnswers) -> str:
    """A commented config file for these answers (validated before it is returned)."""
    hours = _q(answers.weekday_hours)
    lines = [
        "# cs-console configuration, written by `cs-console init`.",
        "# Every key is explained in docs/configuration.md; `cs-console doctor` checks this file.",
        "",
        "[shop]",
        f"name = {_q(answers.shop_name)}",
        f"timezone = {_q(answers.timezone)}",
        f"language = {_q(answers.language)}            # es or en",
    ]
    if answers.country:
        lines.append(
            f"country = {_q(answers.country)}             # public holidays of this country"
        )
    lines += ["", "[agent]", f"name = {_q(answers.agent_name)}", ""]
    if answers.data_dir:
        lines += ["[storage]", f"data_dir = {_q(answers.data_dir)}", ""]
    if answers.database_url:
        lines += ["[database]", f"url = {_q(answers.database_url)}", ""]
    lines += [
        "[[accounts]]",
        'name = "shop"',
        f"address = {_q(answers.address)}",
        f"imap_host = {_q(answers.imap_host)}",
        f"imap_port = {answers.imap_port}",
        f"imap_security = {_q(answers.imap_security)}   # tls, starttls or none",
        f"username = {_q(answers.username)}",
        'folders = ["INBOX"]',
        f"smtp_host = {_q(answers.smtp_host)}",
        f"smtp_port = {answers.smtp_port}",
        f"smtp_security = {_q(answers.smtp_security)}",
        "# Where the password comes from (never written in this file):",
        f"{answers.secret_key} = {_q(answers.secret_value)}",
        "",
        "[business_hours]          # opening hours in the shop's time zone",
        *(f"{day} = {hours}" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")),
        "saturday = []",
        "sunday = []",
        "public_holidays = true",
        "",
        "[outbox]",
        "undo_seconds = 10         # a sent reply can be pulled back for this long",
        "",
    ]
    text = "\n".join(lines)
    settings_from_mapping(tomlkit.parse(text).unwrap())  # raises ConfigError if we wrote nonsense
    return text


def write_config_file(path: Path, text: str) -> None:
    """Write atomically, private to the user (it names where secrets come from)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
