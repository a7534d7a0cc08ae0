"""Frozen records passed between stages. They import nothing heavy.

A gate run produces a :class:`CheckResult`; a source probe produces a
:class:`ProbeResult`. Both become :class:`Signal` rows for the rule engine, so the alerting side
does not assume gates are the only producer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypedDict

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 1, "warning": 2, "critical": 3}[self.value]


class Decision(StrEnum):
    PROMOTED = "promoted"
    PROMOTED_WITH_WARNINGS = "promoted_with_warnings"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class BatchFile:
    """One parquet data file of a table version, with the partition values the table's log
    gives it (a Delta table keeps partition columns out of its data files)."""

    path: str
    partition: tuple[tuple[str, str | None], ...] = ()

    @property
    def added(self) -> tuple[tuple[str, str | None], ...]:
        """The partition values a reader sets as columns: all of them, replacing a copy the
        file may hold itself (the log's value is the table's; reading the file's schema to
        find out would cost a file open per data file)."""
        return self.partition


@dataclass
class StagedBatch:
    """A batch written to the lake's staging area and waiting for its gate (or a promoted
    batch being re-checked)."""

    layer: str
    dataset: str
    source: str
    run_id: str
    path: Path
    frame: Any = None  # the pandas frame, when the caller still has it in memory
    rows: int = 0
    #: the GX suite (``<layer>.<dataset>`` unless the source kind says otherwise)
    suite: str | None = None
    #: the run's place in the store's batch sequence (None for a batch landed before it)
    seq: int | None = None
    #: the columns that identify a row (the source kind's natural keys for the dataset): a
    #: failure names its unexpected rows by them and by the lineage columns
    row_keys: tuple[str, ...] = ()
    #: a table version to validate instead of ``path``: exactly these data files (with their
    #: partition values); empty for a single staged or bronze file
    files: tuple[BatchFile, ...] = ()

    @property
    def suite_name(self) -> str:
        return self.suite or f"{self.layer}.{self.dataset}"


#: the lineage columns that say where a row was landed (busta_quality/lake.py)
SOURCE_FILE, SOURCE_ROW = "_source_file", "_source_row"


@dataclass(frozen=True)
class RowRef:
    """One unexpected row of a failure: its natural key, the value(s) the expectation
    judged, and where it was landed (``_source_file``, ``_source_row``: the line of the
    landing file, or the record's number in a JSON file; None when the row has no single
    one, e.g. a gold row aggregated from several)."""

    key: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    source_file: str | None = None
    source_row: int | None = None

    def to_json(self, *, plain: bool = False) -> dict[str, Any]:
        conv = json_plain if plain else _same
        return {
            "source_file": self.source_file,
            "source_row": self.source_row,
            "key": {k: conv(v) for k, v in self.key.items()},
            "values": {k: conv(v) for k, v in self.values.items()},
        }

    @staticmethod
    def short_of(row: dict[str, Any], order: list[str] | None = None) -> str:
        """``E0_2003.csv:17 E0 16/08/03 Arsenal Everton`` of a row in its ``to_json`` shape:
        the landing file's name and line, then the natural key's values (in ``order``, the
        failure's ``row_key``: a stored JSON object may come back with its keys sorted)."""
        file = row.get("source_file")
        where = str(file).replace("\\", "/").rsplit("/", 1)[-1] if file else "?"
        line = row.get("source_row")
        if line is not None:
            where += f":{line}"
        values = row.get("key") or {}
        names = [c for c in order or [] if c in values] or list(values)
        key = " ".join("-" if values[c] is None else str(values[c]) for c in names)
        return f"{where} {key}".strip()


@dataclass(frozen=True)
class Failure:
    """One expectation that evaluated and did not pass."""

    expectation: str
    column: str | None
    severity: str
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any] = field(default_factory=list)
    observed: Any = None
    notes: str = ""
    #: the first unexpected rows (at most the result format's partial_unexpected_count)
    rows: tuple[RowRef, ...] = ()
    #: the natural key columns each row's ``key`` holds, in order
    row_key: tuple[str, ...] = ()

    def to_json(
        self, *, sample_limit: int | None = None, observed: bool = False, plain: bool = False
    ) -> dict[str, Any]:
        """The failure as the ``--json`` runs show it; an alert's detail keeps at most
        ``sample_limit`` sample values and rows, adds ``observed`` and makes every value
        JSON-plain (``plain``: it is stored and sent as JSON)."""
        conv = json_plain if plain else _same
        sample = list(self.sample) if sample_limit is None else list(self.sample)[:sample_limit]
        rows = list(self.rows) if sample_limit is None else list(self.rows)[:sample_limit]
        out: dict[str, Any] = {
            "expectation": self.expectation,
            "column": self.column,
            "severity": self.severity,
            "unexpected_count": self.unexpected_count,
            "unexpected_percent": self.unexpected_percent,
            "sample": [conv(x) for x in sample],
            "row_key": list(self.row_key),
            "rows": [r.to_json(plain=plain) for r in rows],
        }
        if observed:
            out["observed"] = conv(self.observed)
        return out


@dataclass(frozen=True)
class CheckError:
    """One expectation that could not be evaluated (neither pass nor data failure)."""

    expectation: str
    column: str | None
    severity: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class ExpectationOutcome:
    """Per-expectation row kept in the store for trends and parity checks."""

    expectation: str
    column: str | None
    severity: str
    status: str  # passed | failed | error
    unexpected_count: int | None = None
    unexpected_percent: float | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of validating one batch against its suite."""

    run_id: str
    layer: str
    source: str
    dataset: str
    suite: str
    batch: str
    rows: int
    success: bool
    evaluated: int
    failed: int
    failures: tuple[Failure, ...]
    errors: tuple[CheckError, ...]
    outcomes: tuple[ExpectationOutcome, ...]
    started_at: datetime
    finished_at: datetime
    engine: str = "pandas"
    data_docs: str | None = None
    origin: str = "busta"  # busta | gx (a checkpoint run by a plain GX client)
    decision: Decision | None = None
    #: the judged batch's partition: the values of the partition columns its source kind
    #: declares for the dataset (e.g. league=E0, season=2003-04); part of an alert's subject
    partition: dict[str, str] = field(default_factory=dict)
    #: the batch's place in the store's batch sequence (None: landed before it existed)
    batch_seq: int | None = None

    @property
    def quality_score(self) -> float:
        """How much of the batch meets its critical and warning checks, 0..1
        (docs/suites.md#the-quality-score).

        The mean over the critical and warning expectations that ran (``info`` ones and ones
        that could not run do not count): a column check counts as the share of the batch's
        rows it found no fault in, a table-level check (row count, columns…) as 1 or 0.
        So 4 bad rows of 380 in one check of 20 cost 0.05% of the score, not 5%.
        """
        if not self.outcomes:  # a result without per-expectation outcomes: pass/fail share
            return 1.0 if self.evaluated == 0 else (self.evaluated - self.failed) / self.evaluated
        parts: list[float] = []
        for o in self.outcomes:
            if o.severity == Severity.INFO or o.status == "error":
                continue
            if o.status == "passed":
                parts.append(1.0)
            elif o.unexpected_count is not None and self.rows > 0:
                parts.append(max(0.0, 1.0 - o.unexpected_count / self.rows))
            else:
                parts.append(0.0)
        return sum(parts) / len(parts) if parts else 1.0

    @property
    def max_severity(self) -> str | None:
        sev = [Severity(f.severity) for f in self.failures]
        return max(sev, key=lambda s: s.rank).value if sev else None

    def has_failure_at(self, level: Severity) -> bool:
        return any(Severity(f.severity).rank >= level.rank for f in self.failures)

    @property
    def critical_errors(self) -> tuple[CheckError, ...]:
        return tuple(e for e in self.errors if e.severity == Severity.CRITICAL)

    def to_json(self) -> dict[str, Any]:
        """The documented ``runs[]`` shape of ``--json`` (docs/cli.md)."""
        return {
            "run_id": self.run_id,
            "layer": self.layer,
            "source": self.source,
            "dataset": self.dataset,
            "suite": self.suite,
            "batch": self.batch,
            "rows": self.rows,
            "success": self.success,
            "quality_score": round(self.quality_score, 4),
            "evaluated": self.evaluated,
            "failed": self.failed,
            "max_severity": self.max_severity,
            "decision": self.decision.value if self.decision else None,
            "failures": [f.to_json() for f in self.failures],
            "errors": [e.to_json() for e in self.errors],
            "data_docs": self.data_docs,
            "partition": dict(self.partition),
            "batch_seq": self.batch_seq,
        }


@dataclass(frozen=True)
class Signal:
    """A measured value the rule engine evaluates: from a gate, a probe or an analysis."""

    kind: str  # e.g. quality_score, critical_failures, response_time, failure_rate
    value: float
    labels: dict[str, str]
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    #: the judged batch's sequence number: an alert is changed only by an evaluation of a
    #: batch at least as new as the one that last updated it (None: not batch-based)
    seq: int | None = None


# source health -------------------------------------------------------------------------------
class ProbeStatus(StrEnum):
    """How one probe ended."""

    OK = "ok"
    #: the probe measured and a condition failed (HTTP 503, a stale file, too few rows)
    FAILED = "failed"
    #: the probe could not measure (connection refused, a bad query, the probe raised)
    ERROR = "error"
    #: no complete answer within the probe's total deadline
    TIMEOUT = "timeout"


#: metrics with their own store column (aggregated over windows, later rolled up)
PROBE_METRIC_COLUMNS: tuple[str, ...] = (
    "response_time_s",
    "freshness_s",
    "rows",
    "quota_remaining",
)


@dataclass(frozen=True)
class ProbeResult:
    """One run of one probe of one source (a row of ``probe_results``)."""

    source: str
    #: the probe's name (unique within its source; defaults to its type)
    probe: str
    probe_type: str
    started_at: datetime
    duration_s: float
    ok: bool
    status: ProbeStatus
    #: what the probe observed and judged: ``checks`` (name, ok, value, expected, message)
    #: and probe-specific facts (the URL with secrets masked, the HTTP status, files seen)
    detail: dict[str, Any] = field(default_factory=dict)
    #: why it failed, one line, secrets masked (None when ok)
    error: str | None = None
    #: numbers: ``response_time_s``, ``freshness_s``, ``rows``, ``quota_remaining``, …
    metrics: dict[str, float | None] = field(default_factory=dict)
    #: who ran it: ``cli`` (``busta sources probe``) or ``monitor``
    origin: str = "cli"
    #: the store's row id (None before it is recorded)
    id: int | None = None

    def metric(self, name: str) -> float | None:
        value = self.metrics.get(name)
        return None if value is None else float(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "probe": self.probe,
            "type": self.probe_type,
            "started_at": self.started_at.isoformat(),
            "duration_s": round(self.duration_s, 4),
            "ok": self.ok,
            "status": str(self.status),
            "error": self.error,
            "metrics": dict(self.metrics),
            "detail": json_plain(self.detail),
            "origin": self.origin,
        }


# time ----------------------------------------------------------------------------------------
def utcnow() -> datetime:
    """Now, as an aware UTC datetime (the one clock of busta's records)."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime; a naive one is taken to be UTC already (databases
    without time zones, e.g. SQLite, hand back naive values)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def json_plain(value: Any) -> Any:
    """``value`` as plain JSON types (what it becomes once stored or sent as JSON)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _same(value: Any) -> Any:
    return value


# alerting ------------------------------------------------------------------------------------
class AlertState(StrEnum):
    """Where an alert is in its life (docs/alerting.md has the state machine)."""

    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    SUPPRESSED = "suppressed"
    RESOLVED = "resolved"
    #: closed because its subject's data was replaced by a newer batch that the alert's rule
    #: did not judge (not a fix: left out of time-to-resolve figures)
    SUPERSEDED = "superseded"


#: an open alert may still change; one open alert per fingerprint
OPEN_STATES: tuple[AlertState, ...] = (
    AlertState.PENDING,
    AlertState.FIRING,
    AlertState.ACKNOWLEDGED,
    AlertState.SUPPRESSED,
)


class AlertEvent(StrEnum):
    """What a notification tells a channel."""

    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    #: a reminder: still firing, not acknowledged, ``repeat_interval`` after the last message
    REPEAT = "repeat"
    #: ``busta channels test`` (sent directly, never through the outbox)
    TEST = "test"


#: the events of an alert's life (every event but ``test``), in the documented order
ALERT_EVENTS: tuple[AlertEvent, ...] = (
    AlertEvent.FIRING,
    AlertEvent.RESOLVED,
    AlertEvent.ACKNOWLEDGED,
    AlertEvent.ESCALATED,
    AlertEvent.REPEAT,
)


class ChannelCatalog(Protocol):
    """What alerting knows of the configured channels (implemented by
    :func:`busta_quality.notify.registry.catalog`)."""

    def events(self, channel: str) -> frozenset[AlertEvent] | None:
        """The events ``channel`` receives; None when it is unknown or disabled."""
        ...


class AlertJSON(TypedDict, total=False):
    """An alert as ``busta alerts show --json`` shows it, without ``history`` and
    ``notifications``: the snapshot each notification carries to its channel."""

    id: int
    fingerprint: str
    rule: str
    state: str
    severity: str
    original_severity: str
    labels: dict[str, str]
    summary: str
    condition: str
    value: float | None
    threshold: float | None
    first_seen: str | None
    last_seen: str | None
    fired_at: str | None
    escalated_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    last_notified_at: str | None
    notified: bool
    suppressed_reason: str | None
    occurrences: int
    detail: dict[str, Any]
    batch_seq: int | None
    shadow: bool
    #: a grouped notification's snapshot: the group's id and its member alerts
    group: int
    digest: bool
    alerts: list[AlertJSON]


def _iso(v: datetime | None) -> str | None:
    return None if v is None else v.isoformat()


@dataclass(frozen=True)
class Alert:
    """One problem (rule + labels = ``fingerprint``) from its first occurrence until it is
    resolved: a row of the store's ``alerts`` table."""

    id: int
    fingerprint: str
    rule: str
    state: AlertState
    severity: Severity
    original_severity: Severity
    labels: dict[str, str]
    summary: str
    #: the rule's ``when`` as written
    condition: str
    value: float | None
    threshold: float | None
    #: the last signal's detail (run_id, batch, failures, Data Docs link)
    detail: dict[str, Any] | None
    first_seen: datetime
    last_seen: datetime
    fired_at: datetime | None = None
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    last_notified_at: datetime | None = None
    #: a ``firing`` notification was queued (only then is ``resolved`` sent)
    notified: bool = False
    suppressed_reason: str | None = None
    occurrences: int = 1
    #: consecutive evaluations the condition held while pending (``for: N``)
    streak: int = 1
    #: transitions that notified so far (part of each notification's idempotency key)
    seq: int = 0
    updated_at: datetime | None = None
    #: ``fingerprint`` while open, None once resolved (unique in the store)
    active_fingerprint: str | None = None
    #: the batch sequence number of the evaluation that raised or last updated the alert
    batch_seq: int | None = None
    #: raised by a ``mode: shadow`` rule: evaluated and recorded, never sent
    shadow: bool = False

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def to_json(self) -> AlertJSON:
        """The documented alert shape (``--json``, the REST API, every channel payload)."""
        return {
            "id": self.id,
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "state": self.state.value,
            "severity": self.severity.value,
            "original_severity": self.original_severity.value,
            "labels": dict(self.labels),
            "summary": self.summary,
            "condition": self.condition,
            "value": self.value,
            "threshold": self.threshold,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "fired_at": _iso(self.fired_at),
            "escalated_at": _iso(self.escalated_at),
            "acknowledged_at": _iso(self.acknowledged_at),
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": _iso(self.resolved_at),
            "last_notified_at": _iso(self.last_notified_at),
            "notified": bool(self.notified),
            "suppressed_reason": self.suppressed_reason,
            "occurrences": self.occurrences,
            "detail": self.detail or {},
            "batch_seq": self.batch_seq,
            "shadow": bool(self.shadow),
        }


class OutboxStatus(StrEnum):
    """Where a notification in the outbox stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    """How one delivery attempt ended (``in_flight`` until it does)."""

    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"
    #: the dispatcher died mid-send; its lease expired and another one took the row over
    ABANDONED = "abandoned"


def finite_float(value: Any) -> float | None:
    """A metric value as a finite float; None for None, booleans, text and NaN/inf."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def person_note(note: str | None, actor: str | None) -> str | None:
    """The note a person wrote on an acknowledge / resolve transition (``--note``); None for
    the text busta writes when none was given (``acknowledged by X``, ``resolved by hand``)."""
    if not note or not actor:
        return None
    if note in (f"acknowledged by {actor}", "resolved by hand"):
        return None
    return note
