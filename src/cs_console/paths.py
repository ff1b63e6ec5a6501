"""Where a workspace's files are: the config file, the data folder, the default database.

Kept apart from :mod:`cs_console.config` (pydantic) so the console can find its
database and paint the queue before the config is validated
(:mod:`cs_console.tui.first_page`); both read the same rules from here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "APP_NAME",
    "CONFIG_ENV",
    "config_path",
    "default_config_path",
    "default_data_dir",
    "default_database_url",
    "resolve_sqlite_url",
]

APP_NAME = "cs-console"
CONFIG_ENV = "CS_CONSOLE_CONFIG"


def default_config_path() -> Path:
    """The XDG config path (``~/.config/cs-console/config.toml`` on Linux)."""
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def config_path(explicit: Path | str | None = None) -> Path:
    """Which config file to use: ``--config``, then ``$CS_CONSOLE_CONFIG``, then XDG."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_config_path()


def default_data_dir() -> Path:
    """The XDG data folder (``~/.local/share/cs-console`` on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path) -> str:
    """The database of a workspace whose config names none: a SQLite file in its data folder."""
    return f"sqlite:///{data_dir / 'cs-console.db'}"


def resolve_sqlite_url(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base`` (the config's folder)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{(base / relative).resolve()}"
    return url
