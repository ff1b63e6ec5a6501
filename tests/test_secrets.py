"""Secrets come from the environment, a command or the keyring, and never leak into errors."""

from __future__ import annotations

import sys

import pytest

from cs_console.config import AccountSettings
from cs_console.errors import SecretError
from cs_console.secrets import get_password, secret_source


def account(**secret: object) -> AccountSettings:
    return AccountSettings(
        name="shop",
        address="a@example.com",
        imap_host="h",
        username="u",
        **secret,  # type: ignore[arg-type]
    )


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_PW", "s3cret")
    assert get_password(account(password_env="SHOP_PW")) == "s3cret"
    assert "s3cret" not in secret_source(account(password_env="SHOP_PW"))


def test_missing_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_PW", raising=False)
    with pytest.raises(SecretError, match="SHOP_PW is not set"):
        get_password(account(password_env="SHOP_PW"))


def test_from_command_first_line() -> None:
    cmd = f"{sys.executable} -c \"print('line-one'); print('line-two')\""
    assert get_password(account(password_cmd=cmd)) == "line-one"


def test_failing_command_does_not_show_output() -> None:
    cmd = f"{sys.executable} -c \"print('leaked-secret'); raise SystemExit(3)\""
    with pytest.raises(SecretError) as info:
        get_password(account(password_cmd=cmd))
    assert "exited with 3" in info.value.message
    assert "leaked-secret" not in info.value.message


def test_no_source() -> None:
    with pytest.raises(SecretError, match="no password source"):
        get_password(account())


def test_keyring_backend_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    store = {("cs-console", "shop"): "from-keyring"}
    monkeypatch.setattr(keyring, "get_password", lambda service, user: store.get((service, user)))
    assert get_password(account(password_keyring=True)) == "from-keyring"
    store.clear()
    with pytest.raises(SecretError, match="no password in the keyring"):
        get_password(account(password_keyring=True))
