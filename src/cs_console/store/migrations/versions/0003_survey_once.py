"""one survey per ticket

The survey's ticket index becomes unique, so two senders (a cron job and a
console) racing on the same solved ticket cannot both queue a survey.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_ticket_id")
        batch_op.create_index("ix_survey_ticket_id", ["ticket_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_ticket_id")
        batch_op.create_index("ix_survey_ticket_id", ["ticket_id"], unique=False)
