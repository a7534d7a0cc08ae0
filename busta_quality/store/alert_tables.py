"""Alerting tables, on the same ``metadata`` as the rest of the store (migration 0002)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from busta_quality.store.tables import metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False),
    #: equals ``fingerprint`` while the alert is open, NULL once resolved: one open alert
    #: per fingerprint, enforced by the database even with several engines
    Column("active_fingerprint", String(64), unique=True),
    Column("rule", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("original_severity", String(16), nullable=False),
    Column("labels", Text, nullable=False),  # JSON object
    Column("summary", Text, nullable=False, default=""),
    Column("condition", String(128), nullable=False),
    Column("value", Float),
    Column("threshold", Float),
    Column("detail", Text),  # JSON: the last signal's detail (run_id, failures, data docs)
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(128)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("last_notified_at", DateTime(timezone=True)),
    Column("notified", Boolean, nullable=False, default=False),
    Column("suppressed_reason", Text),
    Column("occurrences", Integer, nullable=False, default=1),
    Column("streak", Integer, nullable=False, default=1),
    Column("seq", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_alerts_state", "state"),
    Index("ix_alerts_fingerprint", "fingerprint"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(128)),
    Column("note", Text),
    Index("ix_alert_events_alert", "alert_id"),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event", String(16), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # JSON: the alert snapshot at the transition
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_owner", String(64)),
    Column("lease_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("ref", Text),
    Index("ix_alert_outbox_due", "status", "next_attempt_at"),
    Index("ix_alert_outbox_alert_channel", "alert_id", "channel"),
)

alert_delivery_attempts = Table(
    "alert_delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("alert_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    #: in_flight | delivered | skipped | retry | failed | abandoned (dispatcher died)
    Column("outcome", String(16), nullable=False),
    Column("http_status", Integer),
    Column("detail", Text),
    Index("ix_alert_delivery_attempts_outbox", "outbox_id"),
)

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("matchers", Text, nullable=False),  # JSON object of label matchers
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("cron", String(128)),
    Column("duration_s", Float),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("comment", Text),
    Column("created_by", String(128)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
)

#: one row per named lock; ``UPDATE ... SET counter = counter + 1`` serialises writers
alert_locks = Table(
    "alert_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("counter", Integer, nullable=False, default=0),
)
