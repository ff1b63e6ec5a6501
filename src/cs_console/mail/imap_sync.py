"""The IMAP side of syncing: folder state, new UIDs, raw fetches, flags, IDLE.

Everything here talks to the server and nothing else (no database): the desk's
sync (:mod:`cs_console.desk.sync`) decides what to fetch and records what it
got. Messages are fetched with ``BODY.PEEK[]`` so reading them never marks them
read; marking seen or moving is a separate, explicit step done after the
ingest has committed.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from cs_console.errors import ImapError
from cs_console.i18n import _

__all__ = [
    "FetchedMessage",
    "FolderStatus",
    "ImapFolder",
    "chunks",
    "detect_sent_folder",
    "folder_status",
    "parse_uid_set",
    "uid_set",
    "wait_for_news",
]

IMAP_ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError)


@dataclass(frozen=True)
class FolderStatus:
    """What ``STATUS`` (or ``SELECT``) says about a folder."""

    uidvalidity: int
    uidnext: int
    highest_modseq: int | None
    messages: int | None = None


@dataclass(frozen=True)
class FetchedMessage:
    """One message as the server holds it."""

    uid: int
    raw: bytes
    internal_date: datetime | None


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as a compact IMAP sequence set: ``[1, 2, 3, 7]`` becomes ``"1:3,7"``."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_uid_set(text: str | None) -> list[int]:
    """The UIDs of a set written by :func:`uid_set` (empty for None or ``""``)."""
    uids: list[int] = []
    for part in (text or "").split(","):
        if not part:
            continue
        first, _sep, last = part.partition(":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


def has_condstore(client: IMAPClient) -> bool:
    caps = client.capabilities()
    return b"CONDSTORE" in caps or b"QRESYNC" in caps


def folder_status(client: IMAPClient, folder: str) -> FolderStatus:
    """One ``STATUS`` round trip: UIDVALIDITY, UIDNEXT and (with CONDSTORE) HIGHESTMODSEQ.

    Raises:
        ImapError: the folder does not exist or the command failed.
    """
    what = [b"UIDVALIDITY", b"UIDNEXT", b"MESSAGES"]
    if has_condstore(client):
        what.append(b"HIGHESTMODSEQ")
    try:
        status = client.folder_status(folder, what)
    except IMAP_ERRORS as exc:
        raise ImapError(
            _("cannot read the status of folder {folder}: {reason}").format(
                folder=repr(folder), reason=_text(exc)
            )
        ) from exc
    return FolderStatus(
        uidvalidity=int(status[b"UIDVALIDITY"]),
        uidnext=int(status[b"UIDNEXT"]),
        highest_modseq=_maybe_int(status.get(b"HIGHESTMODSEQ")),
        messages=_maybe_int(status.get(b"MESSAGES")),
    )


def _plain_zone(moment: datetime) -> datetime:
    """``moment`` with a :class:`datetime.timezone`: imapclient's own offsets do not unpickle."""
    offset = moment.utcoffset()
    return moment if offset is None else moment.replace(tzinfo=timezone(offset))


class ImapFolder:
    """A selected folder of an open connection: search, fetch, flag and move by UID."""

    def __init__(self, client: IMAPClient, folder: str, *, readonly: bool = False) -> None:
        """Select ``folder``; ``readonly`` (``EXAMINE``) for a connection that only fetches."""
        self.client = client
        self.folder = folder
        client.normalise_times = False  # aware INTERNALDATEs
        try:
            info = client.select_folder(folder, readonly=readonly)
        except IMAP_ERRORS as exc:
            raise ImapError(
                _("cannot open folder {folder}: {reason}").format(
                    folder=repr(folder), reason=_text(exc)
                )
            ) from exc
        self.status = FolderStatus(
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info.get(b"UIDNEXT", 0) or 0),
            highest_modseq=_maybe_int(info.get(b"HIGHESTMODSEQ")),
            messages=_maybe_int(info.get(b"EXISTS")),
        )

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending.

        ``UID n:*`` always matches the last message even when its UID is below
        ``n``, so the answer is filtered.
        """
        try:
            found = self.client.search(["UID", f"{last_uid + 1}:*"])
        except IMAP_ERRORS as exc:
            raise ImapError(
                _("cannot search folder {folder}: {reason}").format(
                    folder=repr(self.folder), reason=_text(exc)
                )
            ) from exc
        return sorted(int(uid) for uid in found if int(uid) > last_uid)

    def fetch(self, uids: Sequence[int]) -> list[FetchedMessage]:
        """Raw bytes and INTERNALDATE of ``uids`` (``BODY.PEEK[]``: no \\Seen flag set).

        A UID that vanished meanwhile (expunged) is simply absent from the answer.
        """
        if not uids:
            return []
        try:
            answer = self.client.fetch(list(uids), [b"BODY.PEEK[]", b"INTERNALDATE"])
        except IMAP_ERRORS as exc:
            raise ImapError(
                _("cannot fetch from folder {folder}: {reason}").format(
                    folder=repr(self.folder), reason=_text(exc)
                )
            ) from exc
        fetched = []
        for uid in sorted(answer):
            data = answer[uid]
            raw = data.get(b"BODY[]")
            if raw is None:
                continue
            internal = data.get(b"INTERNALDATE")
            fetched.append(
                FetchedMessage(
                    uid=int(uid),
                    raw=bytes(raw),
                    internal_date=_plain_zone(internal) if isinstance(internal, datetime) else None,
                )
            )
        return fetched

    def mark_seen(self, uids: Sequence[int]) -> None:
        if not uids:
            return
        try:
            self.client.add_flags(list(uids), [b"\\Seen"], silent=True)
        except IMAP_ERRORS as exc:
            raise ImapError(
                _("cannot mark mail read in {folder}: {reason}").format(
                    folder=repr(self.folder), reason=_text(exc)
                )
            ) from exc

    def move(self, uids: Sequence[int], destination: str) -> None:
        """MOVE where the server has it; otherwise COPY, flag deleted and expunge those UIDs."""
        if not uids:
            return
        try:
            caps = self.client.capabilities()
            if b"MOVE" in caps:
                self.client.move(list(uids), destination)
                return
            self.client.copy(list(uids), destination)
            self.client.delete_messages(list(uids), silent=True)
            if b"UIDPLUS" in caps:
                self.client.uid_expunge(list(uids))
            else:
                self.client.expunge()
        except IMAP_ERRORS as exc:
            raise ImapError(
                _("cannot move mail from {folder} to {destination}: {reason}").format(
                    folder=repr(self.folder), destination=repr(destination), reason=_text(exc)
                )
            ) from exc


def detect_sent_folder(client: IMAPClient) -> str | None:
    """The folder flagged ``\\Sent`` (RFC 6154 SPECIAL-USE), or a folder commonly named so."""
    try:
        found = client.find_special_folder(b"\\Sent")
    except IMAP_ERRORS as exc:
        raise ImapError(_("cannot list folders: {reason}").format(reason=_text(exc))) from exc
    return str(found) if found else None


def wait_for_news(
    client: IMAPClient,
    folder: str,
    *,
    timeout: float,
    tick: float = 1.0,
    should_stop: Callable[[], bool] | None = None,
) -> bool:
    """IDLE on ``folder`` up to ``timeout`` seconds; True when the server announced new mail.

    ``should_stop`` (a callable returning bool) is checked every ``tick``
    seconds so a watcher can be stopped promptly. Returns False at once when
    the server has no IDLE (the caller then polls).

    Raises:
        ImapError: the connection failed while waiting.
    """
    if b"IDLE" not in client.capabilities():
        return False
    try:
        client.select_folder(folder, readonly=True)
        client.idle()
        try:
            waited = 0.0
            while waited < timeout:
                if should_stop is not None and should_stop():
                    return False
                step = min(tick, timeout - waited)
                responses = client.idle_check(timeout=step)
                waited += step
                for response in responses:
                    if len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT"):
                        return True
            return False
        finally:
            client.idle_done()
    except IMAP_ERRORS as exc:
        raise ImapError(
            _("the connection dropped while waiting for mail: {reason}").format(reason=_text(exc))
        ) from exc


def _maybe_int(value: object) -> int | None:
    if value is None:
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text
