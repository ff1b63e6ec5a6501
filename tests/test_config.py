"""Config loading: defaults, path resolution, and errors that name file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_console.config import load_settings
from cs_console.config_reference import render_reference
from cs_console.errors import ConfigError
from cs_console.paths import CONFIG_ENV, config_path

ROOT = Path(__file__).parent.parent

ACCOUNT = """
[[accounts]]
name = "shop"
address = "shop@example.com"
imap_host = "imap.example.com"
username = "shop@example.com"
password_env = "SHOP_PW"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.shop.timezone == "Europe/Madrid"
    assert settings.accounts[0].password_env == "CS_SHOP_PASSWORD"
    assert settings.accounts[0].imap_port_effective == 993
    assert settings.accounts[0].smtp_port_effective == 587


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\ndata_dir = "data"\n[database]\nurl = "sqlite:///db/x.db"\n')
    settings = load_settings(path)
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'db' / 'x.db'}"
    assert settings.attachments_dir == tmp_path / "data" / "attachments"


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[storage]\ndata_dir = "d"\n'))
    assert settings.database_url == f"sqlite:///{tmp_path / 'd' / 'cs-console.db'}"


def test_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "env.toml"))
    assert config_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"
    assert config_path(None) == tmp_path / "env.toml"
    monkeypatch.delenv(CONFIG_ENV)
    assert config_path(None).name == "config.toml"
    assert "cs-console" in str(config_path(None))


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "absent.toml")
    assert "absent.toml" in info.value.message
    assert "cs-console init" in info.value.message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[shop]\nname = "x"\ntimezone = \n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in info.value.message
    assert "line 3" in info.value.message


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[shop]\ntimezone = "Mars/Olympus"\n', "shop.timezone", "unknown time zone"),
        ('[shop]\nlanguage = "fr"\n', "shop.language", "'es' or 'en'"),
        ('[shop]\nnmae = "x"\n', "shop.nmae", "unknown key"),
        (
            ACCOUNT.replace('imap_host = "imap.example.com"\n', ""),
            "accounts[0] ('shop').imap_host",
            "required",
        ),
        (ACCOUNT + "imap_port = 70000\n", "accounts[0] ('shop').imap_port", "less than or equal"),
        (ACCOUNT + 'imap_security = "ssl"\n', "accounts[0] ('shop').imap_security", "'tls'"),
        ('[business_hours]\nmonday = ["9-18"]\n', "business_hours.monday", "not a span"),
        (
            '[[sla.policies]]\nname = "x"\nfirst_reply = "soon"\n',
            "sla.policies[0]",
            "not a duration",
        ),
        ('[database]\nurl = "mysql://x"\n', "database.url", "sqlite"),
    ],
)
def test_invalid_values_name_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = info.value.message
    assert str(path) in message
    assert key in message
    assert problem in message


def test_plain_password_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, ACCOUNT + 'password = "hunter2"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "never put a password in the config file" in info.value.message
    assert "hunter2" not in info.value.message


def test_password_in_database_url_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql+psycopg://cs:hunter2@db/x"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "no password in the database URL" in info.value.message


def test_two_secret_sources_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, ACCOUNT + 'password_cmd = "pass x"\n')
    with pytest.raises(ConfigError, match="only one of"):
        load_settings(path)


def test_duplicate_account_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique: shop"):
        load_settings(write(tmp_path, ACCOUNT + ACCOUNT))


def test_configuration_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_reference(), (
        "docs/configuration.md is stale: run `python -m cs_console.config_reference > docs/configuration.md`"
    )


def test_folder_names_with_line_breaks_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, ACCOUNT + 'folders = ["INBOX\\r\\nA1 DELETE INBOX"]\n')
    with pytest.raises(ConfigError, match="control character"):
        load_settings(path)
