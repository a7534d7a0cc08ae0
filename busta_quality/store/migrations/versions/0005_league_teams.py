"""league teams: the names each league played per season, learned from clean silver batches

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "league_teams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("league", sa.String(64), nullable=False),
        sa.Column("season", sa.String(16), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("league", "season", "team", name="uq_league_teams"),
    )


def downgrade() -> None:
    op.drop_table("league_teams")
