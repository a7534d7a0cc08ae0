"""monitor leases (one probe per source and interval slot across monitors) and signal
arrivals (rules with ``absent_for``)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_leases",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("slot", sa.BigInteger, primary_key=True),
        sa.Column("owner", sa.String(96), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_monitor_leases_claimed", "monitor_leases", ["claimed_at"])
    op.create_table(
        "signal_arrivals",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_signal_arrivals_rule_last", "signal_arrivals", ["rule", "last_at"])


def downgrade() -> None:
    op.drop_index("ix_signal_arrivals_rule_last", "signal_arrivals")
    op.drop_table("signal_arrivals")
    op.drop_index("ix_monitor_leases_claimed", "monitor_leases")
    op.drop_table("monitor_leases")
