"""Engines and sessions for SQLite (the default) and PostgreSQL (for a team)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

from cs_console.errors import StoreError
from cs_console.i18n import _

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_AUTOCHECKPOINT = 1000  # SQLite's default: pages of write-ahead log that start a checkpoint


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for another engine or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) so no other user can read the mail."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write and
    # breaks SAVEPOINTs; turn it off and let ``_sqlite_begin`` start transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching to WAL takes a lock, which another process may hold
    # (creating the database, for one), and without the timeout that fails at once.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE by default: a deferred transaction that read and then writes
    # fails at once with "database is locked" when another process wrote in
    # between (the busy timeout does not apply to that upgrade). Taking the
    # write lock up front makes concurrent writers (sync beside the console)
    # wait their turn instead. Read-only work may pass sqlite_begin="DEFERRED".
    options = connection.get_execution_options()
    level = "FULL" if options.get("sqlite_durable") else "NORMAL"
    _set_pragma(connection, "synchronous", level, default="NORMAL")
    pages = 0 if options.get("sqlite_bulk") else SQLITE_AUTOCHECKPOINT
    _set_pragma(connection, "wal_autocheckpoint", pages, default=SQLITE_AUTOCHECKPOINT)
    mode = options.get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _set_pragma(connection: Any, name: str, value: object, *, default: object) -> None:
    """Set a connection's PRAGMA for the transaction about to begin, if it is not set so already.

    Only between transactions (``synchronous`` cannot change inside one); the
    value last set is remembered on the connection, ``default`` until then.
    """
    if connection.info.get(name, default) != value:
        connection.exec_driver_sql(f"PRAGMA {name}={value}")
        connection.info[name] = value


def durable(engine: Engine) -> Engine:
    """``engine``, its SQLite commits written to disk before they return (``synchronous=FULL``).

    By default a commit survives the program crashing but not always the
    machine losing power (WAL with ``synchronous=NORMAL``): the last commits
    may be undone. That is enough where an undone commit is simply done again
    (a sync fetches the batch again), not before an action on the strength of
    it that cannot be undone, such as moving mail out of the folder a sync
    reads. PostgreSQL commits are durable anyway.
    """
    return engine.execution_options(sqlite_durable=True)


def bulk_writes(engine: Engine) -> Engine:
    """``engine`` for a run of large commits; on SQLite they leave checkpoints to later commits.

    A commit that finds more than :data:`SQLITE_AUTOCHECKPOINT` pages in the
    write-ahead log copies them into the database file and syncs both: every
    batch a large sync records from headers is that large, and paid for one on
    the way to the queue. With this the log grows instead, and the next
    commit without it (the sync's bodies step, which waits for parsing
    anyway) checkpoints it once. A crash in between loses nothing: until then
    the log is part of the database.
    """
    return engine.execution_options(sqlite_bulk=True)


def make_engine(url: str, *, schema: str | None = None, echo: bool = False) -> Engine:
    """Create an engine for ``url``.

    SQLite gets WAL mode, a busy timeout, foreign keys and a private file.
    ``schema`` (PostgreSQL only) puts every table in that schema, which tests
    use for a fresh namespace per run.

    Raises:
        StoreError: the URL is malformed or names an unsupported driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(_("the database URL is not valid: {reason}").format(reason=exc)) from exc
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"echo": echo}
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            _prepare_sqlite_file(path)
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    else:
        raise StoreError(
            _("unsupported database {backend}: use sqlite or postgresql").format(
                backend=repr(backend)
            )
        )
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(_("cannot use the database URL: {reason}").format(reason=exc)) from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)

    return engine


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid URL)"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def check_connection(engine: Engine) -> None:
    """Open one connection, turning driver errors into a :class:`StoreError`."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreError(
            _("cannot open the database {url}: {reason}").format(
                url=describe_url(str(engine.url)), reason=exc.orig
            )
        ) from exc
