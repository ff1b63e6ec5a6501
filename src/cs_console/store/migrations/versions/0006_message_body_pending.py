"""messages whose bodies a large sync reads after recording them

A large first sync now records each message from its headers (ticket, sender,
threading, raw bytes) in the transaction that moves the folder's state past
it, so the tickets are in the queue sooner, and reads the bodies (text,
attachments, routing, acknowledgement, SLA) right after. This table lists the
messages still waiting for that second step; a sync stopped in between leaves
them here and the next one finishes them from the stored raw bytes.

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


def upgrade() -> None:
    op.create_table(
        "message_body_pending",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("acknowledge", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )


def downgrade() -> None:
    op.drop_table("message_body_pending")
