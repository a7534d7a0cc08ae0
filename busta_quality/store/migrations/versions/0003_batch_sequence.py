"""batch sequence: every landed batch gets a monotonic number (its order in the lake)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("check_runs") as batch:
        batch.add_column(sa.Column("batch_seq", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("check_runs") as batch:
        batch.drop_column("batch_seq")
    op.drop_table("batches")
