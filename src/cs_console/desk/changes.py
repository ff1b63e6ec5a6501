"""Telling other consoles that something changed, within about a second.

On PostgreSQL every ticket change sends ``NOTIFY cs_console`` in its own
transaction (delivered at commit, collapsed when repeated), and a watcher
LISTENs on a connection of its own. On SQLite there is no notification, but
``PRAGMA data_version`` changes whenever another connection commits: polling
it is one cheap statement.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

CHANNEL = "cs_console"
SQLITE_POLL_SECONDS = 0.5


def announce(session: Session) -> None:
    """Notify listeners when this transaction commits (PostgreSQL; a no-op on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = id(session.get_transaction())
    if session.info.get("announced_in") != transaction:  # once per transaction is enough
        session.execute(text(f"NOTIFY {CHANNEL}"))
        session.info["announced_in"] = transaction


class ChangeWatcher:
    """Waits for changes made by other connections.

    Use from a worker thread: ``while watcher.wait(timeout=5): refresh()``.
    ``close()`` from any thread ends a wait.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._closed = threading.Event()
        self._postgres = engine.dialect.name == "postgresql"
        self._raw = engine.raw_connection()
        if self._postgres:
            driver = self._raw.driver_connection
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
            self._version = 0
        else:
            self._version = self._sqlite_version()

    def _sqlite_version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        finally:
            cursor.close()

    def wait(self, *, timeout: float) -> bool:
        """Block until another connection changed something (True) or ``timeout`` passed."""
        deadline = time.monotonic() + timeout
        if self._postgres:
            driver = self._raw.driver_connection
            while not self._closed.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                for _notify in driver.notifies(timeout=min(left, 0.5), stop_after=1):  # type: ignore[union-attr]
                    return True
            return False
        while not self._closed.is_set():
            version = self._sqlite_version()
            if version != self._version:
                self._version = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._closed.wait(min(SQLITE_POLL_SECONDS, left))
        return False

    def close(self) -> None:
        self._closed.set()
        try:
            self._raw.close()
        except Exception:
            pass
