"""Opening IMAP and SMTP connections for an account, with TLS verified by default.

The caller passes the credential (from :mod:`cs_console.secrets`): a
:class:`Credential`, or a bare string, which is a password unless it is a
:class:`BearerToken` (an OAuth2 access token, sent with SASL XOAUTH2). Nothing
here logs or echoes it. Errors become :class:`ImapError` / :class:`SmtpError` with a
message a shop owner can act on.
"""

from __future__ import annotations

import base64
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aiosmtplib
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from cs_console.errors import ImapError, SmtpError
from cs_console.i18n import _

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect; built from an account's settings."""

    host: str
    port: int
    security: str  # tls, starttls or none
    username: str
    tls_verify: bool = True
    ca_file: Path | None = None


class BearerToken(str):
    """An OAuth2 access token where a password string is expected: log in with XOAUTH2."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"


@dataclass(frozen=True)
class Credential:
    """What an account logs in with: a password, or an OAuth2 bearer token."""

    secret: str = field(repr=False)
    mechanism: Literal["password", "xoauth2"] = "password"

    @classmethod
    def password(cls, secret: str) -> Credential:
        return cls(secret, "password")

    @classmethod
    def bearer(cls, token: str) -> Credential:
        return cls(token, "xoauth2")

    @property
    def is_bearer(self) -> bool:
        return self.mechanism == "xoauth2"


def as_credential(value: str | Credential) -> Credential:
    """A :class:`Credential` from what a caller passed (a bare ``str`` is a password)."""
    if isinstance(value, Credential):
        return value
    if isinstance(value, BearerToken):
        return Credential.bearer(str(value))
    return Credential.password(value)


def xoauth2_string(username: str, token: str) -> bytes:
    """The SASL XOAUTH2 initial response, base64-encoded (Google's and Microsoft's format)."""
    raw = f"user={username}\x01auth=Bearer {token}\x01\x01".encode()
    return base64.b64encode(raw)


def tls_context(*, verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """A client TLS context, verified against the system CAs (and ``ca_file``) unless told not."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def imap_connect(
    endpoint: Endpoint, password: str | Credential, *, timeout: float = DEFAULT_TIMEOUT
) -> IMAPClient:
    """Connect and log in; STARTTLS is required (never silently skipped) when configured.

    ``password`` may be a :class:`Credential`; a bearer token logs in with
    ``AUTHENTICATE XOAUTH2``.

    Raises:
        ImapError: the server cannot be reached, TLS fails, or login is refused.
    """
    where = f"{endpoint.host}:{endpoint.port}"
    credential = as_credential(password)
    context = tls_context(verify=endpoint.tls_verify, ca_file=endpoint.ca_file)
    try:
        client = IMAPClient(
            endpoint.host,
            port=endpoint.port,
            ssl=endpoint.security == "tls",
            ssl_context=context,
            timeout=timeout,
            use_uid=True,
        )
    except ssl.SSLError as exc:
        raise ImapError(
            _("TLS with {server} failed: {reason}").format(server=where, reason=exc.reason or exc)
        ) from exc
    except (TimeoutError, OSError) as exc:
        raise ImapError(
            _("cannot reach the IMAP server {server}: {reason}").format(
                server=where, reason=_os_reason(exc)
            )
        ) from exc
    try:
        if endpoint.security == "starttls":
            if b"STARTTLS" not in client.capabilities():
                raise ImapError(_no_starttls(where))
            client.starttls(ssl_context=context)
        if credential.is_bearer:
            client.oauth2_login(endpoint.username, credential.secret)
        else:
            client.login(endpoint.username, credential.secret)
    except LoginError as exc:
        logout_quietly(client)
        raise ImapError(
            _("{server} refused the login of {user}: {answer}.").format(
                server=where, user=repr(endpoint.username), answer=_decode(exc)
            )
            + " "
            + _login_advice(credential)
        ) from exc
    except ssl.SSLError as exc:
        logout_quietly(client)
        raise ImapError(
            _("STARTTLS with {server} failed: {reason}").format(
                server=where, reason=exc.reason or exc
            )
        ) from exc
    except ImapError:
        logout_quietly(client)
        raise
    except (IMAPClientError, OSError) as exc:
        logout_quietly(client)
        raise ImapError(
            _("IMAP error with {server}: {reason}").format(server=where, reason=_decode(exc))
        ) from exc
    return client


async def smtp_connect(
    endpoint: Endpoint, password: str | Credential | None, *, timeout: float = DEFAULT_TIMEOUT
) -> aiosmtplib.SMTP:
    """Connect (TLS or required STARTTLS) and log in when the server offers AUTH.

    A bearer-token :class:`Credential` logs in with ``AUTH XOAUTH2``.

    Raises:
        SmtpError: the server cannot be reached, TLS fails, or login is refused.
    """
    where = f"{endpoint.host}:{endpoint.port}"
    credential = as_credential(password) if password is not None else None
    context = tls_context(verify=endpoint.tls_verify, ca_file=endpoint.ca_file)
    client = aiosmtplib.SMTP(
        hostname=endpoint.host,
        port=endpoint.port,
        use_tls=endpoint.security == "tls",
        start_tls=False,
        tls_context=context,
        timeout=timeout,
    )
    try:
        await client.connect()
        await client.ehlo()  # what the server offers (STARTTLS, AUTH) is only known after EHLO
        if endpoint.security == "starttls":
            if not client.supports_extension("starttls"):
                raise SmtpError(_no_starttls(where))
            await client.starttls(tls_context=context)
            await client.ehlo()
        if credential is not None and client.supports_extension("auth"):
            if credential.is_bearer:
                await _smtp_xoauth2(client, endpoint.username, credential.secret, timeout)
            else:
                await client.login(endpoint.username, credential.secret)
    except SmtpError:
        await _quietly_quit(client)
        raise
    except aiosmtplib.SMTPAuthenticationError as exc:
        await _quietly_quit(client)
        raise SmtpError(
            _("{server} refused the login of {user} ({answer}).").format(
                server=where, user=repr(endpoint.username), answer=f"{exc.code} {exc.message}"
            )
            + " "
            + _login_advice(credential)
        ) from exc
    except aiosmtplib.SMTPConnectError as exc:
        raise SmtpError(
            _("cannot reach the SMTP server {server}: {reason}").format(
                server=where, reason=exc.message
            )
        ) from exc
    except aiosmtplib.SMTPException as exc:
        await _quietly_quit(client)
        raise SmtpError(
            _("SMTP error with {server}: {reason}").format(server=where, reason=exc)
        ) from exc
    except (OSError, ssl.SSLError) as exc:
        await _quietly_quit(client)
        raise SmtpError(
            _("cannot reach the SMTP server {server}: {reason}").format(
                server=where, reason=_os_reason(exc)
            )
        ) from exc
    return client


async def _smtp_xoauth2(client: aiosmtplib.SMTP, username: str, token: str, timeout: float) -> None:
    """``AUTH XOAUTH2``; on a refusal the server sends a 334 JSON challenge, answered empty."""
    response = await client.execute_command(
        b"AUTH", b"XOAUTH2", xoauth2_string(username, token), timeout=timeout
    )
    if response.code == 334:
        response = await client.execute_command(b"", timeout=timeout)
    if response.code != 235:
        raise aiosmtplib.SMTPAuthenticationError(response.code, response.message)


def _no_starttls(where: str) -> str:
    return _("{server} does not offer STARTTLS; refusing to send the password in clear").format(
        server=where
    )


def _login_advice(credential: Credential | None) -> str:
    if credential is not None and credential.is_bearer:
        return _(
            "The OAuth2 token was refused: check that the app has the IMAP/SMTP permissions "
            "and that IMAP/SMTP access is enabled for the mailbox."
        )
    return _("Check the password (many providers need an app password).")


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return _("timed out")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _decode(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def logout_quietly(client: IMAPClient) -> None:
    """Log out, or drop the connection when the server does not answer."""
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


async def _quietly_quit(client: aiosmtplib.SMTP) -> None:
    try:
        if client.is_connected:
            await client.quit()
    except Exception:
        client.close()
