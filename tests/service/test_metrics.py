"""The Prometheus exposition of source health: every metric of METRICS, in docs/metrics.md,
valid for ``promtool check metrics`` and prometheus-client's own parser, with the values
the store holds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from busta_quality.service import metrics
from busta_quality.service import sla as svc
from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.tables import probe_results
from tests.store.test_rollups import row
from tests.support.alerting import failing
from tests.support.alerting_api import handle_check_result
from tests.support.promtool import check_metrics

#: the metrics busta serve adds (busta_quality/serve/metrics.py), documented beside METRICS
SERVE_PROCESS = {"busta_serve_info", "busta_api_requests_total", "busta_check_runs_recorded"}

ROOT = Path(__file__).resolve().parents[2]
DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


def _exposition(tmp_path: Path) -> tuple[str, datetime]:
    doc = {
        "store": {"url": f"sqlite:///{tmp_path}/busta.db"},
        "sources": {
            "feed": {"kind": "football_data", "probes": [{"type": "lake"}]},
            "odds": {"kind": "odds_api", "probes": [{"type": "lake"}]},
        },
    }
    (tmp_path / "busta.yml").write_text(yaml.safe_dump(doc))
    cfg = load_config(tmp_path / "busta.yml")
    store = open_store(cfg.store_url)
    rows = []
    for i in range(2 * 288):  # two days; feed fails 3 intervals, odds never probed
        at = DAY0 + timedelta(seconds=300 * i + 5)
        rows.append(row("feed", at, i not in (7, 8, 9), 0.03 if i % 2 else 0.7))
    for r in rows:
        r["probe"] = r["probe_type"] = "lake"
    with store.begin() as conn:
        conn.execute(probe_results.insert(), rows)
    now = DAY0 + timedelta(days=2, minutes=1)
    svc.rollup(cfg, store, now=now - timedelta(hours=3))
    handle_check_result(cfg, store, failing(source="feed", at=now), now=now)
    return metrics.render(cfg, store, now=now), now


def test_every_metric_is_exposed_documented_and_valid(tmp_path: Path) -> None:
    text, _ = _exposition(tmp_path)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    # prometheus-client names a counter family without its _total suffix
    assert {n.removesuffix("_total") for n in families} == {
        m.name.removesuffix("_total") for m in metrics.METRICS
    }
    for m in metrics.METRICS:
        f = families[m.name.removesuffix("_total")]
        assert f.type == m.type, m.name
        for s in f.samples:
            assert set(s.labels) - {"le"} == set(m.labels), (m.name, s.labels)
    docs = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(busta_[a-z_]+)`", docs, re.M))
    assert documented == {m.name for m in metrics.METRICS} | SERVE_PROCESS

    samples = [s for f in families.values() for s in f.samples]

    def value(name: str, **labels: str) -> float:
        [s] = [
            s
            for s in samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]
        return s.value

    assert value("busta_source_up", source="feed") == 1.0
    assert value("busta_source_response_time_seconds", source="feed") == 0.03  # i = 575
    last = DAY0 + timedelta(seconds=300 * 575 + 5)
    assert value("busta_source_last_probe_timestamp_seconds", source="feed") == last.timestamp()
    assert not [s for s in families["busta_source_up"].samples if s.labels["source"] == "odds"]
    # 24h: none failed; 7d: all 576 intervals covered, 3 failed
    assert value("busta_source_uptime_ratio", source="feed", window="24h") == 1.0
    assert value("busta_source_uptime_ratio", source="feed", window="7d") == 1 - 3 / 576
    assert value("busta_source_probes_total", source="feed", result="failed") == 3.0
    assert value("busta_source_probes_total", source="feed", result="ok") == 576 - 3
    assert value("busta_source_probe_duration_seconds_count", source="feed") == 576
    assert value("busta_source_probe_duration_seconds_bucket", source="feed", le="0.05") == 288
    assert value("busta_source_probe_duration_seconds_bucket", source="feed", le="1.0") == 576
    assert value("busta_alerts_firing", severity="critical") == 1.0
    assert value("busta_source_open_alerts", source="feed") == 1.0
    assert value("busta_probe_rollup_lag_seconds") == 3 * 3600 + 60
    budget = 1 - 3 / (0.005 * 576)
    assert abs(value("busta_source_error_budget_remaining_ratio", source="feed") - budget) < 1e-9
    check_metrics(text)


def test_the_grafana_dashboard_reads_only_metrics_busta_serves() -> None:
    """docs/grafana-dashboard.json: every panel's expression names metrics of docs/metrics.md
    (or their histogram/counter series), so the shipped dashboard cannot drift from them."""
    import json

    doc = json.loads((Path(__file__).parents[2] / "docs" / "grafana-dashboard.json").read_text())
    served = {m.name for m in metrics.METRICS} | SERVE_PROCESS
    table = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    assert all(f"| `{name}` |" in table for name in served)
    used: set[str] = set()
    for panel in doc["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= set(re.findall(r"\bbusta_[a-z_]+", target["expr"]))
    for name in used:
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert name in served or base in served, name
    assert {"busta_source_up", "busta_source_uptime_ratio", "busta_quality_score_ratio"} <= used
