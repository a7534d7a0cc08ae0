"""The ASGI app: its state (config, store, sessions, the gate worker), the one JSON error
shape, request metrics, the lifespan (and the hook where the monitor loop runs)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from busta_quality.errors import (
    BustaError,
    ConfigError,
    ExitCode,
    InputError,
    InputNotFound,
    InputRejected,
    InternalError,
    NotFoundError,
    StoreError,
    UsageError,
)
from busta_quality.serve.auth import AuthError, Sessions
from busta_quality.serve.ingest import MAX_UPLOADS
from busta_quality.serve.state import ServeState
from busta_quality.settings import BustaConfig
from busta_quality.store import Store, open_store

log = logging.getLogger("busta.serve")
API = "/api/v1"


class Background(Protocol):
    """Work that runs beside the API for the process's life (the monitor loop)."""

    def stop(self, timeout_s: float) -> None: ...


def start_monitor(cfg: BustaConfig, store: Store) -> Background | None:
    """Start ``busta monitor``'s loop (probes, rules, timers, outbox) in this process and
    return it (None when no source has probes); ``busta serve --no-monitor`` never calls
    this. The loop's leases keep its work single across replicas on PostgreSQL; on SQLite a
    second monitor (another server, ``busta monitor``) refuses to run, logged here."""
    from busta_quality.service.monitor import start_background_monitor

    return start_background_monitor(cfg, store)


# errors ----------------------------------------------------------------------------------
def http_status(exc: BustaError) -> int:
    """The HTTP status of a busta error (its exit code stays in the body)."""
    if isinstance(exc, InputRejected):
        return 413 if exc.limit == "max_file_bytes" else 422
    if isinstance(exc, NotFoundError | InputNotFound):
        return 404
    if isinstance(exc, UsageError | ConfigError):
        return 400
    if isinstance(exc, StoreError):
        return 503
    if isinstance(exc, InputError):
        return 400
    return 500


def error_response(
    status: int, body: dict[str, Any], exit_code: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "exit_code": exit_code, "error": body}, status_code=status, headers=headers
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BustaError)
    async def busta_error(_request: Request, exc: BustaError) -> JSONResponse:
        return error_response(http_status(exc), exc.to_dict(), int(exc.exit_code))

    @app.exception_handler(AuthError)
    async def auth_error(_request: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        return error_response(exc.status, body, int(ExitCode.USAGE), headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            ".".join(str(x) for x in e.get("loc", ())) + ": " + str(e.get("msg", ""))
            for e in exc.errors()
        ]
        body = {
            "code": "usage_error",
            "message": problems[0] if problems else "invalid request",
            "hint": "see the OpenAPI document at /api/v1/openapi.json",
            "problems": problems,
        }
        return error_response(422, body, int(ExitCode.USAGE))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"code": code, "message": str(exc.detail), "hint": ""}
        return error_response(exc.status_code, body, int(ExitCode.USAGE), exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        err = InternalError(
            f"unexpected {type(exc).__name__}: {exc}", "this is a bug in busta-quality"
        )
        return error_response(500, err.to_dict(), int(err.exit_code))


# the app ---------------------------------------------------------------------------------
def create_app(cfg: BustaConfig, *, monitor: bool = True, warm: bool = False) -> FastAPI:
    """The app over ``cfg``'s store: the API, ``/metrics``, ``/data-docs/``, ``/healthz``.
    ``monitor``: run the monitor loop in the lifespan (:func:`start_monitor`); ``warm``:
    import the gate's modules on the gate worker at start (the first ingest waits for it)."""
    from busta_quality import __version__
    from busta_quality.serve import api, pages

    store = open_store(cfg.store_url)
    state = ServeState(cfg, store, Sessions(cfg, store))

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if warm:  # the gate and Data Docs processes load GX while the server starts serving
            state.gate.submit(state.gate_process().warm)
            if cfg.gx.data_docs.enabled:  # on its own thread: no ingest waits for it
                threading.Thread(
                    target=state.docs_queue().warm, name="busta-docs-warm", daemon=True
                ).start()
        background = start_monitor(cfg, store) if monitor else None
        try:
            yield
        finally:
            if background is not None:
                background.stop(timeout_s=30.0)
            # an ingest in progress finishes (its decisions committed); nothing new starts
            state.gate.shutdown(wait=True, cancel_futures=False)
            if state.process is not None:
                state.process.close()
            if state.docs is not None:  # the queued pages are rendered (bounded)
                state.docs.close(timeout_s=30.0)

    app = FastAPI(
        title="busta-quality",
        version=__version__,
        description="Quality gates and source health of the busta lake (docs/api.md).",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.busta = state
    _install_error_handlers(app)

    #: the most an ingest request may carry (its files are checked one by one after)
    max_body = cfg.ingest.limits.max_file_bytes * MAX_UPLOADS + 1024 * 1024

    @app.middleware("http")
    async def count_requests(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > max_body:  # refused before a byte is read
            err = InputRejected(
                f"request body of {int(length)} bytes is over {max_body} "
                f"({MAX_UPLOADS} files of ingest.limits.max_file_bytes)",
                "send fewer or smaller files per request",
                problem="over_limit",
                limit="max_file_bytes",
                limit_value=cfg.ingest.limits.max_file_bytes,
                actual=int(length),
            )
            response: Any = error_response(413, err.to_dict(), int(err.exit_code))
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        path = str(getattr(route, "path", "<unmatched>"))
        if route is not None and request.url.path.startswith(API) and not path.startswith(API):
            path = API + path  # a route of the included API router
        key = (request.method, str(path), str(response.status_code))
        state.requests[key] = state.requests.get(key, 0) + 1
        return response

    app.include_router(api.router, prefix=API)
    app.include_router(pages.router)
    # the dashboard (docs/dashboard.md): its pages, static files and the CSP of HTML responses
    from busta_quality.serve.dashboard import install as install_dashboard

    install_dashboard(app)
    return app
