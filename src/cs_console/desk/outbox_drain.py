"""The outbox's sender: drains due items through SMTP (or into a folder), then saves Sent copies.

See :mod:`cs_console.desk.outbox` for the life of an item. Each state change
is its own short transaction: an item is marked ``sending`` (attempt counted,
lease extended) before the SMTP transaction, ``sent`` after the server's 250,
``queued`` again with a backoff after a 4xx or a connection failure, and
``failed`` after a 5xx. One sender drains at a time, holding a
:class:`~cs_console.store.models.Lease`.

The database calls block: a long-running caller runs :meth:`OutboxDrainer.drain`
in a thread worker with its own event loop (as the console does).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import col, select

from cs_console.config import AccountSettings, Settings
from cs_console.desk.leases import holder_gone
from cs_console.errors import CsConsoleError
from cs_console.i18n import _, ngettext
from cs_console.mail.endpoints import imap_endpoint, smtp_endpoint
from cs_console.mail.sent_copy import append_sent_copies
from cs_console.mail.smtp_send import PermanentSendError, SmtpSender, TemporarySendError
from cs_console.secrets import get_password
from cs_console.store.engine import session_scope
from cs_console.store.models import Lease, OutboxItem, OutboxStatus, TicketEvent
from cs_console.textsafe import safe_filename

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "LEASE_NAME",
    "LEASE_TTL",
    "MAX_ATTEMPTS",
    "DrainReport",
    "OutboxDrainer",
    "PasswordFn",
    "backoff_delay",
    "drain_outbox",
    "write_eml",
]

LEASE_NAME = "outbox-sender"
LEASE_TTL = timedelta(seconds=120)
#: First retry after about this long; doubled each attempt, up to :data:`BACKOFF_CAP`.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
#: After this many temporary failures (about a day and a half) an item is marked failed.
MAX_ATTEMPTS = 40
#: How long to wait before trying again to save sent copies after the IMAP server failed.
SENT_COPY_RETRY = timedelta(minutes=5)

PasswordFn = Callable[[AccountSettings, str], str | None]


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before retry number ``attempts``: exponential, capped, with jitter.

    The delay is drawn between half and all of ``BASE * 2**(attempts-1)`` (capped),
    so many items deferred at once do not all come back at the same second.
    """
    rng = rng or random.Random()
    exponent = max(0, min(attempts - 1, 20))
    ceiling = min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)
    return ceiling * rng.uniform(0.5, 1.0)


@dataclass
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    copies_saved: int = 0
    unreachable: list[str] = field(default_factory=list)  # accounts whose server was unreachable
    errors: list[str] = field(default_factory=list)  # one line per problem, for the user
    busy: bool = False  # another sender is draining; this pass did nothing
    store_error: str | None = None  # the database refused (locked, down): the pass stopped

    @property
    def ok(self) -> bool:
        """False when an item failed for good, a server was unreachable or the database failed."""
        return self.failed == 0 and not self.unreachable and self.store_error is None

    def summary(self, *, pending: int | None = None, failed_total: int | None = None) -> str:
        """One line for the user, in the interface's language: what was sent, what waits."""
        if self.busy:
            return _("another sender is draining the outbox; nothing done")
        parts = [
            _("sent {count}").format(count=self.sent),
            _("retrying {count}").format(count=self.retrying),
            _("failed {count}").format(count=self.failed),
        ]
        if self.copies_saved:
            parts.append(
                ngettext(
                    "{count} sent copy saved", "{count} sent copies saved", self.copies_saved
                ).format(count=self.copies_saved)
            )
        if self.unreachable:
            parts.append(_("unreachable: {accounts}").format(accounts=", ".join(self.unreachable)))
        line = ", ".join(parts)
        if pending is not None:
            line += "; " + _("{count} waiting").format(count=pending)
            if failed_total:
                line += ", " + _("{count} failed in the outbox").format(count=failed_total)
        return line


def _default_password(account: AccountSettings, _purpose: str) -> str | None:
    if not account.has_secret_source:
        return None
    return get_password(account)


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _LeaseLost(Exception):
    """Another sender holds the outbox now; this one must stop."""


class OutboxDrainer:
    """Drains the outbox; keep one for a long-running worker (it remembers IMAP trouble).

    Args:
        settings: Accounts and outbox settings.
        engine: The database.
        now_fn: The clock (tests pass a fixed or stepped one).
        rng: Randomness for the backoff jitter.
        password_fn: ``(account, "smtp"|"imap") -> password or None``; default the
            account's secret source, None (no login) when it has none.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        now_fn: Callable[[], datetime],
        rng: random.Random | None = None,
        password_fn: PasswordFn | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.now_fn = now_fn
        self.rng = rng or random.Random()
        self.password_fn = password_fn or _default_password
        self.holder = _holder_id()
        self._copy_retry_at: dict[str, datetime] = {}

    # -- lease

    def _acquire(self) -> bool:
        now = self.now_fn()
        try:
            with session_scope(self.engine) as session:
                lease = session.get(Lease, LEASE_NAME)
                if lease is None:
                    session.add(
                        Lease(name=LEASE_NAME, holder=self.holder, expires_at=now + LEASE_TTL)
                    )
                    return True
                if (
                    lease.holder != self.holder
                    and lease.expires_at > now
                    and not holder_gone(lease.holder)
                ):
                    return False
                result = session.exec(
                    update(Lease)
                    .where(col(Lease.name) == LEASE_NAME)
                    .where(col(Lease.holder) == lease.holder)
                    .where(col(Lease.expires_at) == lease.expires_at)
                    .values(holder=self.holder, expires_at=now + LEASE_TTL)
                )
                return bool(result.rowcount == 1)
        except IntegrityError:
            return False

    def _release(self) -> None:
        with session_scope(self.engine) as session:
            lease = session.get(Lease, LEASE_NAME)
            if lease is not None and lease.holder == self.holder:
                session.delete(lease)

    # -- the pass

    async def drain(self, *, limit: int = 200) -> DrainReport:
        """Send what is due (at most ``limit`` items), then save pending sent copies."""
        report = DrainReport()
        try:
            if not self._acquire():
                report.busy = True
                return report
        except OperationalError as exc:
            return self._store_failed(report, exc)
        try:
            due = self._due_items(limit)
            by_account: dict[str, list[int]] = {}
            for item_id, account in due:
                by_account.setdefault(account, []).append(item_id)
            try:
                for account_name, ids in by_account.items():
                    await self._drain_account(account_name, ids, report)
            except _LeaseLost:
                report.errors.append(_("another sender took over the outbox; stopped"))
                return report
            await self._save_sent_copies(report)
        except OperationalError as exc:
            # Every state change is its own transaction: what was committed stands, the
            # rest is still queued (or ``sending``, which the next pass resends).
            self._store_failed(report, exc)
        finally:
            try:
                self._release()
            except OperationalError:
                pass  # the lease expires on its own (LEASE_TTL)
        return report

    @staticmethod
    def _store_failed(report: DrainReport, exc: OperationalError) -> DrainReport:
        reason = str(getattr(exc, "orig", exc) or exc).splitlines()[0] if str(exc) else "error"
        report.store_error = reason
        report.errors.append(
            _(
                "the database refused the outbox ({reason}); nothing was lost, "
                "the next pass sends it"
            ).format(reason=reason)
        )
        return report

    def _due_items(self, limit: int) -> list[tuple[int, str]]:
        now = self.now_fn()
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(OutboxItem.id, OutboxItem.account)
                .where(
                    (col(OutboxItem.status) == OutboxStatus.SENDING.value)
                    | (
                        (col(OutboxItem.status) == OutboxStatus.QUEUED.value)
                        & (col(OutboxItem.not_before) <= now)
                    )
                )
                .order_by(col(OutboxItem.not_before), col(OutboxItem.id))
                .limit(limit)
            ).all()
        return [(int(i or 0), str(a)) for i, a in rows]

    def _account(self, name: str) -> AccountSettings | None:
        for account in self.settings.accounts:
            if account.name == name:
                return account
        return None

    async def _drain_account(self, name: str, ids: list[int], report: DrainReport) -> None:
        folder = self.settings.outbox.deliver_to_folder
        account = self._account(name)
        if account is None and folder is None:
            # A renamed or removed account: keep the mail queued, untouched, and say so.
            report.unreachable.append(name)
            report.errors.append(
                ngettext(
                    "{count} message waits for account {account}, which is not in the config",
                    "{count} messages wait for account {account}, which is not in the config",
                    len(ids),
                ).format(count=len(ids), account=repr(name))
            )
            return
        if folder is not None:
            for item_id in ids:
                item = self._claim(item_id, report)
                if item is None:
                    continue
                try:
                    write_eml(folder, item.message_id, item.raw)
                except OSError as exc:
                    error = _("cannot write to {folder}: {reason}").format(
                        folder=folder, reason=exc.strerror or exc
                    )
                    self._defer(item_id, error, report)
                    continue
                self._mark_sent(item_id, "written to folder", copy_saved=False)
                report.sent += 1
            return
        assert account is not None

        try:
            password = self.password_fn(account, "smtp")
        except CsConsoleError as exc:
            self._defer_all(ids, exc.message, report)
            report.unreachable.append(name)
            return
        sender = SmtpSender(smtp_endpoint(account), password)
        try:
            try:
                await sender.connect()
            except TemporarySendError as exc:
                self._defer_all(ids, exc.message, report)
                report.unreachable.append(name)
                return
            for item_id in ids:
                item = self._claim(item_id, report)
                if item is None:
                    continue
                recipients = _recipients(item.rcpt_to)
                if not recipients:
                    self._fail(item_id, "the message has no usable recipient", report)
                    continue
                try:
                    answer = await sender.send(
                        mail_from=item.mail_from, rcpt_to=recipients, raw=item.raw
                    )
                except PermanentSendError as exc:
                    self._fail(item_id, exc.message, report)
                    continue
                except TemporarySendError as exc:
                    self._defer(item_id, exc.message, report, attempts=item.attempts)
                    continue
                self._mark_sent(item_id, answer)
                report.sent += 1
        finally:
            await sender.close()

    # -- state changes, each its own short transaction

    def _claim(self, item_id: int, report: DrainReport) -> OutboxItem | None:
        """Mark ``sending`` and count the attempt, committed before any byte goes out.

        The same transaction extends this sender's lease; if another sender took
        it over (this one stalled past the lease), the drain stops here. An item
        found ``sending`` after :data:`MAX_ATTEMPTS` tries (a message the sender
        keeps dying on) is marked failed instead of being tried forever.
        """
        now = self.now_fn()
        with session_scope(self.engine) as session:
            renewed = session.exec(
                update(Lease)
                .where(col(Lease.name) == LEASE_NAME)
                .where(col(Lease.holder) == self.holder)
                .values(expires_at=now + LEASE_TTL)
            )
            if renewed.rowcount != 1:
                raise _LeaseLost
            item = session.get(OutboxItem, item_id)
            if item is None:
                return None
            due = item.status == OutboxStatus.SENDING.value or (
                item.status == OutboxStatus.QUEUED.value and item.not_before <= now
            )
            if not due:
                return None
            if item.status == OutboxStatus.SENDING.value and item.attempts >= MAX_ATTEMPTS:
                error = _("the sender stopped {count} times while sending this message").format(
                    count=item.attempts
                )
                item.status = OutboxStatus.FAILED.value
                item.last_error = error
                session.add(item)
                report.failed += 1
                report.errors.append(
                    _("outbox item {number}: {error}").format(number=item_id, error=error)
                )
                return None
            result = session.exec(
                update(OutboxItem)
                .where(col(OutboxItem.id) == item_id)
                .where(col(OutboxItem.status) == item.status)
                .where(col(OutboxItem.attempts) == item.attempts)
                .values(status=OutboxStatus.SENDING.value, attempts=item.attempts + 1)
            )
            if result.rowcount != 1:
                return None
            session.refresh(item)
            session.expunge(item)
            return item

    def _mark_sent(self, item_id: int, answer: str, *, copy_saved: bool = False) -> None:
        with session_scope(self.engine) as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            item.status = OutboxStatus.SENT.value
            item.sent_at = self.now_fn()
            item.last_error = answer if "refused" in answer else None
            item.sent_copy_saved = copy_saved
            session.add(item)

    def _fail(self, item_id: int, error: str, report: DrainReport) -> None:
        now = self.now_fn()
        with session_scope(self.engine) as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            item.status = OutboxStatus.FAILED.value
            item.last_error = error
            session.add(item)
            if item.ticket_id is not None:
                session.add(
                    TicketEvent(
                        ticket_id=item.ticket_id,
                        at=now,
                        agent_id=item.agent_id,
                        kind="send_failed",
                        detail=error,
                    )
                )
        report.failed += 1
        report.errors.append(_("outbox item {number}: {error}").format(number=item_id, error=error))

    def _defer(
        self, item_id: int, error: str, report: DrainReport, *, attempts: int | None = None
    ) -> None:
        now = self.now_fn()
        with session_scope(self.engine) as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            tries = attempts if attempts is not None else item.attempts
            if tries >= MAX_ATTEMPTS:
                give_up = _("gave up after {count} attempts; last answer: {error}").format(
                    count=tries, error=error
                )
                item.status = OutboxStatus.FAILED.value
                item.last_error = give_up
                session.add(item)
                report.failed += 1
                report.errors.append(
                    _("outbox item {number}: {error}").format(number=item_id, error=give_up)
                )
                return
            item.status = OutboxStatus.QUEUED.value
            item.last_error = error
            item.not_before = now + backoff_delay(max(tries, 1), rng=self.rng)
            session.add(item)
        report.retrying += 1
        if error not in report.errors:
            report.errors.append(error)

    def _defer_all(self, ids: list[int], error: str, report: DrainReport) -> None:
        """The server is unreachable: every due item of the account waits, its attempt counted."""
        for item_id in ids:
            item = self._claim(item_id, report)
            if item is not None:
                self._defer(item_id, error, report, attempts=item.attempts)

    # -- sent copies

    async def _save_sent_copies(self, report: DrainReport) -> None:
        if self.settings.outbox.deliver_to_folder is not None:
            return
        now = self.now_fn()
        for account in self.settings.accounts:
            retry_at = self._copy_retry_at.get(account.name)
            if retry_at is not None and now < retry_at:
                continue
            with session_scope(self.engine) as session:
                items = session.exec(
                    select(OutboxItem)
                    .where(OutboxItem.account == account.name)
                    .where(OutboxItem.status == OutboxStatus.SENT.value)
                    .where(col(OutboxItem.sent_copy_saved).is_(False))
                    .order_by(col(OutboxItem.id))
                    .limit(100)
                ).all()
            if not items:
                continue
            try:
                password = self.password_fn(account, "imap")
            except CsConsoleError as exc:
                self._copy_retry_at[account.name] = now + SENT_COPY_RETRY
                report.errors.append(
                    _("sent copies of {account}: {error}").format(
                        account=account.name, error=exc.message
                    )
                )
                continue
            if password is None:
                continue  # no secret source: no IMAP login, no copies
            copies = [(item.raw, item.sent_at or now) for item in items]
            result = await asyncio.to_thread(
                append_sent_copies,
                imap_endpoint(account),
                password,
                copies,
                folder=account.sent_folder,
            )
            saved_ids = [item.id for item in items[: result.saved]]
            if saved_ids:
                with session_scope(self.engine) as session:
                    session.exec(
                        update(OutboxItem)
                        .where(col(OutboxItem.id).in_(saved_ids))
                        .values(sent_copy_saved=True)
                    )
                report.copies_saved += len(saved_ids)
            if result.error:
                self._copy_retry_at[account.name] = now + SENT_COPY_RETRY
                report.errors.append(
                    _("sent copies of {account}: {error}").format(
                        account=account.name, error=result.error
                    )
                )
            else:
                self._copy_retry_at.pop(account.name, None)


async def drain_outbox(
    settings: Settings,
    engine: Engine,
    *,
    now_fn: Callable[[], datetime],
    limit: int = 200,
    rng: random.Random | None = None,
    password_fn: PasswordFn | None = None,
) -> DrainReport:
    """One pass over the outbox (the console's worker and ``cs-console send`` call this)."""
    drainer = OutboxDrainer(settings, engine, now_fn=now_fn, rng=rng, password_fn=password_fn)
    return await drainer.drain(limit=limit)


def _recipients(rcpt_to: str) -> list[str]:
    try:
        value = json.loads(rcpt_to)
    except ValueError:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    # A line break or NUL in an envelope address could smuggle an SMTP command: never usable.
    return [
        str(v)
        for v in value
        if isinstance(v, str) and v.strip() and not any(c in v for c in "\r\n\x00")
    ]


def write_eml(folder: Path, message_id: str, raw: bytes) -> Path:
    """Write ``<message-id>.eml`` into ``folder`` atomically (temporary file, fsync, rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_filename(message_id.strip().strip("<>"), fallback="message") + ".eml"
    target = folder / name
    temporary = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return target
