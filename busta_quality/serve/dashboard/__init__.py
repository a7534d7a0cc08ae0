"""The dashboard of ``busta serve`` (docs/dashboard.md): server-rendered pages under
``/dashboard/`` with their own static files, and the CSP on every HTML response."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the dashboard's pages and static files on ``app``; add the CSP middleware."""
    from busta_quality.serve.dashboard.csp import install_csp
    from busta_quality.serve.dashboard.views import root_router, router

    app.include_router(router)
    app.include_router(root_router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
    install_csp(app)
