"""data metrics: per gate run of an ingest, row count, key null rates and each bookmaker's
price coverage, with how each was judged against its series' baseline

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_metrics",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("batch_seq", sa.Integer),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("partition", sa.Text, nullable=False),
        sa.Column("series", sa.String(512), nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("item", sa.String(128), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16)),
        sa.Column("score", sa.Float),
        sa.Column("baseline_median", sa.Float),
        sa.Column("baseline_low", sa.Float),
        sa.Column("baseline_high", sa.Float),
        sa.Column("baseline_n", sa.Integer),
        sa.Column("reason", sa.Text, nullable=False),
        sa.UniqueConstraint(
            "run_id", "layer", "dataset", "metric", "item", name="uq_data_metrics_run_metric"
        ),
    )
    op.create_index(
        "ix_data_metrics_series",
        "data_metrics",
        ["source", "layer", "dataset", "metric", "item", "series", "id"],
    )
    op.create_index("ix_data_metrics_verdict", "data_metrics", ["verdict", "id"])


def downgrade() -> None:
    op.drop_index("ix_data_metrics_verdict", "data_metrics")
    op.drop_index("ix_data_metrics_series", "data_metrics")
    op.drop_table("data_metrics")
