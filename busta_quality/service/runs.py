"""Ingest, quality-check, demo, Data Docs and config: the operations that run the gates."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from busta_quality.errors import BustaError, ExitCode
from busta_quality.models import CheckResult, Decision, Severity
from busta_quality.settings import BustaConfig

if TYPE_CHECKING:
    import pandas as pd

    from busta_quality.orchestration.ingest import IngestReport, InputOutcome
    from busta_quality.quality.docs import PendingPages
    from busta_quality.store import Store


def exit_code_for(
    runs: Sequence[CheckResult], fail_on: str = "critical", errors: Sequence[BustaError] = ()
) -> ExitCode:
    """``quality-check``'s exit code: the highest of 3 (an input could not be read, a critical
    check could not run), 2 (an unknown path or id), 1 (a failure at or above ``fail_on``)
    and 0 (warnings allowed)."""
    level = Severity(fail_on)
    codes = [e.exit_code for e in errors]
    codes += [ExitCode.RUNTIME for r in runs if r.critical_errors]
    codes += [ExitCode.QUALITY_FAILURE for r in runs if r.has_failure_at(level)]
    return max(codes, default=ExitCode.OK)


def decision_exit_code(runs: Sequence[CheckResult], errors: Sequence[BustaError] = ()) -> ExitCode:
    """``ingest``'s exit code follows its decisions, whatever the layer policies: the highest
    of its per-file outcomes, 3 (unreadable input, store down, a critical check that could
    not run) > 2 (an unknown path) > 1 (a batch quarantined, by a check or an input
    rejection) > 0 (every batch promoted, warnings allowed)."""
    codes = [e.exit_code for e in errors]
    for r in runs:
        if r.critical_errors:
            codes.append(ExitCode.RUNTIME)
        elif r.decision is Decision.QUARANTINED:
            codes.append(ExitCode.QUALITY_FAILURE)
    return max(codes, default=ExitCode.OK)


@dataclass(frozen=True)
class RunReport:
    """What an ingest or a quality-check did: one result per validated batch, the inputs
    that could not be read, and the exit code those outcomes map to."""

    runs: list[CheckResult]
    errors: list[BustaError]
    exit_code: ExitCode
    #: an ingest's inputs, one per file (and per empty directory): ``None`` for other reports
    inputs: list[InputOutcome] | None = None
    #: Data Docs pages left to render (``ingest(..., defer_docs=True)``; not in the JSON)
    pending_docs: PendingPages | None = None

    @classmethod
    def of(
        cls,
        runs: Sequence[CheckResult],
        errors: Sequence[BustaError],
        fail_on: str = "critical",
        code: ExitCode | None = None,
    ) -> RunReport:
        """A quality-check's report (exit by ``fail_on``), or one with a given ``code``."""
        return cls(
            list(runs),
            list(errors),
            exit_code_for(runs, fail_on, errors) if code is None else code,
        )

    @classmethod
    def of_decisions(
        cls,
        runs: Sequence[CheckResult],
        errors: Sequence[BustaError],
        inputs: Sequence[InputOutcome] | None = None,
    ) -> RunReport:
        """An ingest's report: the exit code follows the promotion decisions."""
        return cls(
            list(runs),
            list(errors),
            decision_exit_code(runs, errors),
            None if inputs is None else list(inputs),
        )

    @property
    def data_docs_index(self) -> str | None:
        """The Data Docs index the runs' pages belong to (None when Data Docs are off)."""
        page = next((r.data_docs for r in self.runs if r.data_docs), None)
        return f"{page.split('/validations/')[0]}/index.html" if page else None

    def to_json(self) -> dict[str, Any]:
        """The documented ``--json`` object (docs/cli.md)."""
        out: dict[str, Any] = {
            "ok": self.exit_code is ExitCode.OK,
            "exit_code": int(self.exit_code),
            "runs": [r.to_json() for r in self.runs],
        }
        if self.inputs is not None:
            out["inputs"] = [i.to_json() for i in self.inputs]
        if self.errors:
            out["input_errors"] = [e.to_dict() for e in self.errors]
        return out


@dataclass(frozen=True)
class DemoReport:
    """``busta demo``: the runs of the generated files, where everything went."""

    report: RunReport
    seed: int
    landing_dir: Path
    lake: Path
    store_url: str
    data_docs: Path
    seconds: float

    @property
    def quarantined(self) -> list[str]:
        return sorted(
            {
                f"{r.layer}/{r.dataset}/{r.run_id}"
                for r in self.report.runs
                if r.decision is Decision.QUARANTINED
            }
        )

    def to_json(self) -> dict[str, Any]:
        return {**self.report.to_json(), "data_docs": str(self.data_docs), "seconds": self.seconds}


def ingest(
    cfg: BustaConfig, store: Store, source: str, paths: list[Path], *, defer_docs: bool = False
) -> RunReport:
    """Land ``paths`` of ``source`` in bronze and gate them through silver and gold; then
    deliver the notifications the gates queued (bounded, the outbox keeps the rest). The
    exit code follows the decisions (:func:`decision_exit_code`). ``defer_docs``: the Data
    Docs pages are not rendered but returned as ``pending_docs`` (:func:`render_docs`)."""
    from busta_quality.orchestration.gate import RunContext
    from busta_quality.orchestration.ingest import deliver_alerts
    from busta_quality.orchestration.ingest import ingest as run_ingest
    from busta_quality.service.lake import startup

    cfg.source(source)
    startup(cfg, store)
    run = RunContext.open(cfg, store, defer_docs=defer_docs)
    try:
        result = run_ingest(run, source, paths)
    finally:  # what moved is in the catalog even when a later step failed
        run.finish()
    deliver_alerts(cfg, store)
    report = RunReport.of_decisions(result.runs, result.errors, result.inputs)
    return replace(report, pending_docs=run.pending_docs()) if defer_docs else report


def render_docs(cfg: BustaConfig, pending: PendingPages) -> Path | None:
    """Render Data Docs pages an ingest deferred (and the index); the index's path."""
    from busta_quality.quality.docs import render_pending

    return render_pending(cfg, pending)


def warm_up() -> None:
    """Import what a gate needs (GX, DuckDB, delta-rs: seconds) so that a long-running
    process's first ingest does not pay for it (``busta serve`` runs it at start)."""
    import busta_quality.orchestration.ingest
    import busta_quality.quality.validate  # noqa: F401


def after_ingest(
    source: str,
    data: pd.DataFrame | str | Path,
    *,
    config: BustaConfig | str | Path | None = None,
    run_id: str | None = None,
) -> IngestReport:
    """The post-ingestion hook for pipelines that land data by other means.

    ``data`` is either a landing file (read with the source's reader) or a bronze frame you
    built yourself (it must carry the bronze columns of the source, docs/layers.md). The batch
    is gated in bronze, then silver and gold are built and gated, exactly as
    ``busta ingest`` does; Data Docs are updated and queued alerts delivered. Returns the
    :class:`~busta_quality.orchestration.ingest.IngestReport`; nothing is raised for bad data.
    """
    from busta_quality.lake import new_run_id
    from busta_quality.orchestration.gate import RunContext
    from busta_quality.orchestration.ingest import deliver_alerts, ingest_file, run_pipeline
    from busta_quality.pipeline.kinds import source_kind
    from busta_quality.settings import load_config, masking
    from busta_quality.settings.security import file_modes
    from busta_quality.store import open_store

    masking.install_log_filter()  # no log record shows a secret of busta.yml
    cfg = config if isinstance(config, BustaConfig) else load_config(config)
    with file_modes(cfg.security):  # what the hook creates is owner-only, as busta ingest
        store = open_store(cfg.store_url)
        run_id = run_id or new_run_id()
        run = RunContext.open(cfg, store)
        try:
            if isinstance(data, str | Path):
                kind = source_kind(cfg.source(source).kind)
                report = ingest_file(run, source, kind, Path(data), run_id=run_id)
            else:
                report = run_pipeline(run, source, data, run_id=run_id)
        finally:  # what moved is in the catalog even when a later step failed
            run.finish()
        deliver_alerts(cfg, store)
    return report


def quality_check(
    cfg: BustaConfig,
    store: Store,
    *,
    layer: str | None = None,
    source: str | None = None,
    which: str = "latest",
    fail_on: str = "critical",
    alerts: bool | None = None,
) -> RunReport:
    """Validate what is in the lake now (nothing moves; results recorded). Alerts are fed
    for ``which="latest"``; re-checking older batches (``all``, a run id) is read-only for
    alerting unless ``alerts`` is true."""
    from busta_quality.orchestration.check import check_lake
    from busta_quality.orchestration.gate import RunContext
    from busta_quality.orchestration.ingest import deliver_alerts
    from busta_quality.service.lake import startup

    startup(cfg, store)
    run = RunContext.open(cfg, store)
    feed = which == "latest" if alerts is None else alerts
    try:
        runs, errors = check_lake(run, layer=layer, source=source, which=which, alerts=feed)
    finally:
        run.finish()
    if feed:
        deliver_alerts(cfg, store)
    return RunReport.of(runs, errors, fail_on)


def demo(
    cfg: BustaConfig,
    store: Store,
    *,
    seed: int = 7,
    teams: int = 20,
    bookmakers: int = 6,
    out_dir: Path = Path("demo-data"),
) -> DemoReport:
    """Generate a sample league, ingest it through every layer, build Data Docs."""
    from busta_quality.orchestration.gate import RunContext
    from busta_quality.orchestration.ingest import IngestReport, deliver_alerts
    from busta_quality.orchestration.ingest import ingest as run_ingest
    from busta_quality.pipeline.sample import generate_demo
    from busta_quality.quality.docs import build

    started = time.perf_counter()
    landing = cfg.path(str(out_dir))
    files = generate_demo(landing, seed=seed, teams=teams, bookmakers=bookmakers)
    result = IngestReport()
    for source, paths in files.items():
        run = RunContext.open(cfg, store)
        try:
            result.extend(run_ingest(run, source, list(paths)))
        finally:
            run.finish()
    deliver_alerts(cfg, store)
    index = build(cfg)
    return DemoReport(
        # the demo shows a quarantine on purpose: it succeeds when it ran
        report=RunReport.of(result.runs, result.errors, code=ExitCode.OK),
        seed=seed,
        landing_dir=landing,
        lake=cfg.lake_root,
        store_url=store.url,
        data_docs=index,
        seconds=round(time.perf_counter() - started, 2),
    )


def build_data_docs(cfg: BustaConfig) -> Path:
    """Rebuild Data Docs; the path of the index page."""
    from busta_quality.quality.docs import build

    return build(cfg)


def suites_markdown(cfg: BustaConfig) -> str:
    """Every suite's expectations as Markdown (what docs/suites.md holds)."""
    from busta_quality.quality.suitedoc import render

    return render(cfg.gx_dir.parent / "expectations")
