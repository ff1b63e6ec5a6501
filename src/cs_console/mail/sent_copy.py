"""Keep a copy of what was sent in the account's Sent folder, as mail clients do.

The folder is the one configured (``sent_folder``) or the one the server marks
``\\Sent`` (RFC 6154 SPECIAL-USE). The copy is flagged ``\\Seen``. imapclient is
synchronous: callers in an event loop run these in a thread.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from cs_console.errors import ImapError
from cs_console.i18n import _
from cs_console.mail.connect import Endpoint, imap_connect

__all__ = ["SentCopyResult", "append_sent_copies", "find_sent_folder"]


@dataclass(frozen=True)
class SentCopyResult:
    """How many copies were saved, and the error that stopped the rest (None: all saved)."""

    saved: int
    error: str | None


_SENT = b"\\Sent"
_FALLBACK_NAMES = ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent", "Enviados")


def find_sent_folder(client: IMAPClient, configured: str | None = None) -> str:
    """The folder for sent copies.

    Raises:
        ImapError: nothing is configured and the server marks no folder ``\\Sent``
            and has none of the usual names.
    """
    if configured:
        return configured
    try:
        folders = client.list_folders()
    except (IMAPClientError, OSError) as exc:
        raise ImapError(_("cannot list the folders: {reason}").format(reason=exc)) from exc
    names: list[str] = []
    for flags, _delimiter, name in folders:
        text = name.decode() if isinstance(name, bytes) else str(name)
        if _SENT in flags:
            return text
        names.append(text)
    for candidate in _FALLBACK_NAMES:
        if candidate in names:
            return candidate
    raise ImapError(
        _("the server marks no folder as Sent; set {setting} in the account's config").format(
            setting="sent_folder = 'NAME'"
        )
    )


def append_sent_copies(
    endpoint: Endpoint,
    password: str,
    messages: Iterable[tuple[bytes, datetime]],
    *,
    folder: str | None = None,
) -> SentCopyResult:
    """APPEND each ``(raw, date)`` to the Sent folder, flagged ``\\Seen``; return how many.

    Stops at the first failure: the result says how many of ``messages`` (in
    order) were saved, and why it stopped. Never raises for server trouble.
    """
    done = 0
    try:
        client = imap_connect(endpoint, password)
    except ImapError as exc:
        return SentCopyResult(saved=0, error=exc.message)
    try:
        target = find_sent_folder(client, folder)
        for raw, when in messages:
            try:
                client.append(target, raw, flags=(b"\\Seen",), msg_time=when)
            except (IMAPClientError, OSError, ssl.SSLError) as exc:
                raise ImapError(
                    _("cannot save the sent copy in {folder}: {reason}").format(
                        folder=repr(target), reason=exc
                    )
                ) from exc
            done += 1
    except ImapError as exc:
        return SentCopyResult(saved=done, error=exc.message)
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    return SentCopyResult(saved=done, error=None)
