"""``/metrics``: the Prometheus text format of source health, SLA, quality and alerts (read
from the store when scraped: ``service/metrics.py``, docs/metrics.md) and of what this serve
process knows (API requests, recorded gate runs)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from busta_quality.serve.state import ServeState

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render(st: ServeState) -> bytes:
    """The exposition: every metric of docs/metrics.md; API requests by method, route and
    status; recorded gate runs."""
    from busta_quality import __version__
    from busta_quality.service.metrics import StoreCollector

    registry = CollectorRegistry(auto_describe=True)
    registry.register(StoreCollector(st.cfg, st.store))
    info = Gauge("busta_serve_info", "busta serve is up", ["version"], registry=registry)
    info.labels(version=__version__).set(1)
    requests = Counter(
        "busta_api_requests",
        "API requests answered, by method, route template and HTTP status",
        ["method", "route", "status"],
        registry=registry,
    )
    for (method, route, status), n in sorted(st.requests.items()):
        requests.labels(method=method, route=route, status=status).inc(n)
    runs = Gauge("busta_check_runs_recorded", "gate runs in the store", registry=registry)
    runs.set(st.store.count_check_runs())
    return generate_latest(registry)
