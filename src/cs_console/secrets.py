"""Where account secrets come from: an environment variable, a command, or the keyring.

A password is never read from the config file and never written to a log; the
errors here name the account and the source, not the value.

An account with ``auth = "oauth2"`` has no password: its tokens live in the
keyring under ``cs-console`` / ``ACCOUNT:oauth2`` (a JSON record written by
``cs-console auth login``), and :func:`get_credential` hands out an access
token, renewed first when it is about to expire.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout
from platformdirs import user_cache_dir

from cs_console.config import APP_NAME, AccountSettings
from cs_console.errors import OAuthError, SecretError
from cs_console.mail.connect import BearerToken, Credential
from cs_console.mail.oauth import Tokens, oauth_client, refresh_tokens

KEYRING_SERVICE = "cs-console"
_COMMAND_TIMEOUT = 30.0
#: Longer than a renewal takes (the HTTP timeout), so a waiting process gets its turn.
_REFRESH_LOCK_TIMEOUT = 120.0
_TOKENS_SUFFIX = ":oauth2"


def secret_source(account: AccountSettings) -> str:
    """Describe the account's secret source without revealing the secret."""
    if account.auth == "oauth2":
        return f"OAuth2 sign-in, tokens in the keyring ({tokens_key(account.name)})"
    if account.password_env:
        return f"environment variable {account.password_env}"
    if account.password_cmd:
        return f"command `{account.password_cmd}`"
    if account.password_keyring:
        return f"system keyring ({KEYRING_SERVICE}/{account.name})"
    return "none configured"


def get_credential(account: AccountSettings, *, now: datetime) -> Credential:
    """The account's password, or for OAuth2 an access token valid for a while after ``now``.

    An OAuth2 token that expires within :data:`cs_console.mail.oauth.REFRESH_MARGIN`
    is renewed (and the renewal stored) first; if the sign-in service cannot be
    reached the old token is used as long as it has not expired.

    Raises:
        SecretError: no password source, or it gave nothing.
        OAuthError: not signed in, or the renewal failed.
        TokenRevoked: the provider refused the refresh token (sign in again).
    """
    if account.auth != "oauth2":
        return Credential.password(get_password(account))
    client = oauth_client(account)
    tokens = load_tokens(account.name)
    if tokens is None:
        raise OAuthError(
            f"account {account.name!r} is not signed in: {client.login_hint} "
            "(OAuth2 sign-in in the browser)"
        )
    if not tokens.needs_refresh(now=now):
        return Credential.bearer(tokens.access_token)
    try:
        with _refresh_lock(account.name):
            return _renew(account, tokens, now=now)
    except Timeout:
        raise OAuthError(
            f"account {account.name!r}: another cs-console process has been renewing the "
            f"sign-in for over {_REFRESH_LOCK_TIMEOUT:.0f} s; try again"
        ) from None


def _renew(account: AccountSettings, tokens: Tokens, *, now: datetime) -> Credential:
    """Renew the tokens (called under the lock), unless another process just did.

    Another process (a sync beside the console) may have renewed them while
    this one waited; a provider that rotates refresh tokens would refuse the
    old refresh token as revoked, so the stored record is read again first.
    """
    tokens = load_tokens(account.name) or tokens
    if not tokens.needs_refresh(now=now):
        return Credential.bearer(tokens.access_token)
    try:
        tokens = refresh_tokens(oauth_client(account), tokens, now=now)
    except OAuthError as exc:
        if type(exc) is OAuthError and not tokens.expired(now=now):
            # The service could not be reached or failed; the token still works.
            return Credential.bearer(tokens.access_token)
        raise
    save_tokens(account.name, tokens)
    return Credential.bearer(tokens.access_token)


def _refresh_lock(account_name: str) -> FileLock:
    """A lock, across processes of this user, held while an account's tokens are renewed.

    The tokens live in the user's keyring, so the lock lives in the user's
    cache folder, named by a hash of the keyring entry (account names are
    free text, not file names).
    """
    folder = Path(user_cache_dir(APP_NAME, appauthor=False)) / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest = hashlib.sha256(tokens_key(account_name).encode()).hexdigest()[:24]
    return FileLock(folder / f"oauth2-{digest}.lock", timeout=_REFRESH_LOCK_TIMEOUT)


def get_password(account: AccountSettings) -> str:
    """Fetch the account's password from its configured source.

    For an ``auth = "oauth2"`` account this is a fresh access token as a
    :class:`~cs_console.mail.connect.BearerToken`, so callers that pass it on to
    ``imap_connect``/``smtp_connect`` log in with XOAUTH2.

    Raises:
        SecretError: no source is configured, or it gave nothing (an
            :class:`~cs_console.errors.OAuthError` for OAuth2 accounts).
    """
    if account.auth == "oauth2":
        credential = get_credential(account, now=datetime.now(UTC))  # the edge reads the clock
        return BearerToken(credential.secret)
    if account.password_env:
        value = os.environ.get(account.password_env)
        if not value:
            raise SecretError(
                f"account {account.name!r}: environment variable {account.password_env} "
                "is not set or empty"
            )
        return value
    if account.password_cmd:
        return _from_command(account)
    if account.password_keyring:
        return _from_keyring(account)
    raise SecretError(
        f"account {account.name!r} has no password source: "
        "set password_env, password_cmd or password_keyring = true"
    )


def _from_command(account: AccountSettings) -> str:
    command = account.password_cmd or ""
    try:
        result = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, ValueError) as exc:
        raise SecretError(f"account {account.name!r}: cannot run password_cmd: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise SecretError(
            f"account {account.name!r}: password_cmd did not finish in {_COMMAND_TIMEOUT:.0f} s"
        ) from exc
    if result.returncode != 0:
        raise SecretError(f"account {account.name!r}: password_cmd exited with {result.returncode}")
    value = result.stdout.splitlines()[0].strip() if result.stdout.strip() else ""
    if not value:
        raise SecretError(f"account {account.name!r}: password_cmd printed nothing")
    return value


def _from_keyring(account: AccountSettings) -> str:
    try:
        import keyring
        from keyring.errors import KeyringError

        value = keyring.get_password(KEYRING_SERVICE, account.name)
    except KeyringError as exc:
        raise SecretError(f"account {account.name!r}: the keyring failed: {exc}") from exc
    except Exception as exc:  # a missing backend raises various errors
        raise SecretError(f"account {account.name!r}: no usable keyring: {exc}") from exc
    if not value:
        raise SecretError(
            f"account {account.name!r}: no password in the keyring under "
            f"{KEYRING_SERVICE}/{account.name}; store one with `cs-console init`"
        )
    return value


def store_in_keyring(account_name: str, password: str) -> None:
    """Save a password in the system keyring."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, account_name, password)
    except Exception as exc:
        raise SecretError(f"cannot store the password in the keyring: {exc}") from exc


def tokens_key(account_name: str) -> str:
    """The keyring entry (under :data:`KEYRING_SERVICE`) holding an account's OAuth2 tokens."""
    return f"{account_name}{_TOKENS_SUFFIX}"


def load_tokens(account_name: str) -> Tokens | None:
    """The stored OAuth2 tokens of an account, or None when it never signed in.

    Raises:
        OAuthError: the keyring failed, or the stored record is unreadable.
    """
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, tokens_key(account_name))
    except Exception as exc:  # a missing backend raises various errors
        raise OAuthError(f"account {account_name!r}: no usable keyring: {exc}") from exc
    if not value:
        return None
    try:
        return Tokens.from_json(value)
    except OAuthError as exc:
        raise OAuthError(
            f"account {account_name!r}: the stored sign-in is unreadable; "
            f"run `cs-console auth login {account_name}`"
        ) from exc


def save_tokens(account_name: str, tokens: Tokens) -> None:
    """Store an account's OAuth2 tokens in the keyring (replacing what was there)."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, tokens_key(account_name), tokens.to_json())
    except Exception as exc:
        raise OAuthError(f"account {account_name!r}: cannot store the sign-in: {exc}") from exc


def delete_tokens(account_name: str) -> bool:
    """Forget an account's OAuth2 tokens; False when there were none."""
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, tokens_key(account_name))
        except PasswordDeleteError:
            return False
    except Exception as exc:
        raise OAuthError(f"account {account_name!r}: the keyring failed: {exc}") from exc
    return True
