"""The full-text index of message bodies, for the writers that fill it themselves.

On SQLite a trigger indexes each message as it is inserted, except the
messages that came from a mailbox (``source_uid`` set): a sync writes those by
the hundred and indexes them here, in the same transaction, with one
statement (migration 0005). Whoever inserts a message with a ``source_uid``
calls :func:`index_message_bodies` for it. PostgreSQL indexes every row
itself (an expression index): nothing to do there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["index_message_bodies", "rebuild_message_index"]

_INSERT = text("INSERT INTO message_fts(rowid, body_text) VALUES (:id, :body)")


def index_message_bodies(connection: Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index the bodies of just-inserted synced messages, given as ``(id, body_text)``."""
    if connection.dialect.name != "sqlite":
        return
    params = [{"id": row_id, "body": body} for row_id, body in rows]
    if params:
        connection.execute(_INSERT, params)


def rebuild_message_index(connection: Connection) -> None:
    """Index every message again (after rows were copied in, synced ones among them)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("INSERT INTO message_fts(message_fts) VALUES ('rebuild')"))
