"""quarantine actions: the audit trail of releases, replays and drops of quarantined batches

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantine_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("datasets", sa.Text, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
    )
    op.create_index("ix_quarantine_actions_run", "quarantine_actions", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_actions_run", "quarantine_actions")
    op.drop_table("quarantine_actions")
