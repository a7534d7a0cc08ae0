"""lake manifest: the current version of every Delta table per layer, and commit intents

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lake_manifest",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("layer", "run_id", name="uq_lake_manifest_layer_run"),
    )
    op.create_index("ix_lake_manifest_layer_id", "lake_manifest", ["layer", "id"])
    op.create_table(
        "lake_commits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("tables", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("run_id", "layer", name="uq_lake_commits_run_layer"),
    )
    op.create_index("ix_lake_commits_state", "lake_commits", ["state"])


def downgrade() -> None:
    op.drop_index("ix_lake_commits_state", "lake_commits")
    op.drop_table("lake_commits")
    op.drop_index("ix_lake_manifest_layer_id", "lake_manifest")
    op.drop_table("lake_manifest")
