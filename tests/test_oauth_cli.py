"""``cs-console auth login/status/logout`` and ``doctor`` with an OAuth2 account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cs_console.cli import app
from cs_console.mail.oauth import Tokens
from cs_console.secrets import KEYRING_SERVICE, load_tokens, save_tokens
from tests.rig.memory_keyring import MemoryKeyring
from tests.rig.oauth_server import USER_CODE, OAuthServer
from tests.rig.workspace import account_table, write_config

runner = CliRunner()


def config_for(tmp_path: Path, server: OAuthServer) -> Path:
    oauth: dict[str, Any] = account_table(
        auth="oauth2",
        oauth2_provider="custom",
        oauth2_client_id="client-123",
        oauth2_scopes=["imap", "smtp"],
        oauth2_device_url=f"{server.url}/device",
        oauth2_token_url=f"{server.url}/token",
    )
    del oauth["password_env"]
    other = account_table(name="plain")
    return write_config(tmp_path, {"accounts": [oauth, other]})


def invoke(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_login_status_logout(
    tmp_path: Path, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    config = config_for(tmp_path, oauth_server)
    code, output = invoke(config, "auth", "status")
    assert code == 0, output
    assert "shop: OAuth2 (custom) not signed in: run `cs-console auth login shop`" in output
    assert "plain: password from environment variable CS_TEST_IMAP_PASSWORD" in output

    oauth_server.script_device("authorization_pending", "ok", interval=0)
    code, output = invoke(config, "auth", "login", "shop")
    assert code == 0, output
    assert "https://microsoft.com/devicelogin" in output
    assert USER_CODE in output
    assert "Signed in: account shop" in output
    tokens = load_tokens("shop")
    assert tokens is not None and oauth_server.valid_access(tokens.access_token)
    assert len(oauth_server.requests("/token")) == 2

    code, output = invoke(config, "auth", "status")
    assert "shop: OAuth2 (custom) signed in, token valid until" in output
    assert tokens.access_token not in output
    assert tokens.refresh_token is not None and tokens.refresh_token not in output

    code, output = invoke(config, "auth", "logout", "shop")
    assert code == 0, output
    assert "Signed out" in output
    assert (KEYRING_SERVICE, "shop:oauth2") not in memory_keyring.entries
    code, output = invoke(config, "auth", "logout", "shop")
    assert "was not signed in" in output


def test_refused_login_exits_with_the_reason(
    tmp_path: Path, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    config = config_for(tmp_path, oauth_server)
    oauth_server.script_device("access_denied", interval=0)
    code, output = invoke(config, "auth", "login", "shop")
    assert code == 1
    assert "refused in the browser" in output
    assert load_tokens("shop") is None


def test_login_of_a_password_account_says_how_to_switch(
    tmp_path: Path, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    code, output = invoke(config_for(tmp_path, oauth_server), "auth", "login", "plain")
    assert code == 1
    assert "logs in with a password" in output
    assert "auth = 'oauth2'" in output


def test_doctor_fails_on_a_revoked_sign_in(
    tmp_path: Path, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    config = config_for(tmp_path, oauth_server)
    _access, refresh = oauth_server.issue()
    save_tokens("shop", Tokens("at-old", refresh, datetime.now(UTC) - timedelta(minutes=1)))
    oauth_server.revoke(refresh)
    code, output = invoke(config, "doctor", "--offline")
    assert code == 1
    flat = " ".join(output.split())
    assert "FAIL account shop sign-in:" in flat
    assert "run `cs-console auth login shop`" in flat


def test_doctor_renews_a_working_sign_in(
    tmp_path: Path, oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    config = config_for(tmp_path, oauth_server)
    _access, refresh = oauth_server.issue()
    save_tokens("shop", Tokens("at-old", refresh, datetime.now(UTC) - timedelta(minutes=1)))
    _code, output = invoke(config, "doctor", "--offline")
    flat = " ".join(output.split())
    assert "ok account shop sign-in: OAuth2 token valid until" in flat
    renewed = load_tokens("shop")
    assert renewed is not None and oauth_server.valid_access(renewed.access_token)


def test_init_for_outlook_points_to_auth_login(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    # fmt: off
    result = runner.invoke(app, [
        "--config", str(config), "init", "--no-input", "--skip-test",
        "--shop-name", "Tienda", "--language", "es", "--timezone", "Europe/Madrid",
        "--country", "ES", "--hours", "09:00-18:00", "--address", "ventas@tienda.es",
        "--provider", "outlook", "--password-env", "SHOP_PW", "--agent", "lucia",
        "--data-dir", str(tmp_path / "data"),
    ])
    # fmt: on
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "oauth2_provider = 'microsoft'" in flat
    assert "`cs-console auth login shop`" in flat
