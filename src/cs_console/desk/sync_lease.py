"""The lease that lets exactly one process sync an account when several share a database.

Each syncer (``cs-console sync``, ``sync --watch``, a console's background
sync) takes the account's lease (:func:`cs_console.desk.leases.sync_lease_name`)
before pulling mail, renews it after each batch and while it waits for news,
and gives it up on a clean exit. A process that does not get it skips the
account. A holder that dies stops renewing and another takes over once the
lease expires; a holder on this machine whose process is gone (``kill -9``) is
replaced at once, as the outbox sender does.

The lease's clock is the wall clock of the processes sharing it, not the
domain clock a test may freeze: it is passed in as ``clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from cs_console.desk.leases import (
    DEFAULT_LEASE,
    current_holder,
    holder_gone,
    holder_id,
    release,
    sync_lease_name,
    try_acquire,
)
from cs_console.store.models import Lease

__all__ = ["DEFAULT_LEASE", "AccountLease", "holder_gone"]


class AccountLease:
    """One process's claim on syncing one account.

    Args:
        engine: The shared database.
        account: The account's name.
        holder: This process's name (:func:`cs_console.desk.leases.holder_id`).
        ttl: How long the lease lasts without renewal: the bound on a take-over.
        clock: The wall clock shared by the processes (aware UTC datetimes).
    """

    def __init__(
        self,
        engine: Engine,
        account: str,
        *,
        holder: str | None = None,
        ttl: timedelta = DEFAULT_LEASE,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.name = sync_lease_name(account)
        self.holder = holder or holder_id()
        self.ttl = ttl
        self.clock = clock
        self.held = False
        self._renewed_at: datetime | None = None

    @property
    def renew_every(self) -> float:
        """Seconds between renewals (and between a standby's attempts): a third of the lease."""
        return max(self.ttl.total_seconds() / 3, 0.05)

    def acquire(self) -> bool:
        """Take or renew the lease; False when another live holder has it.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database is unreachable.
        """
        now = self.clock()
        got = try_acquire(self.engine, self.name, self.holder, now=now, ttl=self.ttl)
        if not got:
            got = self._take_from_dead(now)
        self.held = got
        self._renewed_at = now if got else None
        return got

    def renew_if_due(self) -> bool:
        """Renew when a third of the lease has passed since the last renewal; False if lost."""
        if not self.held:
            return False
        now = self.clock()
        if self._renewed_at is not None and (now - self._renewed_at).total_seconds() < (
            self.renew_every
        ):
            return True
        return self.acquire()

    def release(self) -> None:
        """Give the lease up so another process need not wait for it to expire."""
        if self.held:
            self.held = False
            release(self.engine, self.name, self.holder)

    def other_holder(self) -> str | None:
        """Who holds the lease now when it is not this process."""
        found = current_holder(self.engine, self.name, now=self.clock())
        return None if found == self.holder else found

    def _take_from_dead(self, now: datetime) -> bool:
        found = current_holder(self.engine, self.name, now=now)
        if found is None or not holder_gone(found):
            return False
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Lease)
                .where(col(Lease.name) == self.name, col(Lease.holder) == found)
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
        return bool(result.rowcount == 1)
