"""The state every request handler reaches (``request.app.state.busta``): config, store,
sessions, the gate worker, request counts; and who may do what (:meth:`ServeState.authorize`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request

from busta_quality.serve.auth import AuthError, Principal, Sessions, match_token, same_origin
from busta_quality.serve.gateproc import DocsQueue, GateProcess
from busta_quality.settings import BustaConfig
from busta_quality.store import Store

T = TypeVar("T")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ServeState:
    """What every request handler reaches through ``request.app.state.busta``."""

    cfg: BustaConfig
    store: Store
    sessions: Sessions
    #: one worker: ingests and quarantine actions on this store run one at a time
    gate: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="busta-gate")
    )
    #: the child process the gate thread hands ingests and quarantine actions to
    process: GateProcess | None = None
    #: the ingests' Data Docs pages, rendered in a process of their own after the answer
    docs: DocsQueue | None = None
    #: (method, route, status) -> count, for /metrics
    requests: dict[tuple[str, str, str], int] = field(default_factory=dict)

    async def in_gate_process(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Run gate job ``op`` in the gate process (:mod:`.gateproc`), after every job
        queued before it; its answer is the service result's JSON."""
        return await self.in_gate(self.gate_process().run, op, *args, **kwargs)

    async def ingest(self, source: str, paths: list[str]) -> dict[str, Any]:
        """``busta ingest`` in the gate process; its report's JSON, with the state of its
        Data Docs pages (queued for the Data Docs process, :class:`.gateproc.DocsQueue`)."""
        done = await self.in_gate_process("ingest", source, paths)
        keys, verdicts = done["docs"]
        queue = self.docs_queue()
        queue.add(keys, verdicts)
        report: dict[str, Any] = done["report"]
        report["data_docs_status"] = {
            "state": "off" if not self.cfg.gx.data_docs.enabled else "queued",
            "pages": len(keys),
            "status": "/api/v1/data-docs/status",
        }
        return report

    def docs_queue(self) -> DocsQueue:
        """The Data Docs queue (its process starts with the first pages)."""
        if self.docs is None:
            self.docs = DocsQueue(self.cfg, Path.cwd())
        return self.docs

    def gate_process(self) -> GateProcess:
        """The gate process (made on first use; its child starts with its first job)."""
        if self.process is None:
            self.process = GateProcess(self.cfg, Path.cwd())
        return self.process

    async def in_gate(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the gate worker (after every ingest queued before it)."""
        import asyncio

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.gate, lambda: fn(*args, **kwargs))

    def authorize(self, request: Request, scope: str) -> Principal:
        """Who asks, allowed ``scope`` (401 no or a wrong credential, 403 not allowed)."""
        cfg = self.cfg
        who: Principal | None = None
        header = request.headers.get("authorization")
        if header is not None:
            kind, _, token = header.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise AuthError(
                    401, "unauthorized", "the Authorization header must be 'Bearer <token>'"
                )
            who = match_token(cfg, token.strip())
            if who is None:
                raise AuthError(
                    401, "unauthorized", "unknown token", "tokens are listed under serve.tokens"
                )
        else:
            cookie = request.cookies.get(cfg.serve.session.cookie)
            if cookie:
                who = self.sessions.principal(cookie)
        if who is None:
            if scope == "read" and cfg.serve.public_reads:
                return Principal("public", ("read",), "public")
            raise AuthError(
                401,
                "unauthorized",
                f"this needs a token with the {scope} scope",
                "send 'Authorization: Bearer <token>' or sign in (POST /api/v1/session)",
            )
        if scope not in who.scopes:
            raise AuthError(403, "forbidden", f"token {who.name!r} has no {scope} scope")
        if who.via == "session" and request.method not in SAFE_METHODS:
            self.check_csrf(request, who)
        return who

    def check_csrf(self, request: Request, who: Principal) -> None:
        """A write authenticated by the cookie must come from this site with its CSRF token."""
        if request.headers.get("sec-fetch-site") == "cross-site" or not same_origin(
            request.headers.get("origin"), request.url.scheme, request.headers.get("host")
        ):
            raise AuthError(403, "forbidden", "cross-site request refused")
        assert who.session_id is not None
        if not self.sessions.csrf_ok(who.session_id, request.headers.get("x-csrf-token")):
            raise AuthError(
                403,
                "forbidden",
                "missing or wrong X-CSRF-Token",
                "send the csrf_token of POST /api/v1/session as the X-CSRF-Token header",
            )
