"""The OpenAPI shapes of the REST API: the CLI's ``--json`` objects (docs/cli.md,
docs/alerting.md), with their main fields typed; every object may carry more fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """A JSON object whose documented fields are typed; others may follow."""

    model_config = ConfigDict(extra="allow")


class Closed(BaseModel):
    """A request body: unknown fields are errors (422)."""

    model_config = ConfigDict(extra="forbid")


# errors --------------------------------------------------------------------------------------
class ErrorDetail(Open):
    code: str = Field(description="not_found, usage_error, unauthorized, forbidden, ...")
    message: str
    hint: str = ""


class ErrorBody(Closed):
    """Every error: the CLI's ``--json`` error object (docs/api.md#errors)."""

    ok: bool = False
    exit_code: int = Field(description="the CLI's exit code for the same error (docs/cli.md)")
    error: ErrorDetail


# sources -------------------------------------------------------------------------------------
class SourceOut(Open):
    name: str
    kind: str
    probes: list[dict[str, Any]]


class SourceListOut(Open):
    sources: list[SourceOut]


class SourceHealthOut(Open):
    source: str
    status: str


class HealthOut(Open):
    at: str
    sources: list[SourceHealthOut]


class ProbeResultOut(Open):
    id: int | None
    source: str
    probe: str
    status: str
    ok: bool
    started_at: str


class ProbeHistoryOut(Open):
    source: str
    count: int
    results: list[ProbeResultOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


# runs ----------------------------------------------------------------------------------------
class RunOut(Open):
    id: int
    run_id: str
    layer: str
    source: str
    dataset: str
    suite: str
    rows: int
    success: bool
    quality_score: float
    evaluated: int
    failed: int
    errors: int
    max_severity: str | None
    decision: str | None
    data_docs: str | None
    started_at: str | None
    finished_at: str | None


class ResultOut(Open):
    id: int
    expectation: str
    column: str | None
    severity: str
    status: str
    unexpected_count: int | None
    unexpected_percent: float | None
    detail: Any = None


class RunPageOut(Open):
    count: int
    runs: list[RunOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class RunDetailOut(RunOut):
    results: list[ResultOut]


# alerts and maintenance ------------------------------------------------------------------
class AlertOut(Open):
    id: int
    rule: str
    state: str
    severity: str
    labels: dict[str, Any]
    acknowledged_by: str | None


class AlertListOut(Open):
    state: str
    shadow: bool
    count: int
    alerts: list[AlertOut]


class AlertDetailOut(AlertOut):
    history: list[dict[str, Any]]
    notifications: list[dict[str, Any]]


class WindowOut(Open):
    name: str
    active: bool


class WindowListOut(Open):
    count: int
    windows: list[WindowOut]


class WindowIn(Closed):
    """A window as ``busta maintenance add`` takes it: one-off (``start``/``end``, or
    ``start`` or now + ``duration``) or recurring (``cron`` + ``duration`` in ``timezone``)."""

    name: str = Field(min_length=1, max_length=128)
    match: list[str] = Field(default_factory=list, description="LABEL=VALUE (VALUE may be a|b)")
    start: str | None = None
    end: str | None = None
    duration: str | None = Field(default=None, examples=["2h"])
    cron: str | None = None
    timezone: str = "UTC"
    comment: str = ""


class WindowEndedOut(Open):
    id: int
    ended: bool
    changed_alerts: list[AlertOut]


# quarantine ------------------------------------------------------------------------------
class QuarantineListOut(Open):
    quarantined: list[dict[str, Any]]


class QuarantineDetailOut(Open):
    state: str
    run_id: str
    layer: str
    actions: list[dict[str, Any]]


class ReasonIn(Closed):
    reason: str | None = Field(default=None, max_length=2000)


class NoteIn(Closed):
    """What is being done (ack) or how it was resolved (resolve): shown in ``alerts show``
    and in the MTTR breakdown of ``busta sla``."""

    note: str | None = Field(default=None, max_length=2000)


class SlaOut(Open):
    """``busta sla --json`` (docs/sources.md#sla-and-mttr)."""

    at: str
    maintenance: str
    reliable_coverage: float
    windows: list[dict[str, Any]]


class TrendSeries(Open):
    name: str
    points: list[tuple[str, float]] = Field(description="(bucket start, value) pairs")


class TrendsOut(Open):
    since: str
    until: str
    bucket: str = Field(description="hour, day or month: the points' width")
    quality_score: list[TrendSeries] = Field(description="mean quality score % per suite")
    unexpected_percent: list[TrendSeries] = Field(
        description="mean unexpected % per expectation (and column)"
    )


class QuarantineActionOut(Open):
    ok: bool
    exit_code: int
    action: str
    run_id: str
    layer: str
    actor: str
    outcome: str
    runs: list[dict[str, Any]]


# channels, lake, ingest, session ---------------------------------------------------------
class ChannelListOut(Open):
    count: int
    channels: list[dict[str, Any]]


class ChannelTestOut(Open):
    channel: str
    ok: bool


class LakeVersionsOut(Open):
    lake: str
    layers: dict[str, dict[str, Any] | None]


class IngestOut(Open):
    """``busta ingest --json``: the per-batch decisions and the exit code they map to."""

    ok: bool
    exit_code: int
    runs: list[dict[str, Any]]
    inputs: list[dict[str, Any]] | None = None
    input_errors: list[dict[str, Any]] = Field(default_factory=list)


class DataDocsStatusOut(Open):
    """The state of the Data Docs pages the server's ingests queued."""

    state: Literal["off", "idle", "queued", "rendering"]
    queued_pages: int = Field(description="pages waiting for the next render")
    rendering_pages: int = Field(description="pages of the render in progress")
    rendered_pages: int = Field(description="pages rendered since the server started")
    dropped_pages: int = Field(description="pages of renders that failed twice")
    last_rendered_at: str | None
    last_error: str | None = Field(description="the last failed render's error (masked)")


class SessionIn(Closed):
    token: str = Field(min_length=1, max_length=512)


class SessionOut(Open):
    name: str
    scopes: list[str]
    expires_at: str
    csrf_token: str = Field(description=f"send it as the {'X-CSRF-Token'} header of every write")


class WhoAmIOut(Open):
    name: str
    scopes: list[str]
    via: str


class PingOut(Open):
    ok: bool
    version: str
