"""Hand one raw message to an SMTP server, and say whether a failure is worth retrying.

An SMTP answer in the 4xx range, a refused or dropped connection, or a timeout
is *temporary*: the outbox keeps the message and tries again later. A 5xx
answer is *permanent*: retrying would only repeat it, so the item is marked
failed with the server's own words for the agent to read.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib

from cs_console.errors import SmtpError
from cs_console.i18n import N_, _
from cs_console.mail.connect import DEFAULT_TIMEOUT, Endpoint, smtp_connect

__all__ = [
    "ACCOUNT_CODES",
    "PermanentSendError",
    "SmtpSender",
    "TemporarySendError",
    "classify_code",
    "send_raw",
]


class TemporarySendError(SmtpError):
    """The server could not take the message now (4xx, unreachable, dropped): retry later."""

    title = N_("Sending delayed")

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class PermanentSendError(SmtpError):
    """The server refused the message (5xx): retrying would not help."""

    title = N_("Sending failed")

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


#: 5xx answers about the account's login, not the message: fixing the password
#: fixes them, so the message waits instead of failing.
ACCOUNT_CODES = frozenset({530, 534, 535, 538})


def classify_code(code: int | None) -> type[TemporarySendError] | type[PermanentSendError]:
    """5xx is permanent (except login trouble); anything else (4xx, no code) is temporary."""
    if code is not None and 500 <= code < 600 and code not in ACCOUNT_CODES:
        return PermanentSendError
    return TemporarySendError


def _answer(code: int | None, text: str) -> str:
    text = " ".join(str(text).split())
    return f"{code} {text}".strip() if code else text


async def send_raw(
    client: aiosmtplib.SMTP, *, mail_from: str, rcpt_to: Sequence[str], raw: bytes
) -> str:
    """Send ``raw`` over an open connection; return the server's final answer.

    Recipients the server refused while accepting others are reported in the
    returned text; the message counts as accepted.

    Raises:
        TemporarySendError: a 4xx answer or a lost connection.
        PermanentSendError: a 5xx answer (the text is the server's).
    """
    try:
        refused, response = await client.sendmail(mail_from, list(rcpt_to), raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        answers = "; ".join(f"{r.recipient}: {_answer(r.code, r.message)}" for r in exc.recipients)
        permanent = all(classify_code(c) is PermanentSendError for c in codes)
        error = PermanentSendError if permanent else TemporarySendError
        raise error(
            _("every recipient was refused: {answers}").format(answers=answers),
            code=max(codes, default=None),
        ) from exc
    except aiosmtplib.SMTPServerDisconnected as exc:
        raise TemporarySendError(
            _("the server closed the connection: {reason}").format(reason=exc)
        ) from exc
    except aiosmtplib.SMTPTimeoutError as exc:
        raise TemporarySendError(
            _("the server did not answer in time: {reason}").format(reason=exc)
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        error_class = classify_code(exc.code)
        raise error_class(_answer(exc.code, exc.message), code=exc.code) from exc
    except aiosmtplib.SMTPException as exc:
        raise TemporarySendError(_("SMTP error: {reason}").format(reason=exc)) from exc
    except (OSError, ssl.SSLError) as exc:
        raise TemporarySendError(_("the connection failed: {reason}").format(reason=exc)) from exc
    answer = " ".join(str(response).split()) or "accepted"
    if refused:
        parts = "; ".join(f"{rcpt}: {_answer(r.code, r.message)}" for rcpt, r in refused.items())
        answer = f"{answer} (refused: {parts})"
    return answer


@dataclass
class SmtpSender:
    """One account's SMTP connection, opened on first use and reopened after a drop."""

    endpoint: Endpoint
    password: str | None
    timeout: float = DEFAULT_TIMEOUT
    _client: aiosmtplib.SMTP | None = None

    async def send(self, *, mail_from: str, rcpt_to: Sequence[str], raw: bytes) -> str:
        """Send one message, connecting first when needed.

        Raises:
            TemporarySendError: unreachable, 4xx, or the connection dropped.
            PermanentSendError: a 5xx answer.
        """
        client = await self._connected()
        try:
            return await send_raw(client, mail_from=mail_from, rcpt_to=rcpt_to, raw=raw)
        except (TemporarySendError, PermanentSendError):
            await self._reset_after_error()
            raise

    async def connect(self) -> None:
        """Open the connection now (to find out early that the server is unreachable).

        Raises:
            TemporarySendError: the server cannot be reached or refused the login.
        """
        await self._connected()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except Exception:
            client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self._client = None
        try:
            client = await smtp_connect(self.endpoint, self.password, timeout=self.timeout)
        except SmtpError as exc:
            raise TemporarySendError(exc.message) from exc
        if not client.esmtp_extensions:
            # Not greeted yet (plain or implicit-TLS connection): EHLO, then log in
            # here, or a server that requires AUTH would refuse every message.
            await self._greet_and_login(client)
        self._client = client
        return client

    async def _greet_and_login(self, client: aiosmtplib.SMTP) -> None:
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        try:
            await client.ehlo()
            if self.password is not None and client.supports_extension("auth"):
                await client.login(self.endpoint.username, self.password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            client.close()
            raise TemporarySendError(
                _("{server} refused the login of {user} ({answer}).").format(
                    server=where,
                    user=repr(self.endpoint.username),
                    answer=_answer(exc.code, exc.message),
                )
                + " "
                + _("Check the password (many providers need an app password)."),
                code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            client.close()
            raise TemporarySendError(
                _("SMTP error with {server}: {reason}").format(server=where, reason=exc)
            ) from exc

    async def _reset_after_error(self) -> None:
        """After a refusal the session may be mid-transaction; RSET, or drop it if that fails."""
        client = self._client
        if client is None or not client.is_connected:
            self._client = None
            return
        try:
            await client.rset()
        except Exception:
            client.close()
            self._client = None
