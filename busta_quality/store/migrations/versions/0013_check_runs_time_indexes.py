"""gate runs by time: a date range alone, or a layer and a date range, read an index
(``GET /api/v1/runs``, ``busta runs list``, the dashboard's history) instead of scanning
every run

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_check_runs_finished", "check_runs", ["finished_at"])
    op.create_index("ix_check_runs_layer_finished", "check_runs", ["layer", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_check_runs_layer_finished", table_name="check_runs")
    op.drop_index("ix_check_runs_finished", table_name="check_runs")
