"""Outside ``/api/v1``: ``/healthz`` (liveness, no token), ``/metrics`` (Prometheus) and the
Data Docs site under ``/data-docs/`` (read scope; no path leads out of the site)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from busta_quality.errors import NotFoundError
from busta_quality.serve import schemas as s
from busta_quality.serve.api import ERRORS, Reader, needs, state_of
from busta_quality.serve.state import ServeState
from busta_quality.settings import BustaConfig

router = APIRouter()


@router.get("/healthz", response_model=s.PingOut, tags=["meta"])
def healthz() -> Any:
    """Liveness: the process answers (no token needed, nothing read)."""
    from busta_quality import __version__

    return {"ok": True, "version": __version__}


@router.get(
    "/metrics",
    tags=["meta"],
    responses={
        **{k: v for k, v in ERRORS.items() if k in (401, 403)},
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
    },
    response_class=Response,
)
def metrics(
    st: Annotated[ServeState, Depends(state_of)], _who: Annotated[Any, Depends(needs("read"))]
) -> Response:
    """The Prometheus exposition (text format 0.0.4)."""
    from busta_quality.serve.metrics import CONTENT_TYPE, render

    return Response(render(st), media_type=CONTENT_TYPE)


def data_docs_root(cfg: BustaConfig) -> Path:
    """The rendered Data Docs site (GX's ``local_site``)."""
    return cfg.gx_dir / "uncommitted" / "data_docs" / "local_site"


def resolve_under(root: Path, rel: str) -> Path:
    """``rel`` inside ``root`` as an existing file (a directory's ``index.html``); anything
    that leads out of ``root`` (``..``, an absolute path, a symlink) is not found."""
    if "\x00" in rel or "\\" in rel or rel.startswith("/"):
        raise NotFoundError("not found")
    parts = [p for p in rel.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise NotFoundError("not found")
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and not target.is_relative_to(base):
        raise NotFoundError("not found")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise NotFoundError("not found", "rebuild Data Docs with `busta docs build`")
    return target


@router.get("/data-docs", include_in_schema=False)
def data_docs_index() -> RedirectResponse:
    return RedirectResponse("/data-docs/", status_code=307)


@router.get("/data-docs/{rel:path}", include_in_schema=False)
def data_docs(request: Request, rel: str, _who: Reader) -> Response:
    """A file of the Data Docs site, under the Data Docs policy (docs/data-docs.md): a page
    gets its assets' ``integrity`` attributes (they work only when served)."""
    from busta_quality.quality.docs_assets import DATA_DOCS_CSP, for_serving

    st = state_of(request)
    target = resolve_under(data_docs_root(st.cfg), rel)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": DATA_DOCS_CSP}
    if kind == "text/html":
        page = for_serving(target.read_text(encoding="utf-8", errors="replace"))
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)
    return FileResponse(target, media_type=kind, headers=headers)
