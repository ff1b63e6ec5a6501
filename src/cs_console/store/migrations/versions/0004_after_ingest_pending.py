"""after-ingest actions still owed to the server

A sync stopped between a batch's commit and marking that batch seen (or moving
it) left those messages unread on the server for good. The folder's state now
records the UIDs still owed, in the batch's own transaction, and the next sync
of the folder does what was left.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("after_ingest_pending", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("folder_state", schema=None) as batch_op:
        batch_op.drop_column("after_ingest_pending")
