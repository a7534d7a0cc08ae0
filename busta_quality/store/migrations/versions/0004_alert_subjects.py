"""alert subjects and notification groups: alerts remember the batch that last judged them
and whether a shadow rule raised them; grouped notifications (alert_groups, their members,
the outbox row's group)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("batch_seq", sa.Integer))
        batch.add_column(sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("alert_outbox") as batch:
        batch.add_column(sa.Column("group_id", sa.Integer))
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("active_key", sa.String(64), unique=True),
        sa.Column("route", sa.Integer, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("channels", sa.Text, nullable=False),
        sa.Column("digest", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("lead_alert_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flush_at", sa.DateTime(timezone=True)),
        sa.Column("last_flushed_at", sa.DateTime(timezone=True)),
        sa.Column("pending", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("notified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_alert_groups_key", "alert_groups", ["group_key"])
    op.create_table(
        "alert_group_members",
        sa.Column(
            "group_id",
            sa.Integer,
            sa.ForeignKey("alert_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced", sa.String(16)),
    )
    op.create_index("ix_alert_group_members_alert", "alert_group_members", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_group_members_alert", "alert_group_members")
    op.drop_table("alert_group_members")
    op.drop_index("ix_alert_groups_key", "alert_groups")
    op.drop_table("alert_groups")
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_column("group_id")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("shadow")
        batch.drop_column("batch_seq")
