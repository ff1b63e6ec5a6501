"""Syncing an account: per folder, new mail in batches, each batch committed with its state.

For each folder of an account :func:`sync_account`:

1. asks ``STATUS`` (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ); when nothing is new
   that single round trip is the whole poll;
2. on a UIDVALIDITY change starts over from UID 1 under the new value: the
   messages already stored are recognised by Message-ID and content hash, so a
   resync neither duplicates nor misses one;
3. fetches the UIDs past the stored ``last_uid`` in batches and ingests each
   batch in one transaction that also moves ``last_uid`` past it. A ``kill -9``
   at any moment loses at most an uncommitted batch, which the next run
   fetches again. One message that fails is kept raw on its own ticket with a
   warning (:func:`cs_console.desk.ingest.quarantine_raw`) inside a savepoint,
   and the batch goes on. A large sync parses the next batch in worker
   processes while this one is written (:mod:`cs_console.desk.sync_parse`),
   and writes a batch's rows with a few bulk INSERTs (:mod:`cs_console.desk.bulk`);
4. marks the batch seen or moves it (``after_ingest``) only after the commit,
   recording in the batch's transaction what is still owed to the server so a
   sync stopped in between leaves it to the next one.

:mod:`cs_console.desk.sync_watch` keeps accounts synced with this.

A file lock per account (``<data_dir>/locks/sync-<account>.lock``) keeps two
runs on one machine from syncing the same account at once; the account's
lease in the database (:class:`cs_console.desk.sync_lease.AccountLease`) does
the same for processes on several machines sharing one database: it is
renewed after each batch and during IDLE waits, released on a clean exit, and
taken over by another process once its holder stops renewing it. A process
without the lease skips the account (``report.lease_holder``). The unique
constraint on (account, folder, uidvalidity, uid) is the last guard.
Failures are recorded on the folder's state (``last_error``,
``consecutive_failures``) and in the returned report.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from filelock import FileLock, Timeout
from imapclient import IMAPClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from cs_console.clock import utcnow
from cs_console.config import AccountSettings, Settings
from cs_console.desk.batch_sla import evaluate_new_tickets
from cs_console.desk.ingest import (
    IngestConfig,
    SourceRef,
    ingest_raw,
    quarantine_raw,
    written_at,
)
from cs_console.desk.ingest_batch import BatchLookups, flush_batch
from cs_console.desk.sync_lease import DEFAULT_LEASE, AccountLease
from cs_console.desk.sync_parse import (
    BatchParser,
    FetchedBatch,
    MailboxRef,
    PrepareContext,
    Prepared,
)
from cs_console.errors import CsConsoleError, ImapError
from cs_console.i18n import _
from cs_console.mail.connect import as_credential, imap_connect, logout_quietly
from cs_console.mail.endpoints import imap_endpoint
from cs_console.mail.imap_sync import (
    IMAP_ERRORS,
    FetchedMessage,
    FolderStatus,
    ImapFolder,
    chunks,
    detect_sent_folder,
    folder_status,
    parse_uid_set,
    uid_set,
)
from cs_console.secrets import get_password
from cs_console.store.engine import durable
from cs_console.store.models import FolderState, Message, Ticket
from cs_console.textsafe import one_line

__all__ = [
    "DEFAULT_BATCH",
    "FolderReport",
    "SyncProgress",
    "SyncReport",
    "account_lock",
    "sync_account",
    "sync_folder",
]

log = logging.getLogger(__name__)
DEFAULT_BATCH = 500
FETCH_AHEAD = 2  # batches being fetched and parsed while one is written


@dataclass(frozen=True)
class SyncProgress:
    """Progress of one folder's sync: ``done`` of ``total`` new messages handled."""

    account: str
    folder: str
    done: int
    total: int


ProgressFn = Callable[[SyncProgress], None]


@dataclass
class FolderReport:
    """What one folder's sync did."""

    folder: str
    fetched: int = 0
    stored: int = 0
    new_tickets: int = 0
    duplicates: int = 0
    own: int = 0
    quarantined: int = 0
    acknowledged: int = 0
    no_news: bool = False
    uidvalidity_reset: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    """What one account's sync did; ``ok`` is False when any folder failed."""

    account: str
    folders: list[FolderReport] = field(default_factory=list)
    locked: bool = False  # another run holds the account's lock: nothing done
    lease_holder: str | None = None  # another process syncs this account: nothing done
    error: str | None = None

    @property
    def skipped(self) -> bool:
        """Nothing was done because another run or process syncs this account."""
        return self.locked or self.lease_holder is not None

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.error is None for f in self.folders)

    @property
    def errors(self) -> list[str]:
        found = [self.error] if self.error else []
        found += [f"{f.folder}: {f.error}" for f in self.folders if f.error]
        return found

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.folders)


def account_lock(settings: Settings, account: str) -> FileLock:
    """The single-machine lock of an account's sync."""
    folder = settings.data_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return FileLock(str(folder / f"sync-{account}.lock"))


def sync_account(
    settings: Settings,
    engine: Engine,
    account: AccountSettings,
    *,
    now_fn: Callable[[], datetime] = utcnow,
    progress: ProgressFn | None = None,
    batch_size: int = DEFAULT_BATCH,
    parse_workers: int | None = None,
    lock_timeout: float = 0.0,
    client: IMAPClient | None = None,
    config: IngestConfig | None = None,
    lease: AccountLease | None = None,
    lease_ttl: timedelta = DEFAULT_LEASE,
    lease_clock: Callable[[], datetime] = utcnow,
) -> SyncReport:
    """Pull new mail from every folder of ``account`` once.

    Args:
        now_fn: The clock (tests pass a fixed one).
        progress: Called after each batch (and once before the first).
        lock_timeout: Seconds to wait for another run holding the account's
            lock; 0 returns at once with ``report.locked``.
        client: An open, logged-in connection to reuse (the watcher's);
            by default one is opened and closed here.
        lease: The account's lease kept by a longer-running caller (the
            watcher), renewed here and left held; by default one is taken
            (``lease_ttl``, ``lease_clock``) and released at the end.
        parse_workers: Processes parsing a large sync's batches while the
            previous one is written (:mod:`cs_console.desk.sync_parse`);
            None picks one per core (at most two), 0 or 1 parses inline.

    Never raises for mail or server trouble: the report says what failed.
    """
    report = SyncReport(account=account.name)
    lock = account_lock(settings, account.name)
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout:
        report.locked = True
        return report
    own_lease = lease is None
    if lease is None:
        lease = AccountLease(engine, account.name, ttl=lease_ttl, clock=lease_clock)
    try:
        try:
            if not lease.acquire():
                report.lease_holder = lease_holder_name(lease)
                return report
        except SQLAlchemyError as exc:
            report.error = database_trouble(exc)
            return report
        _sync_leased(
            settings,
            engine,
            account,
            report,
            lease,
            now_fn,
            progress,
            batch_size,
            parse_workers,
            client,
            config,
        )
    finally:
        if own_lease:
            release_lease_quietly(lease)
        lock.release()
    return report


def database_trouble(exc: SQLAlchemyError) -> str:
    """A database failure in words a shop owner reads: the driver's reason, no SQL."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = one_line(reason[0] if reason else type(exc).__name__, limit=200)
    return _(
        "the database refused the sync ({reason}); nothing was lost, the next run fetches it"
    ).format(reason=text)


def release_lease_quietly(lease: AccountLease) -> None:
    try:
        lease.release()
    except SQLAlchemyError:  # it expires on its own
        log.warning("cannot release the lease %s", lease.name)


class _LeaseLost(Exception):
    """Another process took this account's lease over: stop syncing it."""


def _sync_leased(
    settings: Settings,
    engine: Engine,
    account: AccountSettings,
    report: SyncReport,
    lease: AccountLease,
    now_fn: Callable[[], datetime],
    progress: ProgressFn | None,
    batch_size: int,
    parse_workers: int | None,
    client: IMAPClient | None,
    config: IngestConfig | None,
) -> None:
    def keep_lease() -> None:
        try:
            kept = lease.acquire()
        except SQLAlchemyError:
            kept = False
        if not kept:
            raise _LeaseLost

    try:
        config = config or IngestConfig.from_settings(settings)
        own_client = client is None
        try:
            if client is None:
                client = imap_connect(imap_endpoint(account), get_password(account))
        except CsConsoleError as exc:
            report.error = exc.message
            for folder in account.folders:
                _record_failure(engine, account.name, folder, exc.message, now_fn())
            return
        try:
            for folder in account.folders:
                folder_report = sync_folder(
                    client,
                    engine,
                    account,
                    folder,
                    config=config,
                    now_fn=now_fn,
                    progress=progress,
                    batch_size=batch_size,
                    keep_lease=keep_lease,
                    parse_workers=parse_workers,
                )
                report.folders.append(folder_report)
        finally:
            if own_client:
                logout_quietly(client)
    except _LeaseLost:
        report.lease_holder = lease_holder_name(lease)


def lease_holder_name(lease: AccountLease) -> str:
    try:
        return lease.other_holder() or "another process"
    except SQLAlchemyError:
        return "another process"


def sync_folder(
    client: IMAPClient,
    engine: Engine,
    account: AccountSettings,
    folder: str,
    *,
    config: IngestConfig,
    now_fn: Callable[[], datetime] = utcnow,
    progress: ProgressFn | None = None,
    batch_size: int = DEFAULT_BATCH,
    keep_lease: Callable[[], None] | None = None,
    parse_workers: int | None = None,
) -> FolderReport:
    """Sync one folder (the caller holds the account's lock); failures end up in the report.

    ``keep_lease`` is called before each batch; it raises when this process
    lost the account's lease, which ends the sync (the raise passes through).
    """
    report = FolderReport(folder=folder)
    try:
        _sync_folder(
            client,
            engine,
            account,
            folder,
            report,
            config,
            now_fn,
            progress,
            batch_size,
            keep_lease,
            parse_workers,
        )
    except _LeaseLost:
        raise
    except CsConsoleError as exc:
        report.error = exc.message
    except SQLAlchemyError as exc:
        log.warning("sync of %s/%s: database error: %s", account.name, folder, exc)
        report.error = database_trouble(exc)
    except IMAP_ERRORS as exc:
        report.error = _("IMAP error: {reason}").format(reason=one_line(str(exc), limit=300))
    except Exception as exc:  # a bug or the database: still recorded, never silent
        log.exception("sync of %s/%s failed", account.name, folder)
        report.error = f"{type(exc).__name__}: {one_line(str(exc), limit=300)}"
    if report.error is not None:
        _record_failure(engine, account.name, folder, report.error, now_fn())
    return report


def _state(session: Session, account: str, folder: str) -> FolderState:
    state = session.exec(
        select(FolderState).where(FolderState.account == account, FolderState.folder == folder)
    ).first()
    if state is None:
        state = FolderState(account=account, folder=folder)
        session.add(state)
        session.flush()
    return state


def _no_news(state: FolderState, status: FolderStatus) -> bool:
    return (
        state.uidvalidity == status.uidvalidity
        and status.uidnext <= state.last_uid + 1
        and not state.after_ingest_pending
    )


def _sync_folder(
    client: IMAPClient,
    engine: Engine,
    account: AccountSettings,
    folder: str,
    report: FolderReport,
    config: IngestConfig,
    now_fn: Callable[[], datetime],
    progress: ProgressFn | None,
    batch_size: int,
    keep_lease: Callable[[], None] | None = None,
    parse_workers: int | None = None,
) -> None:
    status = folder_status(client, folder)
    with Session(engine, expire_on_commit=False) as session:
        state = _state(session, account.name, folder)
        if _no_news(state, status):
            report.no_news = True
            _mark_success(state, now_fn(), status.highest_modseq)
            session.add(state)
            session.commit()
            return
        session.commit()
        state_id = state.id

    box = ImapFolder(client, folder)
    uidvalidity = box.status.uidvalidity
    with Session(engine, expire_on_commit=False) as session:
        current = session.get(FolderState, state_id)
        assert current is not None
        state = current
        if state.uidvalidity is not None and state.uidvalidity != uidvalidity:
            log.warning(
                "%s/%s: UIDVALIDITY changed from %s to %s; resyncing",
                account.name,
                folder,
                state.uidvalidity,
                uidvalidity,
            )
            report.uidvalidity_reset = True
            state.last_uid = 0
            state.after_ingest_pending = None  # those UIDs name nothing any more
        state.uidvalidity = uidvalidity
        state.last_attempt_at = now_fn()
        session.add(state)
        session.commit()
        last_uid = state.last_uid
        owed = parse_uid_set(state.after_ingest_pending)

    uids = box.uids_after(last_uid)
    total = len(uids)
    act = bool(uids or owed) and account.after_ingest != "keep"
    act = act and not _is_sent_folder(client, account, folder)
    # Owed by an earlier sync that stopped after storing them, before marking or moving.
    if owed and (not act or _after_ingest(box, account, owed, report)):
        _settle_after_ingest(engine, state_id, owed)
    done = 0
    if progress is not None:
        progress(SyncProgress(account.name, folder, 0, total))
    context = PrepareContext(config.attachments_dir, config.routing)

    def mailbox() -> MailboxRef:
        credential = as_credential(get_password(account))
        return MailboxRef(imap_endpoint(account), credential, folder, uidvalidity)

    with BatchParser(
        context, total=total, router=config.router, workers=parse_workers, mailbox=mailbox
    ) as parser:
        # The next batches are fetched and parsed (by worker processes) while one is written.
        batches = iter(chunks(uids, batch_size))
        ahead: deque[tuple[list[int], Callable[[], FetchedBatch]]] = deque()
        while True:
            while len(ahead) < FETCH_AHEAD and (batch := next(batches, None)) is not None:
                if keep_lease is not None:
                    keep_lease()
                ahead.append((batch, parser.fetch(batch, box.fetch)))
            if not ahead:
                break
            batch, fetching = ahead.popleft()
            fetched, prepared = fetching()
            report.fetched += len(fetched)
            handled = _ingest_batch(
                engine,
                account,
                folder,
                uidvalidity,
                batch,
                fetched,
                prepared,
                report,
                config,
                now_fn,
                state_id,
                owe_after_ingest=act,
            )
            if act and _after_ingest(box, account, handled, report):
                _settle_after_ingest(engine, state_id, handled)
            done += len(batch)
            if progress is not None:
                progress(SyncProgress(account.name, folder, done, total))

    with Session(engine, expire_on_commit=False) as session:
        final = session.get(FolderState, state_id)
        assert final is not None
        state = final
        if state.uidvalidity == uidvalidity and box.status.uidnext:
            # UIDs below the UIDNEXT seen at SELECT are all handled (or expunged).
            state.last_uid = max(state.last_uid, box.status.uidnext - 1)
        _mark_success(state, now_fn(), box.status.highest_modseq)
        session.add(state)
        session.commit()


def _ingest_batch(
    engine: Engine,
    account: AccountSettings,
    folder: str,
    uidvalidity: int,
    batch: list[int],
    fetched: list[FetchedMessage],
    prepared: list[Prepared],
    report: FolderReport,
    config: IngestConfig,
    now_fn: Callable[[], datetime],
    state_id: int | None,
    *,
    owe_after_ingest: bool = False,
) -> list[int]:
    """Ingest one batch and move the state past it in the same transaction; returns UIDs handled.

    With ``owe_after_ingest`` the same transaction records the handled UIDs as
    still to be marked seen or moved (``FolderState.after_ingest_pending``),
    so a sync stopped before doing it leaves the work to the next one.

    Messages are parsed before the transaction opens (parsing never fails and
    holds no lock). The batch's rows are written together at the end
    (:func:`flush_batch`). A message whose ingest raises rolls the batch back;
    the batch is then done again with that message kept raw on a ticket of its
    own (:func:`quarantine_raw`), so one bad message never stops the others.
    When the database refuses the batch's rows, it is done again one message
    at a time to find the one at fault.
    """
    failed: dict[int, str] = {}
    integrity_retried = False
    careful = False
    while True:
        counts = FolderReport(folder=folder)
        handled: list[int] = []
        touched: set[int] = set()
        current: int | None = None
        # Mail is marked or moved on the strength of this commit: it must survive a power loss.
        bind = durable(engine) if owe_after_ingest else engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                state = session.get(FolderState, state_id)
                assert state is not None
                if state.uidvalidity != uidvalidity:
                    raise ImapError(
                        _("the state of {folder} changed under this sync; run it again").format(
                            folder=repr(folder)
                        )
                    )
                known = set(
                    session.exec(
                        select(Message.source_uid).where(
                            Message.source_account == account.name,
                            Message.source_folder == folder,
                            Message.source_uidvalidity == uidvalidity,
                            col(Message.source_uid).in_(batch),
                        )
                    ).all()
                )
                now = now_fn()
                todo = []
                for item, p in zip(fetched, prepared, strict=True):
                    if item.uid in known or item.uid <= state.last_uid:
                        counts.duplicates += 1
                    else:
                        todo.append((item, p))
                earliest = min(
                    (written_at(p.parsed.date, item.internal_date or now) for item, p in todo),
                    default=now,
                )
                lookups = BatchLookups.prefetch(
                    session,
                    [(p.parsed, p.content_hash) for _, p in todo],
                    config=config,
                    earliest=earliest,
                )
                with session.no_autoflush:
                    for item, p in todo:
                        current = item.uid
                        source = SourceRef(
                            account.name, folder, uidvalidity, item.uid, item.internal_date
                        )
                        if item.uid in failed:
                            result = quarantine_raw(
                                session,
                                item.raw,
                                config=config,
                                now=now,
                                error=failed[item.uid],
                                source=source,
                                lookups=lookups,
                            )
                            counts.warnings.append(f"uid {item.uid}: {failed[item.uid]}")
                        else:
                            result = ingest_raw(
                                session,
                                item.raw,
                                config=config,
                                now=now,
                                source=source,
                                prepared=p,
                                lookups=lookups,
                            )
                        if careful:  # find which message the database refuses
                            flush_batch(session)
                        handled.append(item.uid)
                        _count(counts, result.outcome, result.acknowledged)
                        if result.ticket_id is not None and result.outcome != "duplicate":
                            touched.add(result.ticket_id)
                    current = None
                    evaluated: set[int] = set()
                    if config.clock is not None and not careful:
                        # New tickets get their SLA columns before their INSERT: no UPDATE.
                        evaluated = evaluate_new_tickets(
                            session, config.clock, lookups.rows, lookups.opened.values(), now=now
                        )
                    flush_batch(session)
                rest = sorted(touched - evaluated)
                if config.clock is not None and rest:
                    tickets = [session.get(Ticket, number) for number in rest]
                    config.clock.refresh_many(session, [t for t in tickets if t], now=now)
                state.last_uid = max(state.last_uid, max(batch))
                state.last_attempt_at = now
                if owe_after_ingest and handled:
                    owed = [*parse_uid_set(state.after_ingest_pending), *handled]
                    state.after_ingest_pending = uid_set(owed)
                session.add(state)
                session.commit()
            except IntegrityError as exc:
                # Another machine stored some of these: look again once, then treat as a failure.
                session.rollback()
                if not integrity_retried:
                    integrity_retried = True
                    continue
                if current is None and not careful:
                    careful = True
                    continue
                if current is None or current in failed:
                    raise
                failed[current] = f"{type(exc).__name__}: {one_line(str(exc.orig), limit=300)}"
                continue
            except ImapError:
                raise
            except Exception as exc:
                session.rollback()
                if current is None and not careful:
                    careful = True  # the batch's flush failed: again, one message at a time
                    continue
                if current is None or current in failed:
                    raise
                log.warning("%s/%s uid %s: ingest failed: %r", account.name, folder, current, exc)
                failed[current] = f"{type(exc).__name__}: {one_line(str(exc), limit=300)}"
                continue
        for name in ("stored", "new_tickets", "duplicates", "own", "quarantined", "acknowledged"):
            setattr(report, name, getattr(report, name) + getattr(counts, name))
        report.warnings.extend(counts.warnings)
        return handled


def _count(report: FolderReport, outcome: str, acknowledged: bool) -> None:
    if outcome in ("new_ticket", "follow_up", "appended", "reopened", "quarantined"):
        report.stored += 1
    if outcome in ("new_ticket", "follow_up"):
        report.new_tickets += 1
    elif outcome == "duplicate":
        report.duplicates += 1
    elif outcome == "own":
        report.own += 1
    if outcome == "quarantined":
        report.quarantined += 1
        report.new_tickets += 1
    if acknowledged:
        report.acknowledged += 1


def _after_ingest(
    box: ImapFolder, account: AccountSettings, uids: list[int], report: FolderReport
) -> bool:
    """Mark seen / move what was committed; False (and a warning) when the server refused.

    A failure here loses nothing: the UIDs stay owed in the folder's state and
    the next sync tries again.
    """
    if not uids or account.after_ingest == "keep":
        return True
    try:
        if account.after_ingest == "seen":
            box.mark_seen(uids)
        elif account.after_ingest == "move" and account.move_to:
            box.move(uids, account.move_to)
    except ImapError as exc:
        report.warnings.append(exc.message)
        return False
    return True


def _settle_after_ingest(engine: Engine, state_id: int | None, uids: list[int]) -> None:
    """Forget ``uids`` from the actions the folder still owes the server."""
    done = set(uids)
    with Session(engine, expire_on_commit=False) as session:
        state = session.get(FolderState, state_id)
        if state is None or not state.after_ingest_pending:
            return
        left = [uid for uid in parse_uid_set(state.after_ingest_pending) if uid not in done]
        state.after_ingest_pending = uid_set(left) or None
        session.add(state)
        session.commit()


def _is_sent_folder(client: IMAPClient, account: AccountSettings, folder: str) -> bool:
    """Whether ``folder`` is the account's Sent folder (configured, or flagged SPECIAL-USE).

    Mail there is ours: it is never marked or moved by ``after_ingest``.
    """
    if account.sent_folder is not None:
        return folder == account.sent_folder
    try:
        return detect_sent_folder(client) == folder
    except ImapError:
        return False


def _mark_success(state: FolderState, now: datetime, modseq: int | None) -> None:
    state.last_attempt_at = now
    state.last_success_at = now
    state.last_error = None
    state.consecutive_failures = 0
    if modseq is not None:
        state.highest_modseq = modseq


def _record_failure(engine: Engine, account: str, folder: str, error: str, now: datetime) -> None:
    try:
        with Session(engine, expire_on_commit=False) as session:
            state = _state(session, account, folder)
            state.last_error = error
            state.last_attempt_at = now
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
            session.add(state)
            session.commit()
    except Exception:  # the database itself is down: the report still says why
        log.exception("cannot record the failure of %s/%s", account, folder)


def read_states(engine: Engine, account: str | None = None) -> list[FolderState]:
    """The stored sync state of every folder (of one account)."""
    with Session(engine) as session:
        query = select(FolderState).order_by(col(FolderState.account), col(FolderState.folder))
        if account:
            query = query.where(FolderState.account == account)
        return list(session.exec(query).all())


__all__ += ["close_quietly", "lease_holder_name", "read_states", "release_lease_quietly"]


def close_quietly(client: IMAPClient | None) -> None:
    if client is not None:
        logout_quietly(client)
