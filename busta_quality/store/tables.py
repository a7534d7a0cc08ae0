"""Table definitions. Every schema change is an Alembic migration in ``migrations/``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

check_runs = Table(
    "check_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("layer", String(16), nullable=False),
    Column("source", String(64), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("suite", String(128), nullable=False),
    Column("batch", String(512), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("quality_score", Float, nullable=False),
    Column("evaluated", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("errors", Integer, nullable=False, default=0),
    Column("max_severity", String(16)),
    Column("decision", String(32)),
    Column("engine", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("data_docs", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    #: the run's place in ``batches`` (None for runs recorded before the sequence existed)
    Column("batch_seq", Integer),
    Index("ix_check_runs_run_id", "run_id"),
    Index("ix_check_runs_layer_dataset_finished", "layer", "dataset", "finished_at"),
    Index("ix_check_runs_source_finished", "source", "finished_at"),
    # a date range alone, or a layer and a date range (runs pages, 0013)
    Index("ix_check_runs_finished", "finished_at"),
    Index("ix_check_runs_layer_finished", "layer", "finished_at"),
)

expectation_results = Table(
    "expectation_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "check_run_id",
        Integer,
        ForeignKey("check_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("expectation", String(128), nullable=False),
    Column("column_name", String(256)),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # passed | failed | error
    Column("unexpected_count", Integer),
    Column("unexpected_percent", Float),
    Column("detail", Text),  # JSON: sample values or the error message
    Index("ix_expectation_results_run", "check_run_id"),
)

#: every landed batch (one per ingested file) in landing order: ``seq`` is what "newest"
#: means, never a timestamp (two ingests can land within one clock tick)
batches = Table(
    "batches",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, unique=True),
    Column("source", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: the team names a league played in a season, learned from silver batches promoted without
#: a team warning (the league's vocabulary: pipeline/teams.py); one row per name
league_teams = Table(
    "league_teams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("league", String(64), nullable=False),
    Column("season", String(16), nullable=False),
    Column("team", String(128), nullable=False),
    #: the run that first recorded the name for that season
    Column("run_id", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("league", "season", "team", name="uq_league_teams"),
)

#: the layer manifest: what "current" means for a table layer. One row per layer commit,
#: written after every table commit of that layer landed; ``versions`` is JSON
#: ``{"<dataset>/<source>": version}`` for every table of the layer (the newest row wins)
lake_manifest = Table(
    "lake_manifest",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("layer", String(16), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("versions", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("layer", "run_id", name="uq_lake_manifest_layer_run"),
    Index("ix_lake_manifest_layer_id", "layer", "id"),
)

#: a layer commit's intent, recorded before its first table commit: ``pending`` until the
#: manifest names it (``done``) or a restart gives it up (``aborted``); ``tables`` is JSON
#: ``{"<dataset>/<source>": {"path", "staged", "keys", "partition_by"}}``
lake_commits = Table(
    "lake_commits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("layer", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("tables", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("run_id", "layer", name="uq_lake_commits_run_layer"),
    Index("ix_lake_commits_state", "state"),
)

#: who released, replayed or dropped a quarantined batch, when and why (the audit trail of
#: ``busta quarantine``); one row per action on one run's halted layer
quarantine_actions = Table(
    "quarantine_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("layer", String(16), nullable=False),
    #: the datasets of the layer the action moved, comma-separated
    Column("datasets", Text, nullable=False),
    Column("action", String(16), nullable=False),  # release | replay | drop
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    #: what came of it: promoted, quarantined (a replay failed again), dropped
    Column("outcome", String(32), nullable=False),
    Index("ix_quarantine_actions_run", "run_id"),
)

#: one row per run of one probe of one source (docs/sources.md). The metrics that windows
#: aggregate have their own columns (``response_time_s``, ``freshness_s``, ``rows``,
#: ``quota_remaining``); ``metrics`` (JSON) holds every metric the probe reported, ``detail``
#: (JSON) what it observed and judged. Hourly/daily rollups will be tables of their own keyed
#: by (source, probe, bucket start), filled from these rows; raw rows older than a retention
#: can then be deleted without losing the long windows
probe_results = Table(
    "probe_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("probe", String(64), nullable=False),
    Column("probe_type", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status", String(16), nullable=False),  # ok | failed | error | timeout
    Column("error", Text),
    Column("detail", Text, nullable=False),  # JSON object
    Column("metrics", Text, nullable=False),  # JSON object
    Column("response_time_s", Float),
    Column("freshness_s", Float),
    Column("rows", Float),
    Column("quota_remaining", Float),
    Column("origin", String(16), nullable=False),  # cli | monitor
    Index("ix_probe_results_source_started", "source", "started_at"),
    Index("ix_probe_results_source_probe_started", "source", "probe", "started_at"),
    #: the rollup job and the retention read and delete by time alone (0010)
    Index("ix_probe_results_started", "started_at"),
)

#: upper bounds (seconds) of the response-time histogram buckets of the probe rollups
#: (Prometheus' default buckets); ``le_<i>`` counts the results with a response time at most
#: ``ROLLUP_BUCKETS[i]`` (cumulative, so merging rollups is a sum); ``timed`` is ``+Inf``
ROLLUP_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
ROLLUP_BUCKET_COLUMNS: tuple[str, ...] = tuple(f"le_{i}" for i in range(len(ROLLUP_BUCKETS)))


def _rollup_table(name: str) -> Table:
    """A rollup of ``probe_results``: one row per source and bucket (hour or day), every probe
    of the source summed (migration 0010, docs/sources.md)."""
    return Table(
        name,
        metadata,
        Column("source", String(64), primary_key=True),
        Column("bucket_start", DateTime(timezone=True), primary_key=True),
        #: probe results started in the bucket, and of them ok
        Column("count", Integer, nullable=False),
        Column("ok_count", Integer, nullable=False),
        #: probe intervals of the bucket with at least one result (covered), and of them those
        #: whose every result was ok; ``slots_expected``: the bucket's length in intervals
        Column("slots_covered", Integer, nullable=False),
        Column("slots_ok", Integer, nullable=False),
        Column("slots_expected", Float, nullable=False),
        #: results that measured a response time, their sum, min and max (seconds)
        Column("timed", Integer, nullable=False),
        Column("rt_sum", Float, nullable=False),
        Column("rt_min", Float),
        Column("rt_max", Float),
        *(Column(c, Integer, nullable=False) for c in ROLLUP_BUCKET_COLUMNS),
        Index(f"ix_{name}_bucket", "bucket_start"),
    )


probe_rollups_hourly = _rollup_table("probe_rollups_hourly")
probe_rollups_daily = _rollup_table("probe_rollups_daily")

#: how far each rollup grain is complete: ``hour``/``day`` → end of the last rolled bucket
rollup_marks = Table(
    "rollup_marks",
    metadata,
    Column("grain", String(16), primary_key=True),
    Column("rolled_until", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# ``busta monitor`` (0009): one probe run per source and interval slot across monitors
monitor_leases = Table(
    "monitor_leases",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("slot", BigInteger, primary_key=True),  # floor(epoch seconds / interval)
    Column("owner", String(96), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Index("ix_monitor_leases_claimed", "claimed_at"),
)

# when a rule with ``absent_for`` last saw a signal of each subject (0009)
signal_arrivals = Table(
    "signal_arrivals",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("rule", String(128), nullable=False),
    Column("labels", Text, nullable=False),  # JSON object
    Column("last_at", DateTime(timezone=True), nullable=False),
    Index("ix_signal_arrivals_rule_last", "rule", "last_at"),
)

#: ``busta serve``'s dashboard sessions (docs/api.md): the cookie carries a random id and its
#: signature; the store keeps only the id's SHA-256, the token name and scopes it stands for,
#: so that every replica on the store accepts it and ending it ends it everywhere
serve_sessions = Table(
    "serve_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_hash", String(64), nullable=False),
    Column("token_name", String(64), nullable=False),
    Column("scopes", String(64), nullable=False),  # comma-separated
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    UniqueConstraint("session_hash", name="uq_serve_sessions_hash"),
    Index("ix_serve_sessions_expires", "expires_at"),
)

#: secrets shared by every replica of ``busta serve`` (``session``: the key that signs
#: session cookies and derives CSRF tokens), made once by whichever replica starts first
serve_keys = Table(
    "serve_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
