"""probe results: one row per run of one probe of one source (source health)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("probe", sa.String(64), nullable=False),
        sa.Column("probe_type", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("response_time_s", sa.Float),
        sa.Column("freshness_s", sa.Float),
        sa.Column("rows", sa.Float),
        sa.Column("quota_remaining", sa.Float),
        sa.Column("origin", sa.String(16), nullable=False),
    )
    op.create_index("ix_probe_results_source_started", "probe_results", ["source", "started_at"])
    op.create_index(
        "ix_probe_results_source_probe_started",
        "probe_results",
        ["source", "probe", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_probe_results_source_probe_started", "probe_results")
    op.drop_index("ix_probe_results_source_started", "probe_results")
    op.drop_table("probe_results")
