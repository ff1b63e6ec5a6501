"""full-text search over ticket subjects and message bodies

SQLite: two FTS5 external-content tables (``ticket_fts`` over ``ticket.subject``,
``message_fts`` over ``message.body_text``) kept in sync by triggers, so every
writer (ingest, the CLI, the console) keeps the index right without knowing it.
PostgreSQL: GIN expression indexes on ``to_tsvector('simple', ...)``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE ticket_fts USING fts5("
    "subject, content='ticket', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE message_fts USING fts5("
    "body_text, content='message', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER ticket_fts_ai AFTER INSERT ON ticket BEGIN "
    "INSERT INTO ticket_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER ticket_fts_ad AFTER DELETE ON ticket BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, subject) VALUES ('delete', old.id, old.subject); "
    "END",
    "CREATE TRIGGER ticket_fts_au AFTER UPDATE OF subject ON ticket BEGIN "
    "INSERT INTO ticket_fts(ticket_fts, rowid, subject) VALUES ('delete', old.id, old.subject); "
    "INSERT INTO ticket_fts(rowid, subject) VALUES (new.id, new.subject); END",
    "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
    "INSERT INTO message_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
    "CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body_text) "
    "VALUES ('delete', old.id, old.body_text); END",
    "CREATE TRIGGER message_fts_au AFTER UPDATE OF body_text ON message BEGIN "
    "INSERT INTO message_fts(message_fts, rowid, body_text) "
    "VALUES ('delete', old.id, old.body_text); "
    "INSERT INTO message_fts(rowid, body_text) VALUES (new.id, new.body_text); END",
    "INSERT INTO ticket_fts(ticket_fts) VALUES ('rebuild')",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]

_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS message_fts_au",
    "DROP TRIGGER IF EXISTS message_fts_ad",
    "DROP TRIGGER IF EXISTS message_fts_ai",
    "DROP TRIGGER IF EXISTS ticket_fts_au",
    "DROP TRIGGER IF EXISTS ticket_fts_ad",
    "DROP TRIGGER IF EXISTS ticket_fts_ai",
    "DROP TABLE IF EXISTS message_fts",
    "DROP TABLE IF EXISTS ticket_fts",
]

_PG_UP = [
    "CREATE INDEX ix_ticket_subject_fts ON ticket USING gin (to_tsvector('simple', subject))",
    "CREATE INDEX ix_message_body_fts ON message USING gin (to_tsvector('simple', body_text))",
]

_PG_DOWN = [
    "DROP INDEX IF EXISTS ix_message_body_fts",
    "DROP INDEX IF EXISTS ix_ticket_subject_fts",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_UP)
    elif dialect == "postgresql":
        _run(_PG_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(_SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(_PG_DOWN)
