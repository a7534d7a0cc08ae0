"""``/api/v1``: one operation per service function, the CLI's ``--json`` shapes (docs/api.md).

Reads need the ``read`` scope (or ``serve.public_reads``), writes ``write``, ingest
``ingest``; the acting token's name is recorded as who acknowledged, resolved, released..."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.security import APIKeyCookie, HTTPBearer

from busta_quality import service
from busta_quality.errors import NotFoundError, UsageError
from busta_quality.serve import schemas as s
from busta_quality.serve.auth import AuthError, Principal
from busta_quality.serve.ingest import MAX_UPLOADS
from busta_quality.serve.state import ServeState
from busta_quality.service import alerts as alert_ops
from busta_quality.service import history, quarantine, sources

MAX_ID = 2**63 - 1
#: what every operation may answer besides its success (docs/api.md#errors)
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": s.ErrorBody, "description": "bad input (usage_error)"},
    401: {"model": s.ErrorBody, "description": "no token, or a wrong one"},
    403: {"model": s.ErrorBody, "description": "not allowed (scope, CSRF, a path)"},
    404: {"model": s.ErrorBody, "description": "not found"},
    422: {"model": s.ErrorBody, "description": "invalid parameters or body"},
}
router = APIRouter(responses=ERRORS)

# declared so that the OpenAPI document names both ways in; checked by ServeState.authorize
_bearer = HTTPBearer(auto_error=False, description="a token of serve.tokens")
_cookie = APIKeyCookie(
    name="busta_session", auto_error=False, description="a session (POST /api/v1/session)"
)


def state_of(request: Request) -> ServeState:
    st: ServeState = request.app.state.busta
    return st


def needs(scope: str) -> Callable[..., Principal]:
    def dependency(
        request: Request,
        _b: Annotated[Any, Depends(_bearer)],
        _c: Annotated[Any, Depends(_cookie)],
    ) -> Principal:
        return state_of(request).authorize(request, scope)

    return dependency


State = Annotated[ServeState, Depends(state_of)]
Reader = Annotated[Principal, Depends(needs("read"))]
Writer = Annotated[Principal, Depends(needs("write"))]
Ingester = Annotated[Principal, Depends(needs("ingest"))]
Limit = Annotated[int, Query(ge=1, le=history.MAX_LIMIT, description="page size")]
Before = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="the next_before of the previous page")
]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
WindowId = Annotated[int, Path(ge=1, le=MAX_ID)]
RunId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, Path(min_length=1, max_length=64)]


# sources -------------------------------------------------------------------------------------
@router.get("/sources", response_model=s.SourceListOut, tags=["sources"])
def list_sources(st: State, _who: Reader) -> Any:
    """Every configured source: kind, probes (secrets masked), SLA targets (`busta sources list`)."""
    return sources.list_sources(st.cfg).to_json()


@router.get("/sources/health", response_model=s.HealthOut, tags=["sources"])
def health(st: State, _who: Reader) -> Any:
    """Every source's health from the store (`busta sources health`)."""
    return sources.sources_health(st.cfg, st.store).to_json()


@router.get("/sources/{source}/health", response_model=s.HealthOut, tags=["sources"])
def source_health(st: State, _who: Reader, source: Name) -> Any:
    """One source's health (`busta sources health SOURCE`)."""
    return sources.sources_health(st.cfg, st.store, source).to_json()


@router.get("/sources/{source}/probes", response_model=s.ProbeHistoryOut, tags=["sources"])
def probe_history(
    st: State,
    _who: Reader,
    source: Name,
    probe: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(description="ok, failed, error, timeout")] = None,
    before: Before = None,
    limit: Limit = 100,
) -> Any:
    """A source's recorded probe results, newest first, a page at a time."""
    return history.probe_history(
        st.cfg, st.store, source, probe=probe, status=status, before=before, limit=limit
    ).to_json()


# runs ----------------------------------------------------------------------------------------
@router.get("/runs", response_model=s.RunPageOut, tags=["runs"])
def list_runs(
    st: State,
    _who: Reader,
    source: Annotated[str | None, Query(max_length=64)] = None,
    layer: Annotated[str | None, Query(description="bronze, silver, gold")] = None,
    dataset: Annotated[str | None, Query(max_length=64)] = None,
    decision: Annotated[str | None, Query(description="promoted, quarantined, recorded")] = None,
    run_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="finished at or after (ISO)")] = None,
    until: Annotated[datetime | None, Query(description="finished before (ISO)")] = None,
    before: Before = None,
    limit: Limit = 100,
) -> Any:
    """Recorded gate runs, newest first, filtered; `next_before` asks for the next page."""
    return history.list_runs(
        st.store, source=source, layer=layer, dataset=dataset, decision=decision,
        run_id=run_id, since=since, until=until, before=before, limit=limit,
    ).to_json()  # fmt: skip


@router.get("/runs/{run}", response_model=s.RunDetailOut, tags=["runs"])
def show_run(
    st: State,
    _who: Reader,
    run: Annotated[int, Path(ge=1, le=MAX_ID, description="the run's `id`")],
    status: Annotated[str | None, Query(description="passed, failed, error")] = None,
    severity: Annotated[str | None, Query(description="critical, warning, info")] = None,
) -> Any:
    """One gate run and its per-expectation results."""
    return history.show_run(st.store, run, status=status, severity=severity).to_json()


# alerts --------------------------------------------------------------------------------------
@router.get("/alerts", response_model=s.AlertListOut, tags=["alerts"])
def list_alerts(
    st: State,
    _who: Reader,
    state: Annotated[str, Query(description=", ".join(alert_ops.STATE_CHOICES))] = "open",
    shadow: bool = False,
    limit: Limit = 200,
) -> Any:
    """Alerts, newest first (`busta alerts list`)."""
    return alert_ops.list_alerts(st.store, state, limit, shadow=shadow).to_json()


@router.get("/alerts/{alert_id}", response_model=s.AlertDetailOut, tags=["alerts"])
def show_alert(st: State, _who: Reader, alert_id: AlertId) -> Any:
    """One alert, its history and every notification attempt (`busta alerts show`)."""
    return alert_ops.show_alert(st.store, alert_id).to_json()


@router.post("/alerts/{alert_id}/ack", response_model=s.AlertOut, tags=["alerts"])
def acknowledge(st: State, who: Writer, alert_id: AlertId, body: s.NoteIn | None = None) -> Any:
    """Acknowledge, as the token's name, with an optional note; channels are told
    (`busta alerts ack --note`)."""
    note = body.note if body else None
    return alert_ops.acknowledge_alert(st.cfg, st.store, alert_id, by=who.name, note=note).to_json()


@router.post("/alerts/{alert_id}/resolve", response_model=s.AlertOut, tags=["alerts"])
def resolve(st: State, who: Writer, alert_id: AlertId, body: s.NoteIn | None = None) -> Any:
    """Resolve by hand, as the token's name, with an optional note of how
    (`busta alerts resolve --note`)."""
    note = body.note if body else None
    return alert_ops.resolve_alert(st.cfg, st.store, alert_id, by=who.name, note=note).to_json()


# service levels and trends -------------------------------------------------------------------
@router.get("/sla", response_model=s.SlaOut, tags=["sources"])
def sla(
    st: State,
    _who: Reader,
    window: Annotated[str | None, Query(max_length=16, examples=["30d"])] = None,
    month: Annotated[str | None, Query(max_length=7, examples=["2026-11"])] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    """Uptime with coverage, quality SLA, error budget, MTTA and MTTR per source (`busta
    sla`): the rolling window (default 30d) and the calendar month."""
    from busta_quality.service.sla import sla_report

    return sla_report(st.cfg, st.store, window=window, month=month, source=source).to_json()


@router.get("/trends", response_model=s.TrendsOut, tags=["runs"])
def trends(
    st: State,
    _who: Reader,
    since: Annotated[datetime | None, Query(description="from (ISO; default: 30 days ago)")] = None,
    until: Annotated[datetime | None, Query(description="to (ISO; default: now)")] = None,
    source: Annotated[str | None, Query(max_length=64)] = None,
    suite: Annotated[str | None, Query(max_length=128)] = None,
) -> Any:
    """Quality score per suite and unexpected % per expectation over time, in hour, day or
    month buckets by the span (at most 8 series each: the worst); cost independent of
    history (the dashboard's trend charts)."""
    from busta_quality.models import as_utc, utcnow
    from busta_quality.serve import figures

    end = as_utc(until) if until else utcnow()
    start = as_utc(since) if since else end - figures.SLA_WINDOW
    if start >= end:
        raise UsageError("since must be before until", "e.g. since=2026-11-01T00:00:00Z")
    names = [source] if source else sorted(st.cfg.sources)
    scores = figures.suite_scores(st.store, names, start, end, suite=suite)
    unexpected = figures.unexpected_percent(st.store, names, start, end, suite=suite)

    def series(t: Any) -> list[dict[str, Any]]:
        return [{"name": n, "points": pts} for n, pts in t.series.items()]

    return {
        "since": start.isoformat(),
        "until": end.isoformat(),
        "bucket": scores.bucket,
        "quality_score": series(scores),
        "unexpected_percent": series(unexpected),
    }


# maintenance ---------------------------------------------------------------------------------
@router.get("/maintenance", response_model=s.WindowListOut, tags=["maintenance"])
def list_windows(st: State, _who: Reader, all: bool = False) -> Any:
    """Windows from busta.yml and the store; `all`: ended ones too."""
    return alert_ops.list_windows(st.cfg, st.store, include_ended=all).to_json()


@router.post("/maintenance", response_model=s.WindowOut, status_code=201, tags=["maintenance"])
def add_window(st: State, who: Writer, body: s.WindowIn) -> Any:
    """Add a one-off or recurring window (`busta maintenance add`), by the token's name."""
    spec = alert_ops.WindowSpec(
        name=body.name, match=tuple(body.match), start=body.start, end=body.end,
        duration=body.duration, cron=body.cron, timezone=body.timezone, comment=body.comment,
        by=who.name,
    )  # fmt: skip
    return alert_ops.add_window(st.store, spec).to_json()


@router.post("/maintenance/{window_id}/end", response_model=s.WindowEndedOut, tags=["maintenance"])
def end_window(st: State, _who: Writer, window_id: WindowId) -> Any:
    """End a stored window now (`busta maintenance end`)."""
    return alert_ops.end_window(st.cfg, st.store, window_id).to_json()


# quarantine ----------------------------------------------------------------------------------
@router.get("/quarantine", response_model=s.QuarantineListOut, tags=["quarantine"])
def list_quarantined(st: State, _who: Reader) -> Any:
    """Every run's quarantined layer, oldest first (`busta quarantine list`)."""
    return quarantine.list_quarantined(st.cfg).to_json()


@router.get("/quarantine/{run_id}", response_model=s.QuarantineDetailOut, tags=["quarantine"])
def show_quarantined(st: State, _who: Reader, run_id: RunId) -> Any:
    """Why a run is quarantined and every action on it (`busta quarantine show`)."""
    return quarantine.show_quarantined(st.cfg, st.store, run_id).to_json()


async def _quarantine(st: ServeState, action: str, run_id: str, who: Principal, reason: Any) -> Any:
    return await st.in_gate_process("quarantine", action, run_id, reason=reason, actor=who.name)


@router.post(
    "/quarantine/{run_id}/release", response_model=s.QuarantineActionOut, tags=["quarantine"]
)
async def release(st: State, who: Writer, run_id: RunId, body: s.ReasonIn) -> Any:
    """Promote the reviewed batches whatever their checks say, then build the layers below
    (`busta quarantine release`); `reason` is required. Runs on the gate worker."""
    return await _quarantine(st, "release", run_id, who, body.reason)


@router.post(
    "/quarantine/{run_id}/replay", response_model=s.QuarantineActionOut, tags=["quarantine"]
)
async def replay(st: State, who: Writer, run_id: RunId, body: s.ReasonIn) -> Any:
    """Re-gate the batches with the suites as they are now (`busta quarantine replay`)."""
    return await _quarantine(st, "replay", run_id, who, body.reason)


# channels and lake -------------------------------------------------------------------------
@router.get("/channels", response_model=s.ChannelListOut, tags=["channels"])
def list_channels(st: State, _who: Reader) -> Any:
    """Configured channels, secrets masked (`busta channels list`)."""
    return alert_ops.list_channels(st.cfg).to_json()


@router.post("/channels/{name}/test", response_model=s.ChannelTestOut, tags=["channels"])
def test_channel(st: State, _who: Writer, name: Name) -> Any:
    """Send a test message now (`busta channels test`); `ok` says whether it was delivered."""
    if name not in st.cfg.alerting.channels:
        raise NotFoundError(f"unknown channel {name!r}", "list channels with GET /api/v1/channels")
    return alert_ops.send_test_message(st.cfg, name).to_json()


@router.get("/lake/versions", response_model=s.LakeVersionsOut, tags=["lake"])
def lake_versions(st: State, _who: Reader) -> Any:
    """The table versions readers read, per layer (`busta lake versions`)."""
    return service.lake_versions(st.cfg, st.store).to_json()


# ingest --------------------------------------------------------------------------------------
@router.post("/ingest", response_model=s.IngestOut, tags=["ingest"])
async def ingest(
    request: Request,
    st: State,
    _who: Ingester,
    source: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[list[UploadFile] | None, File(description="landing files")] = None,
    path: Annotated[list[str] | None, Form(description="paths under serve.ingest_roots")] = None,
) -> Any:
    """`busta ingest SOURCE ...` in this warm process: uploaded files (within
    `ingest.limits`) and/or paths under `serve.ingest_roots` (anything else: 403). Ingests
    run one at a time on the gate worker; the answer carries every batch's decision and the
    exit code the CLI would have exited with (200 whatever the decisions)."""
    from busta_quality.serve import ingest as gate

    st.cfg.source(source)  # unknown source: 400 before anything is written
    if len(file or []) > MAX_UPLOADS:
        raise UsageError(f"at most {MAX_UPLOADS} files per request", "send several requests")
    paths = [gate.allowed_path(st.cfg, p) for p in path or []]
    paths += [await gate.save_upload(st.cfg, f) for f in file or []]
    if not paths:
        raise UsageError("give a file or a path to ingest", "multipart fields: file, path")
    return await st.ingest(source, [str(p) for p in paths])


@router.get("/data-docs/status", response_model=s.DataDocsStatusOut, tags=["ingest"])
def data_docs_status(st: State, _who: Reader) -> Any:
    """The Data Docs pages of this server's ingests: an ingest answers once its decisions are
    committed and its pages are queued; they are rendered in the server's Data Docs process
    (`state` `queued` or `rendering` until then, `idle` when every page is rendered, `off`
    when Data Docs are off)."""
    return st.docs_queue().status()


# session -------------------------------------------------------------------------------------
@router.post("/session", response_model=s.SessionOut, tags=["session"])
def sign_in(request: Request, response: Response, st: State, body: s.SessionIn) -> Any:
    """Exchange a token for a session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS)
    for the dashboard; writes with the cookie need the returned `csrf_token` as the
    `X-CSRF-Token` header. The token goes in the body, never in a URL."""
    from busta_quality.serve.auth import match_token, same_origin

    if not same_origin(
        request.headers.get("origin"), request.url.scheme, request.headers.get("host")
    ):
        raise AuthError(403, "forbidden", "cross-site request refused")
    who = match_token(st.cfg, body.token)
    if who is None:
        raise AuthError(401, "unauthorized", "unknown token")
    cookie, csrf, expires = st.sessions.create(who)
    conf = st.cfg.serve.session
    https = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        conf.cookie,
        cookie,
        max_age=int(conf.ttl_s),
        httponly=True,
        samesite="strict",
        secure=conf.secure == "always" or (conf.secure == "auto" and https),
        path="/",
    )
    return {"name": who.name, "scopes": list(who.scopes), "expires_at": expires, "csrf_token": csrf}


@router.get("/session", response_model=s.WhoAmIOut, tags=["session"])
def whoami(who: Reader) -> Any:
    """Who the request is authenticated as."""
    return {"name": who.name, "scopes": list(who.scopes), "via": who.via}


@router.delete("/session", status_code=204, tags=["session"])
def sign_out(request: Request, st: State) -> Response:
    """End the cookie's session on every replica (needs its CSRF token)."""
    cookie = request.cookies.get(st.cfg.serve.session.cookie)
    who = st.sessions.principal(cookie) if cookie else None
    if who is not None:
        st.check_csrf(request, who)
        assert who.session_id is not None
        st.sessions.end(who.session_id)
    response = Response(status_code=204)
    response.delete_cookie(st.cfg.serve.session.cookie, path="/")
    return response
