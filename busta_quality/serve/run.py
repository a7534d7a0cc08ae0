"""Running the app under uvicorn until SIGTERM or SIGINT: uvicorn stops accepting, lets the
requests in flight finish, then the lifespan's shutdown waits for the ingest in progress and
stops the monitor; the process exits 0."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import signal
import threading
from collections.abc import Iterator

from busta_quality.settings import BustaConfig

log = logging.getLogger("busta.serve")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def start_warnings(cfg: BustaConfig, host: str) -> list[str]:
    """What an operator should know before the first request (logged at start)."""
    out: list[str] = []
    if not is_loopback(host):
        if cfg.serve.public_reads:
            out.append(
                f"serve.public_reads is true and busta serve listens on {host} (not loopback): "
                "anyone who can reach it reads sources, runs, alerts and Data Docs"
            )
        if not cfg.serve.tokens:
            out.append(f"busta serve listens on {host} with no serve.tokens: nothing can write")
    return out


def serve(cfg: BustaConfig, host: str, port: int, *, monitor: bool = True) -> None:
    """Serve until a signal stops the process."""
    import uvicorn

    from busta_quality.serve.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for warning in start_warnings(cfg, host):
        log.warning(warning)
    app = create_app(cfg, monitor=monitor, warm=True)
    _Server = _server_class()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=60,
        log_config=None,
    )
    _Server(config).run()


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGTERM or SIGINT it handled (requests in flight
        finished, the lifespan shut down) ends the process with status 0 instead of being
        raised again: the stop was asked for and went as planned."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            sigs = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in sigs}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server
