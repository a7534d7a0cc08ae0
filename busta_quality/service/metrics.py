"""The Prometheus metrics of source health (what ``/metrics`` serves; docs/metrics.md).

:data:`METRICS` defines every metric: its name (Prometheus naming: ``busta_`` prefix, base
units, ``_seconds``/``_ratio``/``_total`` suffixes), type, labels and meaning.
:func:`render` writes the text exposition with prometheus-client through a custom collector
that reads the store at scrape time: the latest probe results, the windows from the hourly
and daily rollups plus the raw tail (:mod:`busta_quality.store.rollups`), the latest gate
scores and the open alerts. Nothing is kept in process memory between scrapes, so any
number of processes serve the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from busta_quality.models import utcnow
from busta_quality.settings import BustaConfig
from busta_quality.store import Store


@dataclass(frozen=True)
class MetricDef:
    name: str
    #: gauge | counter | histogram
    type: str
    labels: tuple[str, ...]
    help: str


#: every metric busta exposes, in exposition order
METRICS: tuple[MetricDef, ...] = (
    MetricDef("busta_source_up", "gauge", ("source",),
              "1 when every probe of the source passed in its newest result, 0 when one "
              "failed; absent while the status is unknown (no probes, none recent)"),
    MetricDef("busta_source_last_probe_timestamp_seconds", "gauge", ("source",),
              "Unix time the newest probe result of the source started"),
    MetricDef("busta_source_response_time_seconds", "gauge", ("source",),
              "The slowest response time among the newest probe results of the source"),
    MetricDef("busta_source_probe_duration_seconds", "histogram", ("source",),
              "Response times of every probe result of the source kept in the store "
              "(rollups plus raw rows), in fixed buckets"),
    MetricDef("busta_source_probes_total", "counter", ("source", "result"),
              "Probe results of the source kept in the store, by result (ok, failed)"),
    MetricDef("busta_source_uptime_ratio", "gauge", ("source", "window"),
              "ok probe intervals / covered probe intervals over the window (24h, 7d, 30d)"),
    MetricDef("busta_source_coverage_ratio", "gauge", ("source", "window"),
              "covered probe intervals / expected probe intervals over the window"),
    MetricDef("busta_source_error_budget_remaining_ratio", "gauge", ("source",),
              "Share of the 30-day error budget of the sla.uptime target left "
              "(negative: overspent)"),
    MetricDef("busta_source_freshness_seconds", "gauge", ("source",),
              "The oldest data age the newest probe results measured (file, sql, lake)"),
    MetricDef("busta_source_open_alerts", "gauge", ("source",),
              "Open live alerts whose source label is the source"),
    MetricDef("busta_quality_score_ratio", "gauge", ("source",),
              "Lowest dataset quality score of the source's latest gate run in each layer "
              "it feeds (0..1)"),
    MetricDef("busta_alerts_firing", "gauge", ("severity",),
              "Live alerts in state firing, by severity"),
    MetricDef("busta_probe_rollup_lag_seconds", "gauge", (),
              "Seconds since the end of the newest hour rolled up (the rollup job's lag)"),
)  # fmt: skip

BY_NAME = {m.name: m for m in METRICS}


def _gauge(name: str) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    d = BY_NAME[name]
    return GaugeMetricFamily(d.name, d.help, labels=list(d.labels))


class StoreCollector:
    """A prometheus-client collector reading the store when scraped."""

    def __init__(self, cfg: BustaConfig, store: Store, now: datetime | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.now = now

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        from busta_quality.health.summary import sources_health
        from busta_quality.models import OPEN_STATES
        from busta_quality.store import alerts as alert_store
        from busta_quality.store.rollups import marks, usage
        from busta_quality.store.tables import ROLLUP_BUCKETS

        now = self.now or utcnow()
        names = sorted(self.cfg.sources)
        health = sources_health(self.cfg, self.store, names, now)
        fams = {m.name: _gauge(m.name) for m in METRICS if m.type == "gauge"}
        for h in health:
            s = [h.source]
            if h.status in ("up", "down"):
                fams["busta_source_up"].add_metric(s, 1.0 if h.status == "up" else 0.0)
            if h.last_probe_at is not None:
                fams["busta_source_last_probe_timestamp_seconds"].add_metric(
                    s, h.last_probe_at.timestamp()
                )
            if h.response_time_s is not None:
                fams["busta_source_response_time_seconds"].add_metric(s, h.response_time_s)
            if h.freshness_s is not None:
                fams["busta_source_freshness_seconds"].add_metric(s, h.freshness_s)
            for window, u in h.windows.items():
                if u.uptime is not None:
                    fams["busta_source_uptime_ratio"].add_metric([h.source, window], u.uptime)
                if u.coverage is not None:
                    fams["busta_source_coverage_ratio"].add_metric([h.source, window], u.coverage)
            month = h.windows["30d"]
            if month.slots_covered:
                allowed = (1.0 - self.cfg.sources[h.source].sla.uptime) * month.slots_covered
                failed = month.slots_covered - month.slots_ok
                left = (1.0 - failed / allowed) if allowed > 0 else (1.0 if not failed else -1.0)
                fams["busta_source_error_budget_remaining_ratio"].add_metric(s, left)
            fams["busta_source_open_alerts"].add_metric(s, float(h.open_alerts))
            if h.quality is not None:
                fams["busta_quality_score_ratio"].add_metric(s, h.quality.score)
        firing: dict[str, int] = {}
        for a in alert_store.list_alerts(
            self.store, states=[str(x) for x in OPEN_STATES], limit=100_000, shadow=False
        ):
            if a.state.value == "firing":
                firing[a.severity.value] = firing.get(a.severity.value, 0) + 1
        for severity in ("critical", "warning", "info"):
            fams["busta_alerts_firing"].add_metric([severity], float(firing.get(severity, 0)))
        m = marks(self.store)
        if m.hourly is not None:
            fams["busta_probe_rollup_lag_seconds"].add_metric(
                [], max(0.0, (now - m.hourly).total_seconds())
            )
        # lifetime figures: every day, hour and raw row kept
        since = _first_kept(self.store) or now
        lifetime = usage(self.store, {n: self.cfg.sources[n].interval_s for n in names}, since, now)
        hist = HistogramMetricFamily(
            "busta_source_probe_duration_seconds",
            BY_NAME["busta_source_probe_duration_seconds"].help,
            labels=["source"],
        )
        total = CounterMetricFamily(
            "busta_source_probes",
            BY_NAME["busta_source_probes_total"].help,
            labels=["source", "result"],
        )
        for n in names:
            u = lifetime[n]
            buckets = [(_le(b), float(c)) for b, c in zip(ROLLUP_BUCKETS, u.le, strict=True)] + [
                ("+Inf", float(u.timed))
            ]
            hist.add_metric([n], buckets, u.rt_sum)
            total.add_metric([n, "ok"], float(u.ok_count))
            total.add_metric([n, "failed"], float(u.failures))
        for d in METRICS:
            if d.name == "busta_source_probe_duration_seconds":
                yield hist
            elif d.name == "busta_source_probes_total":
                yield total
            else:
                yield fams[d.name]


def _le(bound: float) -> str:
    return repr(float(bound)) if math.isfinite(bound) else "+Inf"


def _first_kept(store: Store) -> datetime | None:
    """The oldest instant the store still has probe figures for."""
    import sqlalchemy as sa

    from busta_quality.models import as_utc
    from busta_quality.store.tables import (
        probe_results,
        probe_rollups_daily,
        probe_rollups_hourly,
    )

    with store.begin() as conn:
        firsts = [
            conn.execute(sa.select(sa.func.min(t.c.bucket_start))).scalar()
            for t in (probe_rollups_daily, probe_rollups_hourly)
        ]
        firsts.append(conn.execute(sa.select(sa.func.min(probe_results.c.started_at))).scalar())
    found = [as_utc(v) for v in firsts if v is not None]
    return min(found) if found else None


def render(cfg: BustaConfig, store: Store, now: datetime | None = None) -> str:
    """The text exposition (``text/plain; version=0.0.4``) of every metric."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(cfg, store, now))
    return generate_latest(registry).decode("utf-8")


#: the content type :func:`render` produces
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
