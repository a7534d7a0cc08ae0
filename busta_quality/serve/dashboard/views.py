"""The dashboard's pages: health grid and service levels, quality history, trends, alerts,
maintenance windows, quarantine, sign-in. Reads need the read scope (a session, a bearer token
or ``serve.public_reads``); every form posts with the session's CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from busta_quality.errors import BustaError, NotFoundError, UsageError
from busta_quality.models import utcnow
from busta_quality.serve import figures
from busta_quality.serve import schemas as s
from busta_quality.serve.api import sign_in, state_of
from busta_quality.serve.auth import AuthError, Principal, same_origin
from busta_quality.serve.dashboard import charts
from busta_quality.serve.pages import data_docs_root
from busta_quality.serve.state import ServeState
from busta_quality.service import alerts as alert_ops
from busta_quality.service import history, quarantine, sources

BASE = "/dashboard"
#: seconds between the pages' own reloads (static/dashboard.js; 0: never)
REFRESH_S = 30
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
#: what a run id looks like (the API's own pattern)
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

router = APIRouter(prefix=BASE, include_in_schema=False)
root_router = APIRouter(include_in_schema=False)

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


# formatting ----------------------------------------------------------------------------------
def _when(value: Any) -> str:
    if not value:
        return "—"
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


env.filters["when"] = _when
env.filters["pct"] = _pct
env.filters["duration"] = _duration


# who -----------------------------------------------------------------------------------------
def _principal(st: ServeState, request: Request) -> Principal | None:
    """Who reads (None: sign in first); AuthError 403 for a credential without read."""
    try:
        return st.authorize(request, "read")
    except AuthError as exc:
        if exc.status == 401:
            return None
        raise


def _render(
    request: Request,
    st: ServeState,
    who: Principal | None,
    template: str,
    *,
    status: int = 200,
    refresh: int = REFRESH_S,
    **context: Any,
) -> HTMLResponse:
    csrf = st.sessions.csrf_token(who.session_id) if who and who.session_id else None
    html = env.get_template(template).render(
        base=BASE,
        page=template.removesuffix(".html"),
        who=who,
        csrf=csrf,
        can_write=bool(csrf and who and "write" in who.scopes),
        refresh=refresh,
        now=utcnow(),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _error(
    request: Request,
    st: ServeState,
    who: Principal | None,
    status: int,
    message: str,
    hint: str = "",
) -> HTMLResponse:
    return _render(
        request, st, who, "error.html", status=status, refresh=0, message=message, hint=hint
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{BASE}/login?{urlencode({'next': target})}", status_code=303)


def _reader(request: Request) -> tuple[ServeState, Principal | None, Response | None]:
    st = state_of(request)
    try:
        who = _principal(st, request)
    except AuthError as exc:
        return st, None, _error(request, st, None, exc.status, exc.message, exc.hint)
    return st, who, (_to_login(request) if who is None else None)


async def _writer(
    request: Request,
) -> tuple[ServeState, Principal | None, FormData, Response | None]:
    """The signed-in writer of a form post with a valid CSRF token, or the refusal (403)."""
    st = state_of(request)
    form = await request.form()
    cookie = request.cookies.get(st.cfg.serve.session.cookie)
    who = st.sessions.principal(cookie) if cookie else None
    if who is None or who.session_id is None:
        return (
            st,
            None,
            form,
            _error(request, st, None, 401, "sign in first", "a form needs a session"),
        )
    if request.headers.get("sec-fetch-site") == "cross-site" or not same_origin(
        request.headers.get("origin"), request.url.scheme, request.headers.get("host")
    ):
        return st, who, form, _error(request, st, who, 403, "cross-site request refused")
    token = form.get("csrf_token")
    if not isinstance(token, str) or not st.sessions.csrf_ok(who.session_id, token):
        return (
            st,
            who,
            form,
            _error(
                request,
                st,
                who,
                403,
                "missing or wrong CSRF token",
                "reload the page and try again",
            ),
        )
    if "write" not in who.scopes:
        return (
            st,
            who,
            form,
            _error(request, st, who, 403, f"token {who.name!r} has no write scope"),
        )
    return st, who, form, None


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(BASE + path, status_code=303)


# pages ---------------------------------------------------------------------------------------
@root_router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(f"{BASE}/", status_code=307)


@router.get("")
def dashboard_slash() -> RedirectResponse:
    return RedirectResponse(f"{BASE}/", status_code=307)


@router.get("/")
def health_page(request: Request) -> Response:
    """The health grid (a page of sources, worst first, and every source's status counted),
    the service levels of the page's sources and the open alerts."""
    st, who, early = _reader(request)
    if early is not None:
        return early
    raw = request.query_params.get("page") or "1"
    if not raw.isdigit() or not 0 < int(raw) <= 1_000_000:
        return _error(request, st, who, 400, f"page {raw!r} is not a page number", "1, 2, …")
    now = utcnow()
    try:
        grid = sources.health_page(st.cfg, st.store, int(raw), now=now)
    except BustaError as exc:
        return _error(request, st, who, 404, exc.message, exc.hint or "")
    names = [h.source for h in grid.sources]
    levels = figures.service_levels(st.cfg, st.store, now, sources=names)
    open_alerts = alert_ops.list_alerts(st.store, "open", 20).to_json()["alerts"]
    rows = []
    for h in grid.sources:
        row = h.to_json()
        row["baseline_s"] = h.windows["7d"].mean_response_time_s  # the 7-day mean
        rows.append(row)

    def href(n: int) -> str:
        return f"{BASE}/" if n == 1 else f"{BASE}/?page={n}"

    return _render(
        request, st, who, "health.html", sources=rows, levels=levels, alerts=open_alerts,
        grid={"total": grid.total, "counts": grid.counts, "page": grid.page,
              "pages": grid.pages, "first": (grid.page - 1) * sources.GRID_PAGE_SIZE + 1,
              "prev_href": href(grid.page - 1) if grid.page > 1 else None,
              "next_href": href(grid.page + 1) if grid.page < grid.pages else None},
    )  # fmt: skip


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{name} {value!r} is not a date", "use YYYY-MM-DD") from None


def data_docs_href(st: ServeState, value: str | None) -> str | None:
    """The ``/data-docs/`` address of a run's Data Docs page (None outside the site)."""
    if not value:
        return None
    raw = value.removeprefix("file://")
    try:
        rel = Path(raw).resolve().relative_to(data_docs_root(st.cfg).resolve())
    except (ValueError, OSError):
        return None
    return "/data-docs/" + rel.as_posix()


@router.get("/runs")
def runs_page(request: Request) -> Response:
    """Gate runs with filters, newest first, a keyset page at a time."""
    st, who, early = _reader(request)
    if early is not None:
        return early
    q = request.query_params
    filters = {
        k: (q.get(k) or None) for k in ("source", "layer", "dataset", "decision", "since", "until")
    }
    try:
        since = _day(filters["since"], "since")
        until = _day(filters["until"], "until")
        before_raw = q.get("before")
        before = int(before_raw) if before_raw and before_raw.isdigit() else None
        size_raw = q.get("limit") or ""
        size = (
            min(int(size_raw), MAX_PAGE_SIZE) if size_raw.isdigit() and int(size_raw) else PAGE_SIZE
        )
        page = history.list_runs(
            st.store,
            source=filters["source"],
            layer=filters["layer"],
            dataset=filters["dataset"],
            decision=filters["decision"],
            since=None if since is None else datetime.combine(since, time(), UTC),
            until=None
            if until is None
            else datetime.combine(until + timedelta(days=1), time(), UTC),
            before=before,
            limit=size,
        )
    except BustaError as exc:
        return _render(
            request, st, who, "runs.html", status=400, runs=[], filters=filters, next_href=None,
            error=exc.message, layers=history.LAYERS, decisions=history.DECISIONS,
            source_names=sorted(st.cfg.sources),
        )  # fmt: skip
    runs = [history.run_json(r) for r in page.runs]
    for run in runs:
        run["docs_href"] = data_docs_href(st, run["data_docs"])
    next_href = None
    if page.next_before is not None:
        kept: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if size != PAGE_SIZE:
            kept["limit"] = size
        next_href = f"{BASE}/runs?" + urlencode({**kept, "before": page.next_before})
    return _render(
        request, st, who, "runs.html", runs=runs, filters=filters, next_href=next_href,
        error=None, layers=history.LAYERS, decisions=history.DECISIONS,
        source_names=sorted(st.cfg.sources), first_page=before is None,
    )  # fmt: skip


RANGES = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
          "90d": timedelta(days=90), "365d": timedelta(days=365)}  # fmt: skip


@router.get("/trends")
def trends_page(request: Request) -> Response:
    """Per-suite quality score and per-expectation unexpected % over a range, as charts."""
    st, who, early = _reader(request)
    if early is not None:
        return early
    q = request.query_params
    span = q.get("range") or "30d"
    if span not in RANGES:
        span = "30d"
    until = utcnow()
    since = until - RANGES[span]
    error = None
    try:  # From / To (whole UTC days) override the range
        first, last = _day(q.get("since"), "from"), _day(q.get("until"), "to")
    except UsageError as exc:
        first = last = None
        error = exc.message
    if last is not None:
        until = datetime.combine(last + timedelta(days=1), time(), UTC)
    if first is not None:
        since = datetime.combine(first, time(), UTC)
    elif last is not None:
        since = until - RANGES[span]
    if since >= until:
        error, since = "the range is empty: 'from' must come before 'to'", until - RANGES[span]
    suite = q.get("suite") or None
    names = sorted(st.cfg.sources)
    scores = figures.suite_scores(st.store, names, since, until, suite=suite)
    unexpected = figures.unexpected_percent(st.store, names, since, until, suite=suite)
    return _render(
        request, st, who, "trends.html",
        score_chart=charts.line_chart("Quality score by suite", scores.series, y_max=100.0),
        unexpected_chart=charts.line_chart("Unexpected % by expectation", unexpected.series),
        bucket=scores.bucket, ranges=list(RANGES), span=span, suite=suite,
        suite_names=figures.suites(st.store, names, since, until), error=error,
        first=q.get("since") or "", last=q.get("until") or "", since=since, until=until,
        status=400 if error else 200,
    )  # fmt: skip


@router.get("/alerts")
def alerts_page(request: Request) -> Response:
    """Open alerts with acknowledge and resolve buttons."""
    st, who, early = _reader(request)
    if early is not None:
        return early
    open_alerts = alert_ops.list_alerts(st.store, "open", 200).to_json()["alerts"]
    return _render(request, st, who, "alerts.html", alerts=open_alerts)


@router.post("/alerts/{alert_id}/{action}")
async def alert_action(request: Request, alert_id: int, action: str) -> Response:
    st, who, _form, refused = await _writer(request)
    if refused is not None:
        return refused
    assert who is not None
    try:
        if action == "ack":
            alert_ops.acknowledge_alert(st.cfg, st.store, alert_id, by=who.name)
        elif action == "resolve":
            alert_ops.resolve_alert(st.cfg, st.store, alert_id, by=who.name)
        else:
            return _error(request, st, who, 404, f"unknown action {action!r}")
    except BustaError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 400
        return _error(request, st, who, status, exc.message, exc.hint)
    return _back("/alerts")


@router.get("/maintenance")
def maintenance_page(request: Request) -> Response:
    st, who, early = _reader(request)
    if early is not None:
        return early
    windows = alert_ops.list_windows(st.cfg, st.store).to_json()["windows"]
    return _render(request, st, who, "maintenance.html", windows=windows, refresh=0, error=None)


@router.post("/maintenance")
async def maintenance_add(request: Request) -> Response:
    st, who, form, refused = await _writer(request)
    if refused is not None:
        return refused
    assert who is not None

    def field(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    match = tuple(m for m in (field("match") or "").replace(",", " ").split() if m)
    start = field("start")
    spec = alert_ops.WindowSpec(
        name=field("name") or "", match=match, start=start, end=field("end"),
        duration=field("duration"), comment=field("comment") or "", by=who.name,
    )  # fmt: skip
    try:
        if not spec.name:
            raise UsageError("a window needs a name", "fill in the name field")
        alert_ops.add_window(st.store, spec)
    except BustaError as exc:
        windows = alert_ops.list_windows(st.cfg, st.store).to_json()["windows"]
        return _render(
            request, st, who, "maintenance.html", status=400, windows=windows, refresh=0,
            error=f"{exc.message} ({exc.hint})" if exc.hint else exc.message,
        )  # fmt: skip
    return _back("/maintenance")


@router.post("/maintenance/{window_id}/end")
async def maintenance_end(request: Request, window_id: int) -> Response:
    st, who, _form, refused = await _writer(request)
    if refused is not None:
        return refused
    try:
        alert_ops.end_window(st.cfg, st.store, window_id)
    except BustaError as exc:
        return _error(request, st, who, 404, exc.message, exc.hint)
    return _back("/maintenance")


@router.get("/quarantine")
def quarantine_page(request: Request) -> Response:
    st, who, early = _reader(request)
    if early is not None:
        return early
    runs = quarantine.list_quarantined(st.cfg).to_json()["quarantined"]
    return _render(request, st, who, "quarantine.html", runs=runs)


@router.get("/quarantine/{run_id}")
def quarantine_show(request: Request, run_id: str) -> Response:
    st, who, early = _reader(request)
    if early is not None:
        return early
    if not RUN_ID.fullmatch(run_id):
        return _error(request, st, who, 404, f"no quarantined run {run_id!r}")
    try:
        detail = quarantine.show_quarantined(st.cfg, st.store, run_id).to_json()
    except BustaError as exc:
        return _error(request, st, who, 404, exc.message, exc.hint)
    return _render(request, st, who, "quarantine_show.html", detail=detail)


# signing in ----------------------------------------------------------------------------------
def _safe_next(value: Any) -> str:
    """Only a path of the dashboard (never another site) to go to after signing in."""
    if (
        isinstance(value, str)
        and value.startswith(BASE + "/")
        and "//" not in value
        and "\\" not in value
    ):
        return value
    return BASE + "/"


@router.get("/login")
def login_page(request: Request) -> Response:
    st = state_of(request)
    return _render(
        request, st, None, "login.html", refresh=0, error=None,
        next=_safe_next(request.query_params.get("next")),
    )  # fmt: skip


@router.post("/login")
async def login(request: Request) -> Response:
    """Exchange a token (a form field: never in a URL) for a session cookie."""
    st = state_of(request)
    form = await request.form()
    token = form.get("token")
    target = _safe_next(form.get("next"))
    response = RedirectResponse(target, status_code=303)
    try:
        if not isinstance(token, str) or not token.strip() or len(token) > 512:
            raise AuthError(401, "unauthorized", "enter a token")
        sign_in(request, response, st, s.SessionIn(token=token.strip()))
    except AuthError as exc:
        return _render(
            request,
            st,
            None,
            "login.html",
            status=exc.status,
            refresh=0,
            error=exc.message,
            next=target,
        )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    st, who, _form, refused = await _writer_any(request)
    if refused is not None:
        return refused
    assert who is not None and who.session_id is not None
    st.sessions.end(who.session_id)
    response = RedirectResponse(f"{BASE}/login", status_code=303)
    response.delete_cookie(st.cfg.serve.session.cookie, path="/")
    return response


async def _writer_any(
    request: Request,
) -> tuple[ServeState, Principal | None, FormData, Response | None]:
    """Like :func:`_writer`, without needing the write scope (signing out)."""
    st, who, form, refused = await _writer(request)
    if (
        refused is not None
        and refused.status_code == 403
        and who is not None
        and "write" not in who.scopes
    ):
        token = form.get("csrf_token")
        if who.session_id and isinstance(token, str) and st.sessions.csrf_ok(who.session_id, token):
            return st, who, form, None
    return st, who, form, refused
