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
    #: the batch sequence number of the evaluation that raised or last updated it (0004)
    Column("batch_seq", Integer),
    #: raised by a ``mode: shadow`` rule: recorded, never sent (0004)
    Column("shadow", Boolean, nullable=False, default=False),
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
    #: the notification group this message is for (0004); ``alert_id`` is its lead alert
    Column("group_id", Integer),
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

#: notification groups (0004): alerts routed alike (same route, same ``group_by`` values)
#: share one message per channel and transition
alert_groups = Table(
    "alert_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("group_key", String(64), nullable=False),
    #: ``group_key`` while the group is open, NULL once closed: one open group per key
    Column("active_key", String(64), unique=True),
    Column("route", Integer, nullable=False),  # index in alerting.routes; -1: the default
    Column("labels", Text, nullable=False),  # JSON: the group_by labels' values
    Column("channels", Text, nullable=False),  # JSON: the route's channels at creation
    Column("digest", Boolean, nullable=False, default=False),
    #: the first alert that joined; the outbox rows of the group carry it as ``alert_id``
    Column("lead_alert_id", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: when the group's next message is due (None: nothing to tell)
    Column("flush_at", DateTime(timezone=True)),
    Column("last_flushed_at", DateTime(timezone=True)),
    #: events that happened to members since the last message (JSON list)
    Column("pending", Text, nullable=False),
    Column("seq", Integer, nullable=False, default=0),
    #: a firing message was queued (only then are resolved / acknowledged ones sent)
    Column("notified", Boolean, nullable=False, default=False),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_alert_groups_key", "group_key"),
)

alert_group_members = Table(
    "alert_group_members",
    metadata,
    Column(
        "group_id", Integer, ForeignKey("alert_groups.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    #: the member's state in the group's last message (None: not announced yet)
    Column("announced", String(16)),
    Index("ix_alert_group_members_alert", "alert_id"),
)

#: one row per named lock; ``UPDATE ... SET counter = counter + 1`` serialises writers
alert_locks = Table(
    "alert_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("counter", Integer, nullable=False, default=0),
)
