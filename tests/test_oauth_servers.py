"""SASL XOAUTH2 against real servers: Dovecot with an oauth2 passdb, and aiosmtpd.

Dovecot checks each bearer token with the local authorization server's RFC 7662
introspection endpoint; the SMTP server asks the same authorization server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cs_console.config import Settings
from cs_console.desk.health import Outcome, run_checks
from cs_console.desk.outbox import drain_outbox
from cs_console.desk.sync import sync_account
from cs_console.errors import ImapError, SmtpError
from cs_console.mail.connect import Credential, Endpoint, imap_connect, smtp_connect
from cs_console.mail.oauth import Tokens
from cs_console.secrets import save_tokens
from cs_console.store.models import FolderState, Ticket
from tests.rig.dovecot import USER, Dovecot, start_dovecot
from tests.rig.memory_keyring import MemoryKeyring
from tests.rig.oauth_server import OAuthServer
from tests.rig.smtp_oauth import XOAuth2SmtpServer
from tests.test_outbox_support import make_settings
from tests.test_send_smtp import item, queue_reply
from tests.test_sync_support import count, mail, settings_for

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
# aiosmtpd warns that AUTH without TLS is unsafe: true, and fine on loopback.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer(user=USER).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(oauth_server: OAuthServer) -> Iterator[Dovecot]:
    server = start_dovecot(oauth2_introspection_url=f"{oauth_server.url}/introspect")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_oauth(oauth_server: OAuthServer) -> Iterator[XOAuth2SmtpServer]:
    server = XOAuth2SmtpServer(
        lambda user, token: user == USER and oauth_server.valid_access(token)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def endpoint(port: int) -> Endpoint:
    return Endpoint(host="127.0.0.1", port=port, security="none", username=USER)


def oauth_settings(tmp_path: Path, dovecot: Dovecot, server: OAuthServer, **extra: Any) -> Settings:
    return settings_for(
        tmp_path,
        dovecot,
        password_env=None,
        auth="oauth2",
        oauth2_provider="custom",
        oauth2_client_id="client-123",
        oauth2_scopes=["imap"],
        oauth2_device_url=f"{server.url}/device",
        oauth2_token_url=f"{server.url}/token",
        **extra,
    )


# --- IMAP ------------------------------------------------------------------------------


def test_imap_logs_in_with_a_bearer_token(
    oauth_dovecot: Dovecot, oauth_server: OAuthServer
) -> None:
    access, _refresh = oauth_server.issue()
    client = imap_connect(endpoint(oauth_dovecot.port), Credential.bearer(access), timeout=10)
    try:
        folders = {name for _flags, _sep, name in client.list_folders()}
    finally:
        client.logout()
    assert "INBOX" in folders
    assert oauth_server.requests("/introspect")[-1]["token"] == access


def test_imap_refuses_a_revoked_token(oauth_dovecot: Dovecot, oauth_server: OAuthServer) -> None:
    access, refresh = oauth_server.issue()
    oauth_server.revoke(refresh)
    with pytest.raises(ImapError) as info:
        imap_connect(endpoint(oauth_dovecot.port), Credential.bearer(access), timeout=10)
    assert "refused the login" in info.value.message
    assert "OAuth2 token was refused" in info.value.message
    assert access not in info.value.message


def test_password_login_still_works_beside_oauth2(oauth_dovecot: Dovecot) -> None:
    client = imap_connect(endpoint(oauth_dovecot.port), oauth_dovecot.users[USER], timeout=10)
    client.logout()


# --- SMTP ------------------------------------------------------------------------------


async def test_smtp_sends_after_auth_xoauth2(
    smtp_oauth: XOAuth2SmtpServer, oauth_server: OAuthServer
) -> None:
    access, _refresh = oauth_server.issue()
    client = await smtp_connect(endpoint(smtp_oauth.port), Credential.bearer(access), timeout=10)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = USER, "c@example.org", "Hola"
    message.set_content("Su pedido va en camino.")
    try:
        await client.send_message(message)
    finally:
        await client.quit()
    assert smtp_oauth.logins == [USER]
    assert [r.message["Subject"] for r in smtp_oauth.wait_for(1)] == ["Hola"]


async def test_smtp_refused_token_is_an_smtp_error(
    smtp_oauth: XOAuth2SmtpServer, oauth_server: OAuthServer
) -> None:
    with pytest.raises(SmtpError) as info:
        await smtp_connect(endpoint(smtp_oauth.port), Credential.bearer("at-unknown"), timeout=10)
    assert "535" in info.value.message
    assert "OAuth2 token was refused" in info.value.message
    assert smtp_oauth.logins == []


# --- through sync and doctor -----------------------------------------------------------


def test_sync_renews_the_token_and_ingests(
    oauth_dovecot: Dovecot,
    oauth_server: OAuthServer,
    memory_keyring: MemoryKeyring,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    oauth_dovecot.reset_user(USER)
    settings = oauth_settings(tmp_path, oauth_dovecot, oauth_server)
    _access, refresh = oauth_server.issue()
    expired = Tokens("at-expired", refresh, datetime.now(UTC) - timedelta(minutes=1))
    save_tokens("shop", expired)
    oauth_dovecot.deliver(mail(sender="c@example.org", mid="o1@example.org", subject="Pedido"))
    report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.ok, report.errors
    assert count(sqlite_engine, Ticket) == 1
    assert oauth_server.requests("/token")[-1]["refresh_token"] == refresh


def test_revoked_sign_in_reaches_the_folder_state_and_doctor(
    oauth_dovecot: Dovecot,
    oauth_server: OAuthServer,
    memory_keyring: MemoryKeyring,
    sqlite_engine: Engine,
    tmp_path: Path,
) -> None:
    settings = oauth_settings(tmp_path, oauth_dovecot, oauth_server)
    _access, refresh = oauth_server.issue()
    save_tokens("shop", Tokens("at-old", refresh, datetime.now(UTC) - timedelta(hours=2)))
    oauth_server.revoke(refresh)
    report = sync_account(settings, sqlite_engine, settings.accounts[0], now_fn=lambda: NOW)
    assert report.error is not None
    assert "run `cs-console auth login shop`" in report.error
    with Session(sqlite_engine) as session:
        state = session.exec(select(FolderState)).one()
    assert state.last_error == report.error  # what the console shows for the folder
    checks = list(run_checks(settings, now=NOW, connect=False))
    secret = next(c for c in checks if c.name == "account shop sign-in")
    assert secret.outcome is Outcome.FAIL
    assert "cs-console auth login shop" in secret.detail


# --- through the outbox ----------------------------------------------------------------


def outbox_settings(smtp: XOAuth2SmtpServer, server: OAuthServer) -> Settings:
    return make_settings(
        smtp,
        undo=0,
        password_env=None,
        auth="oauth2",
        oauth2_provider="custom",
        oauth2_client_id="client-123",
        oauth2_scopes=["smtp"],
        oauth2_device_url=f"{server.url}/device",
        oauth2_token_url=f"{server.url}/token",
    )


async def test_outbox_sends_with_a_renewed_token(
    smtp_oauth: XOAuth2SmtpServer,
    oauth_server: OAuthServer,
    memory_keyring: MemoryKeyring,
    sqlite_engine: Engine,
) -> None:
    settings = outbox_settings(smtp_oauth, oauth_server)
    _access, refresh = oauth_server.issue()
    save_tokens("shop", Tokens("at-old", refresh, datetime.now(UTC) + timedelta(minutes=2)))
    item_id = queue_reply(sqlite_engine, settings, NOW)
    report = await drain_outbox(settings, sqlite_engine, now_fn=lambda: NOW)
    assert report.sent == 1, report.errors
    assert smtp_oauth.logins == [USER]
    assert item(sqlite_engine, item_id).status == "sent"


async def test_outbox_keeps_replies_queued_with_the_notice_when_revoked(
    smtp_oauth: XOAuth2SmtpServer,
    oauth_server: OAuthServer,
    memory_keyring: MemoryKeyring,
    sqlite_engine: Engine,
) -> None:
    settings = outbox_settings(smtp_oauth, oauth_server)
    _access, refresh = oauth_server.issue()
    save_tokens("shop", Tokens("at-old", refresh, datetime.now(UTC) - timedelta(minutes=1)))
    oauth_server.revoke(refresh)
    item_id = queue_reply(sqlite_engine, settings, NOW)
    report = await drain_outbox(settings, sqlite_engine, now_fn=lambda: NOW)
    assert report.sent == 0 and report.unreachable == ["shop"]
    stored = item(sqlite_engine, item_id)
    assert stored.status == "queued"  # kept for after the new sign-in
    assert stored.last_error is not None
    assert "run `cs-console auth login shop`" in stored.last_error
    assert smtp_oauth.received == []
