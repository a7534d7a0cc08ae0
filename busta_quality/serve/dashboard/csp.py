"""The Content-Security-Policy on every HTML response of the app (the dashboard, the Data Docs,
errors): pages load script, style and images only from the app itself, may not be framed, and
post forms only to it, so that an escaping bug cannot run script."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in (
        "text/html",
        "application/xhtml+xml",
    )


def install_csp(app: FastAPI) -> None:
    """Add the policy headers to every HTML response ``app`` sends that has none of its own."""

    @app.middleware("http")
    async def content_security_policy(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        if is_html(response.headers.get("content-type")):
            for name, value in HTML_HEADERS.items():
                # a route that sets its own (stricter, e.g. with a nonce) policy keeps it
                if name.lower() not in response.headers:
                    response.headers[name] = value
        return response
