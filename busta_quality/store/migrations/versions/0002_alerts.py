"""alerts, alert events, outbox, delivery attempts, maintenance windows, locks

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("active_fingerprint", sa.String(64), unique=True),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("original_severity", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("condition", sa.String(128), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("detail", sa.Text),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("fired_at", TS),
        sa.Column("escalated_at", TS),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.Column("resolved_at", TS),
        sa.Column("last_notified_at", TS),
        sa.Column("notified", sa.Boolean, nullable=False),
        sa.Column("suppressed_reason", sa.Text),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("streak", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_fingerprint", "alerts", ["fingerprint"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(128)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_alert_events_alert", "alert_events", ["alert_id"])
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.Column("last_error", sa.Text),
        sa.Column("ref", sa.Text),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_alert_outbox_alert_channel", "alert_outbox", ["alert_id", "channel"])
    op.create_table(
        "alert_delivery_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "outbox_id",
            sa.Integer,
            sa.ForeignKey("alert_outbox.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_alert_delivery_attempts_outbox", "alert_delivery_attempts", ["outbox_id"])
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("matchers", sa.Text, nullable=False),
        sa.Column("starts_at", TS),
        sa.Column("ends_at", TS),
        sa.Column("cron", sa.String(128)),
        sa.Column("duration_s", sa.Float),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_by", sa.String(128)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    locks = op.create_table(
        "alert_locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("counter", sa.Integer, nullable=False),
    )
    op.bulk_insert(locks, [{"name": "alert_engine", "counter": 0}])


def downgrade() -> None:
    op.drop_table("alert_locks")
    op.drop_table("maintenance_windows")
    op.drop_table("alert_delivery_attempts")
    op.drop_table("alert_outbox")
    op.drop_table("alert_events")
    op.drop_table("alerts")
