"""probe rollups: hourly and daily aggregates of probe_results per source (30-day windows
and SLAs read them; raw rows can then be deleted after their retention)

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: response-time histogram buckets (store/tables.py ROLLUP_BUCKETS)
BUCKETS = 11


def _rollup(name: str) -> None:
    op.create_table(
        name,
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("bucket_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("ok_count", sa.Integer, nullable=False),
        sa.Column("slots_covered", sa.Integer, nullable=False),
        sa.Column("slots_ok", sa.Integer, nullable=False),
        sa.Column("slots_expected", sa.Float, nullable=False),
        sa.Column("timed", sa.Integer, nullable=False),
        sa.Column("rt_sum", sa.Float, nullable=False),
        sa.Column("rt_min", sa.Float),
        sa.Column("rt_max", sa.Float),
        *(sa.Column(f"le_{i}", sa.Integer, nullable=False) for i in range(BUCKETS)),
    )
    op.create_index(f"ix_{name}_bucket", name, ["bucket_start"])


def upgrade() -> None:
    _rollup("probe_rollups_hourly")
    _rollup("probe_rollups_daily")
    op.create_table(
        "rollup_marks",
        sa.Column("grain", sa.String(16), primary_key=True),
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_probe_results_started", "probe_results", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_probe_results_started", "probe_results")
    op.drop_table("rollup_marks")
    for name in ("probe_rollups_daily", "probe_rollups_hourly"):
        op.drop_index(f"ix_{name}_bucket", name)
        op.drop_table(name)
