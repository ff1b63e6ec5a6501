"""Leases: one holder at a time for a shared job (an account's syncer, the outbox sender).

When several consoles or ``sync --watch`` processes share one database, each
tries to take the lease before doing the job; only the holder works, and it
renews the lease while it does. A holder that dies stops renewing: once the
lease expires, another process takes over. The bound on the take-over time is
the lease's duration.

Acquiring is a single conditional statement (insert if absent, else update if
expired or already ours), so it is atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from cs_console.store.models import Lease

DEFAULT_LEASE = timedelta(seconds=30)


def holder_id() -> str:
    """A name for this process that is unique across machines and restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """A holder on this machine whose process no longer exists (killed) can be replaced."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def try_acquire(
    engine: Engine, name: str, holder: str, *, now: datetime, ttl: timedelta = DEFAULT_LEASE
) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``.

    Returns False when another holder has it and it has not expired.
    """
    expires = now + ttl
    with engine.begin() as connection:
        result = connection.execute(
            update(Lease)
            .where(
                col(Lease.name) == name,
                (col(Lease.holder) == holder) | (col(Lease.expires_at) <= now),
            )
            .values(holder=holder, expires_at=expires)
        )
        if result.rowcount:
            return True
    try:
        with engine.begin() as connection:
            connection.execute(insert(Lease).values(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False  # someone else holds it (or took it between our two statements)


def release(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up (on a clean exit) so another process need not wait for it to expire."""
    with engine.begin() as connection:
        connection.execute(
            delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder)
        )


def current_holder(engine: Engine, name: str, *, now: datetime) -> str | None:
    """Who holds the lease now (None if nobody or it expired)."""
    from sqlmodel import Session, select

    with Session(engine) as session:
        lease = session.exec(select(Lease).where(Lease.name == name)).first()
        if lease is None or lease.expires_at <= now:
            return None
        return lease.holder


def sync_lease_name(account: str) -> str:
    return f"sync:{account}"


SENDER_LEASE = "outbox-sender"
