"""Probe results judged against their history, as alert signals (docs/alerting.md,
"Signals"; docs/sources.md, "Anomalies" and "Baselines"):

* **ratios to a baseline**: for each ``ratio(response_time, baseline|type_baseline)`` the
  rules use, the newest response time over the 30-day p50 of the source's own baseline or
  its type's (:mod:`busta_quality.health.baselines`); a signal of the condition's kind
  (``ratio(response_time,baseline)``), none while the baseline rests on fewer than
  ``anomaly.min_history`` timed results;
* **response-time anomalies**: each probe's response time judged against that probe's own
  recent series with the robust method of :mod:`busta_quality.health.anomaly` (the
  ``anomaly:`` settings, direction *above*): ``anomaly`` (1/0) and ``anomaly_score`` with the
  probe's labels plus ``metric: response_time``; none while the series is learning;
* **anomalies a probe reports itself**: each judged entry of ``detail["anomalies"]`` (a list
  of ``{metric, value, judged, anomalous, score, reason, labels?}``) becomes the same two
  signals, ``metric`` from the entry.

:class:`ProbeJudge` is the memory this needs: the baselines (read from the rollups at most
every :data:`BASELINE_TTL_S`) and each probe's series (read from the store the first time the
probe is seen, then kept in memory, bounded). A monitor keeps one for its life; without one a
fresh judge reads what it needs on demand.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from busta_quality.health.anomaly import Params, Point, Series, Verdict
from busta_quality.health.baselines import Baselines, load_baselines, ratio_words
from busta_quality.models import ProbeResult, Signal
from busta_quality.settings import BustaConfig
from busta_quality.store import Store
from busta_quality.store.baselines import ProbeKey, recent_response_times

log = logging.getLogger(__name__)

#: baselines are read from the store again after this long (and after each rollup)
BASELINE_TTL_S = 300.0
#: a probe's series is preloaded with this many of its latest results per ``anomaly.window``
PRELOAD_WINDOWS = 2
#: the ``metric`` label of response-time anomaly signals
RESPONSE_TIME = "response_time"


def ratio_rules(cfg: BustaConfig) -> list[tuple[str, str]]:
    """(signal kind, baseline) of every ratio condition the rules use."""
    out: dict[str, str] = {}
    for rule in cfg.alerting.effective_rules():
        for cond in (rule.condition, rule.resolve_condition):
            if cond is not None and cond.fn == "ratio" and cond.baseline is not None:
                out[cond.key] = cond.baseline
    return sorted(out.items())


class ProbeJudge:
    """Baselines and response-time series for :func:`judged_signals` (module docstring)."""

    def __init__(self, cfg: BustaConfig, *, ttl_s: float = BASELINE_TTL_S) -> None:
        self.cfg = cfg
        self.ttl_s = ttl_s
        self.params = Params.from_config(cfg.anomaly)
        self._baselines: Baselines | None = None
        self._loaded: float = 0.0
        self._series: dict[ProbeKey, Series] = {}

    # baselines ----------------------------------------------------------------------------
    def baselines(self, store: Store, until: datetime) -> Baselines:
        """The baselines read at most :attr:`ttl_s` ago; when older (or never read): read
        now, over the baseline span ending at ``until`` (the first result being judged: it
        is not part of its own baseline)."""
        if self._baselines is None or time.monotonic() - self._loaded >= self.ttl_s:
            # a microsecond before: the span is half-open, and the batch starts at ``until``
            self._baselines = load_baselines(self.cfg, store, until - timedelta(microseconds=1))
            self._loaded = time.monotonic()
        return self._baselines

    def invalidate(self) -> None:
        """The rollups changed: read the baselines again before the next use."""
        self._baselines = None

    # series -------------------------------------------------------------------------------
    def _new_series(self) -> Series:
        return Series(self.params, unit="seconds", direction="above", label="response time")

    def response_time_verdicts(
        self, store: Store, results: Sequence[ProbeResult]
    ) -> dict[int, Verdict]:
        """Each timed result's verdict against its probe's series, by position in
        ``results`` (in order; each joins its series). A probe seen for the first time is
        preloaded from the store (rows recorded before ``results``) in one pass."""
        timed = [(i, r, rt) for i, r in enumerate(results) if (rt := _rt(r)) is not None]
        first: dict[ProbeKey, int | None] = {}
        for _, r, _ in timed:
            key = (r.source, r.probe)
            if key not in self._series and key not in first:
                first[key] = r.id
        if first:
            limit = PRELOAD_WINDOWS * self.params.window
            for key, rows in recent_response_times(store, first, limit).items():
                series = self._new_series()
                for at, value in rows:
                    series.judge(Point(value, at=at), reason=False)
                self._series[key] = series
        out: dict[int, Verdict] = {}
        for i, r, rt in timed:
            series = self._series.setdefault((r.source, r.probe), self._new_series())
            out[i] = series.judge(Point(rt, at=r.started_at))
        return out


def _rt(r: ProbeResult) -> float | None:
    v = r.metric("response_time_s")
    return v if v is not None and math.isfinite(v) else None


def judged_signals(
    cfg: BustaConfig,
    store: Store,
    results: Sequence[ProbeResult],
    labels: Sequence[Mapping[str, str]],
    details: Sequence[Mapping[str, Any]],
    at: datetime,
    judge: ProbeJudge,
) -> list[list[Signal]]:
    """For each result (with its labels and signal detail): its ratio signals, its
    response-time anomaly signals and those of the anomalies it reported (module
    docstring)."""
    ratios = ratio_rules(cfg)
    first = min((r.started_at for r in results), default=at)
    bases = judge.baselines(store, first) if ratios and results else None
    verdicts = judge.response_time_verdicts(store, results) if cfg.anomaly.enabled else {}
    min_n = cfg.anomaly.min_history
    out: list[list[Signal]] = []
    for i, r in enumerate(results):
        got: list[Signal] = []
        lab, det = dict(labels[i]), dict(details[i])
        rt = _rt(r)
        if bases is not None and rt is not None:
            for kind, which in ratios:
                base = bases.get(which, r.source)
                if base is None or not base.ready(min_n) or base.p50 is None:
                    continue
                ratio = rt / base.p50
                extra = {"ratio": round(ratio, 4), "baseline": base.to_json()}
                reason = ratio_words(rt, base)
                got.append(Signal(kind, ratio, lab, at, {**det, **extra, "reason": reason}))
        v = verdicts.get(i)
        if v is not None and v.judged and v.score is not None:
            entry = {
                "metric": RESPONSE_TIME,
                "value": v.value,
                "judged": True,
                "anomalous": v.anomalous,
                "score": v.score,
                "reason": v.reason,
                "baseline": None if v.baseline is None else v.baseline.to_json(),
            }
            got.extend(_anomaly_signals(entry, lab, det, at))
        reported = r.detail.get("anomalies") if isinstance(r.detail, dict) else None
        if isinstance(reported, list):
            for entry in reported:
                if _well_formed(entry):
                    got.extend(_anomaly_signals(entry, lab, det, at))
                else:
                    log.warning("%s/%s: an anomaly entry left out: %r", r.source, r.probe, entry)
        out.append(got)
    return out


def _well_formed(entry: Any) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("metric"), str):
        return False
    extra = entry.get("labels")
    return extra is None or isinstance(extra, dict)


def _anomaly_signals(
    entry: Mapping[str, Any], labels: Mapping[str, str], detail: Mapping[str, Any], at: datetime
) -> list[Signal]:
    """``anomaly`` and ``anomaly_score`` of one judged entry (none when not judged)."""
    score = entry.get("score")
    if not entry.get("judged") or not isinstance(score, int | float) or not math.isfinite(score):
        return []
    lab = dict(labels)
    for k, val in sorted((entry.get("labels") or {}).items()):
        lab.setdefault(str(k), str(val))  # cannot rename the probe's own labels
    lab["metric"] = str(entry["metric"])
    det = {
        **detail,
        "metric": lab["metric"],
        "value": entry.get("value"),
        "anomalous": bool(entry.get("anomalous")),
        "score": round(float(score), 3),
        "reason": str(entry.get("reason") or ""),
    }
    if entry.get("baseline") is not None:
        det["baseline"] = entry["baseline"]
    flag = 1.0 if entry.get("anomalous") else 0.0
    return [
        Signal("anomaly", flag, lab, at, det),
        Signal("anomaly_score", float(score), lab, at, det),
    ]
