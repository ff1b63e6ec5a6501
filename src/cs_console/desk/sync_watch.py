"""Keeping accounts synced: IDLE where the server has it, polling otherwise, reconnecting.

:func:`watch_account` syncs an account (:func:`cs_console.desk.sync.sync_account`)
while this process holds its lease, then waits for news: IDLE on its first
folder where the server has it (up to ``interval`` seconds, so the other folders
are polled at least that often), sleeping ``interval`` otherwise, and
reconnecting after a growing delay (1 s, 2 s, 4 s... up to 5 minutes) when the
connection drops. Without the lease it reports the skip and tries again every
third of the lease time, so it takes over within the lease time when the holder
dies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from imapclient import IMAPClient
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from cs_console.clock import utcnow
from cs_console.config import AccountSettings, Settings
from cs_console.desk.ingest import IngestConfig
from cs_console.desk.sync import (
    DEFAULT_BATCH,
    ProgressFn,
    SyncReport,
    close_quietly,
    database_trouble,
    lease_holder_name,
    release_lease_quietly,
    sync_account,
)
from cs_console.desk.sync_lease import DEFAULT_LEASE, AccountLease
from cs_console.errors import CsConsoleError
from cs_console.mail.connect import imap_connect
from cs_console.mail.endpoints import imap_endpoint
from cs_console.mail.imap_sync import IMAP_ERRORS, wait_for_news
from cs_console.secrets import get_password

__all__ = ["MAX_BACKOFF", "backoff_delays", "watch_account", "watch_accounts"]

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0


def backoff_delays(start: float = 1.0, limit: float = MAX_BACKOFF) -> Callable[[], float]:
    """A function giving 1, 2, 4, ... up to ``limit`` seconds on successive calls."""
    delay = [start / 2]

    def step() -> float:
        delay[0] = min(delay[0] * 2, limit)
        return delay[0]

    return step


def watch_account(
    settings: Settings,
    engine: Engine,
    account: AccountSettings,
    *,
    stop: threading.Event,
    interval: float = 60.0,
    batch_size: int = DEFAULT_BATCH,
    now_fn: Callable[[], datetime] = utcnow,
    progress: ProgressFn | None = None,
    on_report: Callable[[SyncReport], None] | None = None,
    on_error: Callable[[str, str, float], None] | None = None,
    lease_ttl: timedelta = DEFAULT_LEASE,
    lease_clock: Callable[[], datetime] = utcnow,
) -> None:
    """Sync ``account`` until ``stop`` is set (see the module docstring).

    Only while this process holds the account's lease: otherwise it reports
    the skip (``report.lease_holder``) and tries again every third of
    ``lease_ttl``, so it takes over within the lease time when the holder dies.
    The lease is renewed while waiting for news and released on the way out.
    """
    config = IngestConfig.from_settings(settings)
    next_delay = backoff_delays()
    client: IMAPClient | None = None
    lease = AccountLease(engine, account.name, ttl=lease_ttl, clock=lease_clock)
    lost = threading.Event()

    def should_stop() -> bool:
        if stop.is_set():
            return True
        try:
            kept = lease.renew_if_due()
        except SQLAlchemyError:
            kept = False
        if not kept:
            lost.set()
        return not kept

    try:
        while not stop.is_set():
            try:
                if not lease.acquire():
                    if on_report is not None:
                        on_report(SyncReport(account.name, lease_holder=lease_holder_name(lease)))
                    close_quietly(client)
                    client = None
                    stop.wait(lease.renew_every)
                    continue
                if client is None:
                    client = imap_connect(imap_endpoint(account), get_password(account))
                report = sync_account(
                    settings,
                    engine,
                    account,
                    now_fn=now_fn,
                    progress=progress,
                    batch_size=batch_size,
                    lock_timeout=interval,
                    client=client,
                    config=config,
                    lease=lease,
                )
                if on_report is not None:
                    on_report(report)
                if not report.ok:
                    raise CsConsoleError("; ".join(report.errors))
                next_delay = backoff_delays()
                if report.skipped:
                    stop.wait(lease.renew_every)
                    continue
                lost.clear()
                news = wait_for_news(
                    client, account.folders[0], timeout=interval, should_stop=should_stop
                )
                if not news and not lost.is_set() and b"IDLE" not in client.capabilities():
                    _poll_wait(stop, interval, should_stop)  # no IDLE on this server: poll
            except (CsConsoleError, SQLAlchemyError, *IMAP_ERRORS) as exc:
                if isinstance(exc, CsConsoleError):
                    message = exc.message
                elif isinstance(exc, SQLAlchemyError):
                    message = database_trouble(exc)
                else:
                    message = str(exc)
                delay = next_delay()
                if on_error is not None:
                    on_error(account.name, message, delay)
                log.warning("%s: %s; retrying in %.0f s", account.name, message, delay)
                close_quietly(client)
                client = None
                stop.wait(delay)
    finally:
        close_quietly(client)
        release_lease_quietly(lease)


def _poll_wait(stop: threading.Event, interval: float, should_stop: Callable[[], bool]) -> None:
    """Wait ``interval`` seconds, renewing the lease on the way (``should_stop`` does)."""
    waited = 0.0
    while waited < interval and not should_stop():
        step = min(1.0, interval - waited)
        stop.wait(step)
        waited += step


def watch_accounts(
    settings: Settings,
    engine: Engine,
    accounts: list[AccountSettings],
    *,
    stop: threading.Event,
    **options: object,
) -> None:
    """Watch several accounts, one thread each, until ``stop`` is set or Ctrl-C."""
    threads = [
        threading.Thread(
            target=watch_account,
            args=(settings, engine, account),
            kwargs={"stop": stop, **options},
            name=f"watch-{account.name}",
            daemon=True,
        )
        for account in accounts
    ]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.5)
    finally:
        stop.set()
