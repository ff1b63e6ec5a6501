"""messages whose bodies a large sync reads after recording them

A large first sync now records each message from its headers (ticket, sender,
threading, raw bytes) in the transaction that moves the folder's state past
it, so the tickets are in the queue sooner, and reads the bodies (text,
attachments, routing, acknowledgement, SLA) right after. This table lists the
messages still waiting for that second step; a sync stopped in between leaves
them here and the next one finishes them from the stored raw bytes.

On SQLite, the update trigger of the body search index now leaves out those
messages: the sync replaces their (empty) entries itself, a batch at a time
(:func:`cs_console.store.search_index.reindex_message_bodies`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


_REINDEX = (
    "INSERT INTO message_fts(message_fts, rowid, body_text) "
    "VALUES ('delete', old.id, old.body_text); "
    "INSERT INTO message_fts(rowid, body_text) VALUES (new.id, new.body_text); END"
)
_ALWAYS = "CREATE TRIGGER message_fts_au AFTER UPDATE OF body_text ON message BEGIN " + _REINDEX
_UNLESS_PENDING = (
    "CREATE TRIGGER message_fts_au AFTER UPDATE OF body_text ON message "
    "WHEN NOT EXISTS (SELECT 1 FROM message_body_pending WHERE message_id = new.id) BEGIN "
    + _REINDEX
)


def upgrade() -> None:
    op.create_table(
        "message_body_pending",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("acknowledge", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_fts_au")
        op.execute(_UNLESS_PENDING)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS message_fts_au")
        op.execute(_ALWAYS)
    op.drop_table("message_body_pending")
