"""``busta serve``: the REST API, sessions, /metrics and Data Docs in one process."""

from __future__ import annotations

import click

from busta_quality.cli import output
from busta_quality.cli.app import AppContext, command
from busta_quality.errors import UsageError


def register(main: click.Group) -> None:
    @command(
        main,
        "serve",
        click.option("--host", help="Address to listen on (default: serve.host, 127.0.0.1)."),
        click.option(
            "--port", type=click.IntRange(1, 65535), help="Port (default: serve.port, 8080)."
        ),
        click.option(
            "--no-monitor",
            "no_monitor",
            is_flag=True,
            help="Serve only: do not run the monitor loop in this process.",
        ),
        as_json=False,
    )
    def serve_cmd(app: AppContext, host: str | None, port: int | None, no_monitor: bool) -> None:
        """Serve the REST API (/api/v1), /metrics and Data Docs until SIGTERM (docs/api.md).

        Reads need a token unless serve.public_reads is true; writes and ingest always do
        (serve.tokens in busta.yml). Stops cleanly on SIGTERM or Ctrl-C: the ingest in
        progress finishes, nothing new starts."""
        try:
            from busta_quality.serve.run import serve
        except ImportError as exc:
            raise UsageError(
                f"busta serve needs the serve extra ({exc.name} is not installed)",
                "pip install 'busta-quality[serve]'",
            ) from None
        cfg = app.config
        where_host = host or cfg.serve.host
        where_port = port or cfg.serve.port
        app.store  # noqa: B018 - opens and migrates the store before the first request
        shown = f"[{where_host}]" if ":" in where_host else where_host
        output.serving(f"http://{shown}:{where_port}")
        serve(cfg, where_host, where_port, monitor=not no_monitor)
