"""OAuth2 sign-in: the device flow and token renewal against a local authorization server."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cs_console.config import AccountSettings
from cs_console.errors import CsConsoleError, OAuthError, SecretError
from cs_console.mail.connect import BearerToken, Credential, as_credential, xoauth2_string
from cs_console.mail.oauth import (
    REFRESH_MARGIN,
    TokenRevoked,
    Tokens,
    oauth_client,
    poll_for_tokens,
    request_device_code,
)
from cs_console.secrets import (
    KEYRING_SERVICE,
    delete_tokens,
    get_credential,
    get_password,
    load_tokens,
    save_tokens,
    secret_source,
)
from tests.rig.memory_keyring import MemoryKeyring
from tests.rig.oauth_server import USER_CODE, OAuthServer

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
USER = "shop@example.com"


def oauth_account(server_url: str, **extra: Any) -> AccountSettings:
    data: dict[str, Any] = {
        "name": "shop",
        "address": USER,
        "imap_host": "127.0.0.1",
        "username": USER,
        "auth": "oauth2",
        "oauth2_provider": "custom",
        "oauth2_client_id": "client-123",
        "oauth2_scopes": ["imap", "smtp", "offline_access"],
        "oauth2_device_url": f"{server_url}/device",
        "oauth2_token_url": f"{server_url}/token",
    }
    data.update(extra)
    return AccountSettings(**data)


def store(server: OAuthServer, *, expires_at: datetime) -> Tokens:
    access, refresh = server.issue()
    tokens = Tokens(access, refresh, expires_at)
    save_tokens("shop", tokens)
    return tokens


# --- the device flow ---------------------------------------------------------------


def test_device_flow_waits_pending_and_slows_down(oauth_server: OAuthServer) -> None:
    client = oauth_client(oauth_account(oauth_server.url))
    oauth_server.script_device("authorization_pending", "slow_down", "authorization_pending", "ok")
    code = request_device_code(client)
    assert code.user_code == USER_CODE
    assert code.verification_uri == "https://microsoft.com/devicelogin"
    waits: list[float] = []
    tokens = poll_for_tokens(client, code, clock=lambda: NOW, sleep=waits.append)
    assert waits == [5, 5, 10, 10]  # slow_down adds 5 s for every later poll
    assert oauth_server.valid_access(tokens.access_token)
    assert tokens.refresh_token
    assert tokens.expires_at == NOW + timedelta(hours=1)
    device = oauth_server.requests("/device")[0]
    assert device == {"client_id": "client-123", "scope": "imap smtp offline_access"}
    polls = oauth_server.requests("/token")
    assert len(polls) == 4
    assert len({p["device_code"] for p in polls}) == 1  # the same code every time


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("access_denied", "was refused in the browser"), ("expired_token", "expired before")],
)
def test_device_flow_refusals_say_what_to_do(
    oauth_server: OAuthServer, answer: str, expected: str
) -> None:
    client = oauth_client(oauth_account(oauth_server.url))
    oauth_server.script_device("authorization_pending", answer)
    code = request_device_code(client)
    with pytest.raises(OAuthError) as info:
        poll_for_tokens(client, code, clock=lambda: NOW, sleep=lambda _s: None)
    assert expected in info.value.message
    assert "cs-console auth login shop" in info.value.message


def test_device_flow_gives_up_when_the_code_lifetime_is_used(oauth_server: OAuthServer) -> None:
    client = oauth_client(oauth_account(oauth_server.url))
    oauth_server.script_device(*["authorization_pending"] * 500)
    code = request_device_code(client)
    waits: list[float] = []
    with pytest.raises(OAuthError, match="expired before it was approved"):
        poll_for_tokens(client, code, clock=lambda: NOW, sleep=waits.append)
    assert sum(waits) == code.expires_in == 900


def test_unreachable_service_is_a_clear_error(oauth_server: OAuthServer) -> None:
    url = oauth_server.url
    oauth_server.stop()
    with pytest.raises(OAuthError, match="cannot reach the sign-in service of account 'shop'"):
        request_device_code(oauth_client(oauth_account(url)), timeout=5)


# --- renewal and storage -------------------------------------------------------------


def test_token_far_from_expiry_is_used_as_is(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    tokens = store(oauth_server, expires_at=NOW + timedelta(minutes=10))
    credential = get_credential(oauth_account(oauth_server.url), now=NOW)
    assert credential == Credential.bearer(tokens.access_token)
    assert oauth_server.requests("/token") == []


def test_token_about_to_expire_is_renewed_and_stored(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    old = store(oauth_server, expires_at=NOW + timedelta(minutes=4))
    credential = get_credential(oauth_account(oauth_server.url), now=NOW)
    assert credential.is_bearer
    assert credential.secret != old.access_token
    assert oauth_server.valid_access(credential.secret)
    refresh = oauth_server.requests("/token")[0]
    assert refresh["grant_type"] == "refresh_token"
    assert refresh["refresh_token"] == old.refresh_token
    stored = load_tokens("shop")
    assert stored is not None
    assert stored.access_token == credential.secret
    assert stored.refresh_token == old.refresh_token  # none came back: the old one is kept
    assert stored.expires_at == NOW + timedelta(hours=1)
    # The renewed token is good for the next call: no second renewal.
    assert get_credential(oauth_account(oauth_server.url), now=NOW) == credential
    assert len(oauth_server.requests("/token")) == 1


def test_revoked_refresh_token_gives_the_clear_notice(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    old = store(oauth_server, expires_at=NOW - timedelta(minutes=1))
    assert old.refresh_token is not None
    oauth_server.revoke(old.refresh_token)
    with pytest.raises(TokenRevoked) as info:
        get_credential(oauth_account(oauth_server.url), now=NOW)
    assert isinstance(info.value, SecretError | CsConsoleError)
    message = info.value.message
    assert "no longer accepts the sign-in of account 'shop'" in message
    assert "No mail is fetched or sent" in message
    assert message.endswith("run `cs-console auth login shop`.")
    assert old.refresh_token not in message and old.access_token not in message
    assert load_tokens("shop") == old  # kept: status can still tell when it expired


def test_service_down_uses_a_still_valid_token_but_not_an_expired_one(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    account = oauth_account(oauth_server.url)
    tokens = store(oauth_server, expires_at=NOW + timedelta(minutes=2))
    oauth_server.stop()
    assert get_credential(account, now=NOW).secret == tokens.access_token
    with pytest.raises(OAuthError, match="cannot reach") as info:
        get_credential(account, now=NOW + timedelta(minutes=3))
    assert not isinstance(info.value, TokenRevoked)


def test_not_signed_in(oauth_server: OAuthServer, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(OAuthError, match=r"is not signed in: run `cs-console auth login shop`"):
        get_credential(oauth_account(oauth_server.url), now=NOW)


def test_keyring_entry_and_logout(oauth_server: OAuthServer, memory_keyring: MemoryKeyring) -> None:
    tokens = store(oauth_server, expires_at=NOW)
    assert (KEYRING_SERVICE, "shop:oauth2") in memory_keyring.entries
    assert load_tokens("shop") == tokens
    assert delete_tokens("shop") is True
    assert delete_tokens("shop") is False
    assert load_tokens("shop") is None


def test_unreadable_record_asks_for_a_new_sign_in(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[(KEYRING_SERVICE, "shop:oauth2")] = "not json"
    with pytest.raises(OAuthError, match="auth login shop"):
        load_tokens("shop")


def test_get_password_gives_a_bearer_token_for_oauth2_accounts(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    far = datetime.now(UTC) + timedelta(hours=1)  # get_password reads the clock itself
    tokens = store(oauth_server, expires_at=far)
    account = oauth_account(oauth_server.url)
    password = get_password(account)
    assert isinstance(password, BearerToken)
    assert password == tokens.access_token
    assert tokens.access_token not in repr(password)
    assert as_credential(password) == Credential.bearer(tokens.access_token)
    assert as_credential("plain") == Credential.password("plain")
    assert "OAuth2" in secret_source(account)


@given(offset=st.integers(min_value=-86_400, max_value=86_400))
def test_renewal_starts_five_minutes_before_expiry(offset: int) -> None:
    tokens = Tokens("a", "r", NOW + timedelta(seconds=offset))
    assert tokens.needs_refresh(now=NOW) == (offset < REFRESH_MARGIN.total_seconds())
    assert tokens.expired(now=NOW) == (offset <= 0)
    assert Tokens.from_json(tokens.to_json()) == tokens


def test_tokens_never_show_in_repr() -> None:
    text = repr(Tokens("access-secret", "refresh-secret", NOW))
    assert "access-secret" not in text and "refresh-secret" not in text
    assert "hidden-one" not in repr(Credential.bearer("hidden-one"))


def test_xoauth2_initial_response() -> None:
    encoded = xoauth2_string("shop@example.com", "tok")
    assert base64.b64decode(encoded) == b"user=shop@example.com\x01auth=Bearer tok\x01\x01"


# --- settings ------------------------------------------------------------------------


def test_microsoft_defaults() -> None:
    account = AccountSettings(
        name="shop",
        address=USER,
        imap_host="outlook.office365.com",
        username=USER,
        auth="oauth2",
        oauth2_provider="microsoft",
        oauth2_client_id="cid",
        oauth2_tenant="contoso.onmicrosoft.com",
    )
    client = oauth_client(account)
    base = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0"
    assert client.device_url == f"{base}/devicecode"
    assert client.token_url == f"{base}/token"
    assert client.scopes == (
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    )
    assert account.has_secret_source
    google = account.model_copy(update={"oauth2_provider": "google"})
    assert oauth_client(google).scopes == ("https://mail.google.com/",)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"password_env": "X"}, "takes no password_env"),
        ({"oauth2_provider": None}, "needs oauth2_provider"),
        ({"oauth2_client_id": None}, "needs oauth2_client_id"),
        ({"oauth2_token_url": None}, "needs oauth2_token_url"),
        ({"oauth2_device_url": "ftp://x/device"}, "oauth2_device_url must be an https"),
    ],
)
def test_oauth2_settings_are_checked(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        oauth_account("http://127.0.0.1:1", **extra)


def test_password_accounts_are_unchanged() -> None:
    account = AccountSettings(name="s", address=USER, imap_host="h", username="u")
    assert account.auth == "password"
    assert not account.has_secret_source
    with pytest.raises(OAuthError, match="does not use OAuth2"):
        oauth_client(account)


def test_concurrent_renewals_refresh_once_with_rotating_refresh_tokens(
    oauth_server: OAuthServer, memory_keyring: MemoryKeyring
) -> None:
    """Two processes renewing at once must not spend a rotated refresh token twice."""
    from concurrent.futures import ThreadPoolExecutor

    oauth_server.state.rotate_refresh = True
    old = store(oauth_server, expires_at=NOW + timedelta(minutes=4))
    account = oauth_account(oauth_server.url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        credentials = list(pool.map(lambda _: get_credential(account, now=NOW), range(4)))
    assert len(oauth_server.requests("/token")) == 1
    assert {c.secret for c in credentials} == {credentials[0].secret}
    assert oauth_server.valid_access(credentials[0].secret)
    stored = load_tokens("shop")
    assert stored is not None
    assert stored.refresh_token != old.refresh_token  # the rotated one was kept
    # The kept refresh token works for the next renewal.
    later = NOW + timedelta(minutes=58)
    assert oauth_server.valid_access(get_credential(account, now=later).secret)
