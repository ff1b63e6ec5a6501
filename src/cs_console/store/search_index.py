"""The full-text index of message bodies, for the writers that fill it themselves.

On SQLite a trigger indexes each message as it is inserted, except the
messages that came from a mailbox (``source_uid`` set): a sync writes those by
the hundred and indexes them here, in the same transaction, with one
statement (migration 0005). Whoever inserts a message with a ``source_uid``
calls :func:`index_message_bodies` for it. Likewise the update trigger leaves
out the messages whose bodies a sync is still to read (migration 0006): the
sync replaces their entries here once it has (:func:`reindex_message_bodies`).
PostgreSQL indexes every row itself (an expression index): nothing to do there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["index_message_bodies", "rebuild_message_index", "reindex_message_bodies"]

_INSERT = text("INSERT INTO message_fts(rowid, body_text) VALUES (:id, :body)")
_DELETE = text(
    "INSERT INTO message_fts(message_fts, rowid, body_text) VALUES ('delete', :id, :body)"
)


def index_message_bodies(connection: Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index the bodies of just-inserted synced messages, given as ``(id, body_text)``."""
    if connection.dialect.name != "sqlite":
        return
    params = [{"id": row_id, "body": body} for row_id, body in rows]
    if params:
        connection.execute(_INSERT, params)


def reindex_message_bodies(connection: Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Replace the entries of messages whose bodies were just read, as ``(id, old, new)``.

    For messages a sync recorded from their headers: the update trigger leaves
    them out while they are pending (migration 0006), and their entries are
    replaced here with two statements for the whole batch. ``old`` must be the
    text the entry was made from (the index needs it to remove the entry).
    """
    if connection.dialect.name != "sqlite":
        return
    rows = list(rows)
    if rows:
        connection.execute(_DELETE, [{"id": row_id, "body": old} for row_id, old, _ in rows])
        connection.execute(_INSERT, [{"id": row_id, "body": new} for row_id, _, new in rows])


def rebuild_message_index(connection: Connection) -> None:
    """Index every message again (after rows were copied in, synced ones among them)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("INSERT INTO message_fts(message_fts) VALUES ('rebuild')"))
