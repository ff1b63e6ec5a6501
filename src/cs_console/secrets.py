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

from cs_console.config import AccountSettings
from cs_console.errors import OAuthError, SecretError
from cs_console.i18n import _
from cs_console.mail.connect import BearerToken, Credential
from cs_console.mail.oauth import Tokens, oauth_client, refresh_tokens
from cs_console.paths import APP_NAME

KEYRING_SERVICE = "cs-console"
_COMMAND_TIMEOUT = 30.0
#: Longer than a renewal takes (the HTTP timeout), so a waiting process gets its turn.
_REFRESH_LOCK_TIMEOUT = 120.0
_TOKENS_SUFFIX = ":oauth2"


def secret_source(account: AccountSettings) -> str:
    """Describe the account's secret source without revealing the secret."""
    if account.auth == "oauth2":
        return _("OAuth2 sign-in, tokens in the keyring ({entry})").format(
            entry=tokens_key(account.name)
        )
    if account.password_env:
        return _("environment variable {name}").format(name=account.password_env)
    if account.password_cmd:
        return _("command {command}").format(command=f"`{account.password_cmd}`")
    if account.password_keyring:
        return _("system keyring ({entry})").format(entry=f"{KEYRING_SERVICE}/{account.name}")
    return _("none configured")


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
            _(
                "account {account} is not signed in: run {command} (OAuth2 sign-in in the browser)"
            ).format(account=repr(account.name), command=client.login_command)
        )
    if not tokens.needs_refresh(now=now):
        return Credential.bearer(tokens.access_token)
    try:
        with _refresh_lock(account.name):
            return _renew(account, tokens, now=now)
    except Timeout:
        raise OAuthError(
            _(
                "account {account}: another cs-console process has been renewing the "
                "sign-in for over {seconds} s; try again"
            ).format(account=repr(account.name), seconds=f"{_REFRESH_LOCK_TIMEOUT:.0f}")
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
                _("account {account}: environment variable {name} is not set or empty").format(
                    account=repr(account.name), name=account.password_env
                )
            )
        return value
    if account.password_cmd:
        return _from_command(account)
    if account.password_keyring:
        return _from_keyring(account)
    raise SecretError(
        _("account {account} has no password source: set {env}, {cmd} or {keyring}").format(
            account=repr(account.name),
            env="password_env",
            cmd="password_cmd",
            keyring="password_keyring = true",
        )
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
        raise SecretError(
            _("account {account}: cannot run {key}: {reason}").format(
                account=repr(account.name), key="password_cmd", reason=exc
            )
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise SecretError(
            _("account {account}: {key} did not finish in {seconds} s").format(
                account=repr(account.name), key="password_cmd", seconds=f"{_COMMAND_TIMEOUT:.0f}"
            )
        ) from exc
    if result.returncode != 0:
        raise SecretError(
            _("account {account}: {key} exited with {code}").format(
                account=repr(account.name), key="password_cmd", code=result.returncode
            )
        )
    value = result.stdout.splitlines()[0].strip() if result.stdout.strip() else ""
    if not value:
        raise SecretError(
            _("account {account}: {key} printed nothing").format(
                account=repr(account.name), key="password_cmd"
            )
        )
    return value


def _from_keyring(account: AccountSettings) -> str:
    try:
        import keyring
        from keyring.errors import KeyringError

        value = keyring.get_password(KEYRING_SERVICE, account.name)
    except KeyringError as exc:
        raise SecretError(_keyring_failed(account.name, exc)) from exc
    except Exception as exc:  # a missing backend raises various errors
        raise SecretError(_no_keyring(account.name, exc)) from exc
    if not value:
        raise SecretError(
            _(
                "account {account}: no password in the keyring under {entry}; "
                "store one with {command}"
            ).format(
                account=repr(account.name),
                entry=f"{KEYRING_SERVICE}/{account.name}",
                command="`cs-console init`",
            )
        )
    return value


def store_in_keyring(account_name: str, password: str) -> None:
    """Save a password in the system keyring."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, account_name, password)
    except Exception as exc:
        raise SecretError(
            _("cannot store the password in the keyring: {reason}").format(reason=exc)
        ) from exc


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
        raise OAuthError(_no_keyring(account_name, exc)) from exc
    if not value:
        return None
    try:
        return Tokens.from_json(value)
    except OAuthError as exc:
        raise OAuthError(
            _("account {account}: the stored sign-in is unreadable; run {command}").format(
                account=repr(account_name), command=f"`cs-console auth login {account_name}`"
            )
        ) from exc


def save_tokens(account_name: str, tokens: Tokens) -> None:
    """Store an account's OAuth2 tokens in the keyring (replacing what was there)."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, tokens_key(account_name), tokens.to_json())
    except Exception as exc:
        raise OAuthError(
            _("account {account}: cannot store the sign-in: {reason}").format(
                account=repr(account_name), reason=exc
            )
        ) from exc


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
        raise OAuthError(_keyring_failed(account_name, exc)) from exc
    return True


def _keyring_failed(account_name: str, exc: Exception) -> str:
    return _("account {account}: the keyring failed: {reason}").format(
        account=repr(account_name), reason=exc
    )


def _no_keyring(account_name: str, exc: Exception) -> str:
    return _("account {account}: no usable keyring: {reason}").format(
        account=repr(account_name), reason=exc
    )
