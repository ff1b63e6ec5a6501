"""a sync indexes its messages' bodies itself, a batch at a time

SQLite's full-text index of message bodies was kept by a trigger, one row at a
time; a sync writes hundreds of messages per transaction, and indexing them in
one statement costs about half as much. The insert trigger now leaves out the
messages that came from a mailbox (``source_uid`` set), which the sync indexes
in the same transaction that stores them
(:func:`cs_console.store.search_index.index_message_bodies`). The update and
delete triggers are unchanged. PostgreSQL's index needs nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BY_TRIGGER = (
    "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, body_text) VALUES (new.id, new.body_text); END"
)
_BY_TRIGGER_UNLESS_SYNCED = (
    "CREATE TRIGGER message_fts_ai AFTER INSERT ON message WHEN new.source_uid IS NULL BEGIN "
    "INSERT INTO message_fts(rowid, body_text) VALUES (new.id, new.body_text); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_fts_ai")
        op.execute(_BY_TRIGGER_UNLESS_SYNCED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_fts_ai")
        op.execute(_BY_TRIGGER)
