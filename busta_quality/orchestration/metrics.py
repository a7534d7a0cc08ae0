"""Data metrics of an ingest's gate runs, judged against their baselines, as alert signals.

Per gate run (one staged batch of one layer) busta measures, from the frame it has in memory:

* ``rows``: the batch's rows (blank rows of a landed file left out); only a fall is judged;
* ``null_rate`` of each key column (the source kind's natural keys for the dataset);
* ``price_coverage`` of each bookmaker with 1X2 price columns in the batch (football-data's
  ``<CODE>H/D/A``, :mod:`busta_quality.pipeline.bookmakers`): the share of rows with all
  of that bookmaker's prices.

When the run is over (its season known from the layers that derive it), each metric is
judged against its series (:mod:`busta_quality.health.anomaly`), recorded in the store
(``data_metrics``) and handed to the alert rules as the signals ``anomaly`` (1 or 0) and
``anomaly_score`` (robust SDs). A bookmaker whose columns are all absent from a file that
follows one where it had prices left the feed: recorded as ``info``, never an anomaly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from busta_quality.health.anomaly import Direction, Params, Point, Unit, judge
from busta_quality.models import CheckResult, Decision, Signal
from busta_quality.store.data_metrics import (
    ANOMALY,
    LEARNING,
    LEFT_FEED,
    NORMAL,
    DataMetric,
    latest_items,
    record_data_metrics,
    series_values,
)

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.settings import BustaConfig
    from busta_quality.store import Store

log = logging.getLogger(__name__)

#: a series' newest points read to judge a new one (the scan starts there)
HISTORY_POINTS = 200


@dataclass(frozen=True)
class MetricKind:
    """How a metric is judged and worded."""

    unit: Unit
    direction: Direction
    #: the signal label naming the metric's item (none for ``rows``)
    item_label: str | None

    def label(self, metric: str, item: str, dataset: str) -> str:
        """What a reason calls the metric: ``B365 price coverage``, ``silver.matches rows``."""
        if metric == "price_coverage":
            return f"{item} price coverage"
        if metric == "null_rate":
            return f"{dataset} {item} null rate"
        return f"{dataset} {metric}"


METRICS: dict[str, MetricKind] = {
    # a fall is thinner data; a rise (more bookmakers, a duplicated file) is not judged here:
    # duplicates are the suites' unique-key checks
    "rows": MetricKind("count", "below", None),
    "null_rate": MetricKind("share", "above", "column"),
    "price_coverage": MetricKind("share", "below", "bookmaker"),
}


@dataclass(frozen=True)
class Measured:
    """One gate run's metrics, before they are judged."""

    result: CheckResult
    rows: int
    #: (metric, item) → value
    values: dict[tuple[str, str], float]


def measure(
    frame: pd.DataFrame, key_columns: Sequence[str]
) -> tuple[int, dict[tuple[str, str], float]]:
    """A batch's rows, key-column null rates and bookmakers' price coverage (one pass over
    the columns it names)."""
    import pandas as pd

    from busta_quality.pipeline.bookmakers import football_data_bookmaker, parse_football_data_1x2

    if "_blank_row" in frame.columns:
        frame = frame[~frame["_blank_row"].fillna(False).astype(bool)]
    rows = len(frame)
    values: dict[tuple[str, str], float] = {("rows", ""): float(rows)}
    if rows == 0:
        return rows, values
    for col in key_columns:
        if col in frame.columns:
            s = frame[col]
            missing = s.isna()
            if s.dtype == object:
                missing = missing | (s.astype("string").str.strip() == "").fillna(True)
            values[("null_rate", col)] = float(missing.mean())
    books: dict[str, list[str]] = {}
    for col in frame.columns:
        parsed = parse_football_data_1x2(str(col))
        if parsed is None:
            continue
        code, closing, _ = parsed
        if not closing and football_data_bookmaker(code) is not None:
            books.setdefault(code, []).append(str(col))
    for code, cols in sorted(books.items()):
        priced = pd.Series(True, index=frame.index)
        for col in cols:
            priced &= pd.to_numeric(frame[col], errors="coerce").notna()
        values[("price_coverage", code)] = float(priced.mean())
    return rows, values


def measure_batch(result: CheckResult, frame: Any, key_columns: Sequence[str]) -> Measured | None:
    """:func:`measure` of a gate run's frame; None when there is no frame or measuring
    fails (logged: metrics never fail a run)."""
    if frame is None:
        return None
    try:
        rows, values = measure(frame, key_columns)
    except Exception:
        log.warning("could not measure %s/%s", result.layer, result.dataset, exc_info=True)
        return None
    return Measured(result, rows, values)


def observe_run(cfg: BustaConfig, store: Store, measured: Sequence[Measured]) -> list[DataMetric]:
    """Judge, record and alert on one ingest run's metrics; the findings (anomalies and
    bookmakers that left the feed). Never raises: metrics never fail a run."""
    if not cfg.anomaly.enabled or not measured:
        return []
    try:
        rows = judge_run(cfg, store, measured)
        record_data_metrics(store, rows)
    except Exception:
        log.exception("data metrics of run %s were not recorded", measured[0].result.run_id)
        return []
    decisions = {
        (m.result.layer, m.result.dataset): (m.result.decision or Decision.PROMOTED).value
        for m in measured
    }
    signals = [s for m in rows for s in signals_of(m, decisions.get((m.layer, m.dataset)))]
    if signals:
        from busta_quality.alerts import handle_signals
        from busta_quality.notify.registry import catalog

        try:
            handle_signals(cfg, store, signals, catalog(cfg.alerting))
        except Exception:
            log.exception("alert evaluation of data anomalies failed (the metrics are recorded)")
    return [m for m in rows if m.verdict in (ANOMALY, LEFT_FEED)]


def run_context(measured: Sequence[Measured], across: Sequence[str]) -> dict[str, str]:
    """The values of the ``across`` columns (``season``) the run's results carry, as their
    partition labels write them (``2019-20,2020-21`` for a file spanning two seasons): every
    batch of the run, bronze included, is labelled with them, so an alert about one season
    file is never taken for one about another."""
    from busta_quality.orchestration.partition import summarise

    seen: dict[str, set[str]] = {}
    for m in measured:
        for k, v in m.result.partition.items():
            if k in across and v:
                seen.setdefault(k, set()).add(v)
    return {k: v.pop() if len(v) == 1 else summarise(sorted(v)) for k, v in seen.items()}


def judge_run(cfg: BustaConfig, store: Store, measured: Sequence[Measured]) -> list[DataMetric]:
    """Every metric of the run with its verdict (nothing recorded yet)."""
    across = list(cfg.anomaly.across)
    context = run_context(measured, across)
    params = Params.from_config(cfg.anomaly)
    now = datetime.now(UTC)
    out: list[DataMetric] = []
    for m in measured:
        r = m.result
        partition = {**r.partition, **{k: v for k, v in context.items() if k not in r.partition}}
        series = {k: v for k, v in partition.items() if k not in across}
        at = r.finished_at or now
        base = DataMetric(
            run_id=r.run_id,
            source=r.source,
            layer=r.layer,
            dataset=r.dataset,
            metric="",
            item="",
            value=None,
            rows=m.rows,
            measured_at=at,
            partition=partition,
            series=series,
            batch_seq=r.batch_seq,
        )
        present = {item for (metric, item) in m.values if metric == "price_coverage"}
        before = latest_items(
            store,
            source=r.source,
            layer=r.layer,
            dataset=r.dataset,
            metric="price_coverage",
            series=series,
        )
        for code in sorted(before - present):
            reason = (
                f"{code} prices absent from the whole file ({m.rows} rows): the bookmaker "
                "left the feed (not judged as a coverage drop)"
            )
            out.append(
                replace(
                    base,
                    metric="price_coverage",
                    item=code,
                    verdict=LEFT_FEED,
                    severity="info",
                    reason=_where(reason, partition),
                )
            )
        for (metric, item), value in sorted(m.values.items()):
            kind = METRICS[metric]
            history = series_values(
                store,
                source=r.source,
                layer=r.layer,
                dataset=r.dataset,
                metric=metric,
                item=item,
                series=series,
                limit=HISTORY_POINTS,
            )
            points = [Point(float(h.value), h.measured_at) for h in history if h.value is not None]
            v = judge(
                points,
                Point(value, at),
                params,
                unit=kind.unit,
                direction=kind.direction,
                label=kind.label(metric, item, f"{r.layer}.{r.dataset}"),
            )
            verdict = ANOMALY if v.anomalous else NORMAL if v.judged else LEARNING
            out.append(
                replace(
                    base,
                    metric=metric,
                    item=item,
                    value=value,
                    verdict=verdict,
                    severity="warning" if v.anomalous else None,
                    score=v.score,
                    baseline_median=None if v.baseline is None else v.baseline.median,
                    baseline_low=None if v.baseline is None else v.baseline.low,
                    baseline_high=None if v.baseline is None else v.baseline.high,
                    baseline_n=None if v.baseline is None else v.baseline.n,
                    reason=_where(v.reason, partition),
                )
            )
    return out


def _where(reason: str, partition: dict[str, str]) -> str:
    if not partition:
        return reason
    return f"{reason} ({', '.join(f'{k} {v}' for k, v in sorted(partition.items()))})"


#: labels of a data metric's signals before its partition's
METRIC_KEYS = ("source", "layer", "dataset", "metric")


def signals_of(m: DataMetric, decision: str | None = None) -> list[Signal]:
    """``anomaly`` and ``anomaly_score`` of a judged metric (none while it is learning, none
    for a bookmaker that left the feed); ``decision``: its gate's (a quarantined batch's
    metrics supersede nothing)."""
    if m.verdict not in (NORMAL, ANOMALY) or m.score is None:
        return []
    labels = {"source": m.source, "layer": m.layer, "dataset": m.dataset, "metric": m.metric}
    item_label = METRICS[m.metric].item_label if m.metric in METRICS else None
    if item_label and m.item:
        labels[item_label] = m.item
    for k, v in sorted(m.partition.items()):
        labels.setdefault(k, str(v))
    detail = {
        **m.to_json(),
        "decision": decision or Decision.PROMOTED.value,
        "reason": m.reason,
    }
    detail.pop("partition", None)
    at = m.measured_at
    return [
        Signal("anomaly", 1.0 if m.verdict == ANOMALY else 0.0, labels, at, detail, m.batch_seq),
        Signal("anomaly_score", float(m.score), labels, at, detail, m.batch_seq),
    ]


def findings_json(findings: Sequence[DataMetric]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(f.to_json())) for f in findings]
