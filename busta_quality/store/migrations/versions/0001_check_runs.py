"""check runs and per-expectation results

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("suite", sa.String(128), nullable=False),
        sa.Column("batch", sa.String(512), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("quality_score", sa.Float, nullable=False),
        sa.Column("evaluated", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("errors", sa.Integer, nullable=False),
        sa.Column("max_severity", sa.String(16)),
        sa.Column("decision", sa.String(32)),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("data_docs", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_check_runs_run_id", "check_runs", ["run_id"])
    op.create_index(
        "ix_check_runs_layer_dataset_finished", "check_runs", ["layer", "dataset", "finished_at"]
    )
    op.create_index("ix_check_runs_source_finished", "check_runs", ["source", "finished_at"])
    op.create_table(
        "expectation_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "check_run_id",
            sa.Integer,
            sa.ForeignKey("check_runs.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("expectation", sa.String(128), nullable=False),
        sa.Column("column_name", sa.String(256)),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("unexpected_count", sa.Integer),
        sa.Column("unexpected_percent", sa.Float),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_expectation_results_run", "expectation_results", ["check_run_id"])


def downgrade() -> None:
    op.drop_table("expectation_results")
    op.drop_table("check_runs")
