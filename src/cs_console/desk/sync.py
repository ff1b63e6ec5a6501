"""Syncing an account: per folder, new mail in batches, each batch committed with its state.

For each folder of an account :func:`sync_account`:

1. asks ``STATUS`` (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ); when nothing is new
   that single round trip is the whole poll;
2. on a UIDVALIDITY change starts over from UID 1 under the new value: the
   messages already stored are recognised by Message-ID and content hash, so a
   resync neither duplicates nor misses one;
3. fetches the UIDs past the stored ``last_uid`` in batches and ingests each
   batch in one transaction that also moves ``last_uid`` past it
   (:func:`cs_console.desk.sync_batch.ingest_batch`). A ``kill -9`` at any
   moment loses at most an uncommitted batch, which the next run fetches
   again. One message that fails is kept raw on its own ticket with a warning
   (:func:`cs_console.desk.ingest.quarantine_raw`) and the batch goes on. A
   large sync has worker processes fetch and parse the next batches while one
   is written (:mod:`cs_console.desk.sync_parse`), and writes a batch's rows
   with a few bulk INSERTs (:mod:`cs_console.desk.bulk`);
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
from contextlib import ExitStack, nullcontext
from datetime import datetime, timedelta

from filelock import FileLock, Timeout
from imapclient import IMAPClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from cs_console.clock import utcnow
from cs_console.config import AccountSettings, Settings
from cs_console.desk.gc_tuning import bulk_gc
from cs_console.desk.ingest import IngestConfig
from cs_console.desk.sync_batch import ingest_batch
from cs_console.desk.sync_bodies import (
    BODIES_BEHIND,
    BodyReader,
    count_owed_bodies,
    owed_body_sources,
    read_owed_bodies,
)
from cs_console.desk.sync_lease import DEFAULT_LEASE, AccountLease
from cs_console.desk.sync_parse import (
    BatchParser,
    FetchedBatch,
    MailboxRef,
    PrepareContext,
    is_large,
)
from cs_console.desk.sync_report import FolderReport, ProgressFn, SyncProgress, SyncReport
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
from cs_console.store.engine import bulk_writes
from cs_console.store.models import FolderState
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
#: When only headers are parsed ahead, the workers can fetch far ahead of the writer
#: (then parse the bodies of what it recorded): as many batches as fit in this many
#: bytes of raw messages, at most :data:`BODIES_BEHIND`.
HEADS_AHEAD_BYTES = 64 * 1024 * 1024


class _HeadsAhead:
    """How many batches to have fetched ahead of the writer, from the sizes seen so far."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.limit = FETCH_AHEAD
        self.messages = 0
        self.size = 0

    def saw(self, fetched: list[FetchedMessage]) -> None:
        self.messages += len(fetched)
        self.size += sum(len(item.raw) for item in fetched)
        if self.messages:
            batch_bytes = self.size / self.messages * self.batch_size
            fit = int(HEADS_AHEAD_BYTES // max(batch_bytes, 1))
            self.limit = max(FETCH_AHEAD, min(BODIES_BEHIND, fit))


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
            try:
                _finish_orphaned_bodies(settings, engine, account, config, now_fn, parse_workers)
            except SQLAlchemyError as exc:  # still owed: the next sync tries again
                log.warning("%s: reading bodies left by earlier syncs: %s", account.name, exc)
                report.error = report.error or database_trouble(exc)
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
    _finish_owed_bodies(engine, account.name, folder, config, now_fn, parse_workers)
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

    # A large sync records its batches without checkpoints of the database's log: the next
    # commit without that (the bodies' first, which waits for parsing anyway) makes one.
    large = is_large(total)
    writes = bulk_writes(engine) if large else engine
    with ExitStack() as stack:
        if large:
            stack.enter_context(bulk_gc())  # before the parser processes fork: they inherit it
        parser = stack.enter_context(
            BatchParser(
                context, total=total, router=config.router, workers=parse_workers, mailbox=mailbox
            )
        )
        # A sync large enough for worker processes records its messages from their
        # headers, so the tickets are in the queue sooner, and reads the bodies after.
        bodies: BodyReader | None = None
        if parser.pool is not None:

            def bodies_stored(stored: int, owed: int) -> None:
                if progress is not None:
                    progress(SyncProgress(account.name, folder, done, total, stored, owed))

            bodies = stack.enter_context(
                BodyReader(engine, config, parser, now_fn=now_fn, on_stored=bodies_stored)
            )
        # The next batches are fetched and parsed (by worker processes) while one is written.
        batches = iter(chunks(uids, batch_size))
        ahead: deque[tuple[list[int], Callable[[], FetchedBatch]]] = deque()
        heads = bodies is not None
        heads_ahead = _HeadsAhead(batch_size)
        while True:
            limit = heads_ahead.limit if heads else FETCH_AHEAD
            while len(ahead) < limit and (batch := next(batches, None)) is not None:
                if keep_lease is not None:
                    keep_lease()
                # The first batch is fetched here, on the connection already open, while
                # the workers log in: the first tickets need not wait for them.
                here = heads and not done and not ahead
                ahead.append((batch, parser.fetch(batch, box.fetch, heads=heads, here=here)))
            if not ahead:
                break
            batch, fetching = ahead.popleft()
            fetched, prepared = fetching()
            heads_ahead.saw(fetched)
            report.fetched += len(fetched)
            stored = ingest_batch(
                writes,
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
            if act and _after_ingest(box, account, stored.handled, report):
                _settle_after_ingest(engine, state_id, stored.handled)
            done += len(batch)
            if progress is not None:
                progress(SyncProgress(account.name, folder, done, total))
            if bodies is not None:
                bodies.owe(stored.bodies_owed)
        if bodies is not None:
            bodies.finish()

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


def _finish_owed_bodies(
    engine: Engine,
    account: str,
    folder: str,
    config: IngestConfig,
    now_fn: Callable[[], datetime],
    parse_workers: int | None,
) -> None:
    """Read the bodies an earlier sync of the folder recorded the headers of and did not read."""
    owed = count_owed_bodies(engine, account, folder)
    if not owed:
        return
    log.info("%s/%s: reading %d message bodies left by an earlier sync", account, folder, owed)
    context = PrepareContext(config.attachments_dir, config.routing)
    with (
        bulk_gc() if is_large(owed) else nullcontext(),
        BatchParser(context, total=owed, router=config.router, workers=parse_workers) as parser,
    ):
        read_owed_bodies(
            engine, config, parser.prepare, account=account, folder=folder, now_fn=now_fn
        )


def _finish_orphaned_bodies(
    settings: Settings,
    engine: Engine,
    account: AccountSettings,
    config: IngestConfig,
    now_fn: Callable[[], datetime],
    parse_workers: int | None,
) -> None:
    """Read the bodies owed to folders that no sync reads any more.

    A large sync stopped between its two steps leaves bodies owed to its
    folder, and the folder's next sync reads them. When the folder, or its
    whole account, has left the configuration since, no such sync comes: the
    sync of ``account`` reads them instead, those of its own former folders
    and those of accounts no longer configured (renamed or removed).
    """
    configured = {other.name for other in settings.accounts}
    for source, folder in owed_body_sources(engine):
        if source not in configured or (source == account.name and folder not in account.folders):
            _finish_owed_bodies(engine, source, folder, config, now_fn, parse_workers)


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
