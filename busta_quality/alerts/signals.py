"""Signals: the measured values rules evaluate, and the alert identity (fingerprint).

A gate's :class:`~busta_quality.models.CheckResult` becomes four signals here; probes (and
anything else) hand their own :class:`~busta_quality.models.Signal` rows to the same rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath
from types import MappingProxyType
from typing import Any

from busta_quality.models import CheckResult, Severity, Signal

#: sample values an alert's detail keeps per failed expectation
DETAIL_SAMPLE = 10


#: every signal a rule can name: the gate's (for every result) and the source probes'
SIGNALS: Mapping[str, str] = MappingProxyType(
    {
        "quality_score": "passed / evaluated expectations of a gate result, 0..1",
        "critical_failures": "failed critical expectations of a gate result",
        "warning_failures": "failed warning expectations of a gate result",
        "check_errors": "expectations of a gate result that could not be evaluated",
        "response_time": "a source probe's response time, seconds",
        "probe_failure_rate": "failed probes of a source over the window, 0..1",
        "freshness_age": "age of a source's newest data, seconds",
        "input_rejected": "1 when a landing file was refused before it became a batch "
        "(over a limit, not decodable, not the format), 0 when the same file name is read",
        "anomaly": "1 when a data metric or a probe's response time (label metric) is an "
        "anomaly against its baseline, else 0",
        "anomaly_score": "a data metric's or a probe's robust score: SDs (1.4826 MAD) from "
        "its baseline",
        "probe_up": "1 when a source probe succeeded, 0 when it failed",
    }
)


def signals_from_check(result: CheckResult) -> list[Signal]:
    """The gate's signals: quality_score, critical_failures, warning_failures, check_errors.

    All four are always emitted (zero included) so a clean run resolves open alerts.
    The labels are the alert's subject: the source, layer, dataset and suite plus the judged
    batch's partition (the values of the partition columns its source kind declares, e.g.
    ``league``, ``season``). ``run_id`` goes into ``detail``, never into labels.
    """
    labels = subject_labels(result)
    base = {
        "run_id": result.run_id,
        "batch": result.batch,
        "rows": result.rows,
        "engine": result.engine,
        "origin": result.origin,
        "data_docs": result.data_docs,
        "decision": result.decision.value if result.decision else None,
        "quality_score": round(result.quality_score, 4),
        "evaluated": result.evaluated,
        "failed": result.failed,
        "finished_at": result.finished_at.isoformat(),
        "batch_seq": result.batch_seq,
    }

    def failures(severity: Severity | None) -> list[dict[str, Any]]:
        return [
            f.to_json(sample_limit=DETAIL_SAMPLE, observed=True, plain=True)
            for f in result.failures
            if severity is None or f.severity == severity
        ]

    errors = [e.to_json() for e in result.errors]
    crit = failures(Severity.CRITICAL)
    warn = failures(Severity.WARNING)
    at, seq = result.finished_at, result.batch_seq
    return [
        Signal("quality_score", result.quality_score, labels, at,
               {**base, "failures": failures(None), "errors": errors}, seq),
        Signal("critical_failures", float(len(crit)), labels, at, {**base, "failures": crit},
               seq),
        Signal("warning_failures", float(len(warn)), labels, at, {**base, "failures": warn},
               seq),
        Signal("check_errors", float(len(result.errors)), labels, at,
               {**base, "errors": errors}, seq),
    ]  # fmt: skip


#: the labels every gate signal carries before its partition's
SUBJECT_KEYS = ("source", "layer", "dataset", "suite")


def signal_for_input(
    source: str,
    path: str,
    *,
    rejected: bool,
    at: datetime,
    detail: Mapping[str, Any] | None = None,
    seq: int | None = None,
) -> Signal:
    """``input_rejected``: 1 for a landing file refused before it became a batch, 0 when a
    file of the same name (re-landed, fixed) is read. The labels are the source and the
    file's name, so the alert of one bad file is resolved by that file alone."""
    labels = {
        "source": source,
        "layer": "bronze",
        "dataset": source,
        "input": PurePath(path).name,
    }
    return Signal("input_rejected", 1.0 if rejected else 0.0, labels, at, dict(detail or {}), seq)


def subject_labels(result: CheckResult) -> dict[str, str]:
    """What a gate result judges: its dataset and the batch's partition values (a partition
    column named like one of :data:`SUBJECT_KEYS` is left out, it cannot rename them)."""
    labels = {
        "source": result.source,
        "layer": result.layer,
        "dataset": result.dataset,
        "suite": result.suite,
    }
    for k, v in sorted(result.partition.items()):
        if k not in labels:
            labels[k] = str(v)
    return labels


def fingerprint(rule: str, labels: Mapping[str, str]) -> str:
    """An alert's identity: its rule and its labels."""
    raw = json.dumps({"rule": rule, "labels": dict(labels)}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]
