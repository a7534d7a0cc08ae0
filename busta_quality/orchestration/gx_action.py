"""The busta checkpoint action: a plain GX client's checkpoint run is recorded in busta.

Each layer checkpoint in ``checkpoints/`` lists ``{"type": "busta"}`` after GX's
``update_data_docs``. When a plain GX client runs the checkpoint, this action records the
results in busta's store (``origin = "gx"``) and feeds the alert rules, through the same
functions as busta's own gates. busta's gates do not run this action: they record their
results themselves (with the promotion decision) and run only the checkpoint's other actions.

GX registers an action type when its module is imported: ``gx/plugins/busta_action.py``
imports this module (GX puts ``gx/plugins/`` on ``sys.path``), so a plain GX client writes
``import busta_action`` (or ``import busta_quality.orchestration.gx_action``) before loading
a checkpoint. GX lets an exception in an action escape ``checkpoint.run()``, so this action
never raises.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

from great_expectations.checkpoint.actions import ValidationAction

from busta_quality.models import CheckResult
from busta_quality.quality import docs_escape
from busta_quality.quality.engines import enable_duckdb_persisted_connection

log = logging.getLogger(__name__)

# GX reads DuckDB results after closing the connection unless it keeps one open: the lake's
# catalog assets (datasource ``busta_lake``) that the layer checkpoints validate need it as
# much as busta's own duckdb engine, so importing the action enables it
enable_duckdb_persisted_connection()
# the Data Docs a plain GX client's checkpoint run writes escape every value, as busta's do
docs_escape.enable()


def _observed_rows(vr: Any) -> int:
    for er in vr.results:
        if er.expectation_config.type == "expect_table_row_count_to_be_between":
            value = (er.result or {}).get("observed_value")
            if isinstance(value, int):
                return value
    return 0


class BustaRecordAction(ValidationAction):
    """Record validation results in busta's SQL store (GX checkpoint action ``busta``)."""

    type: Literal["busta"] = "busta"
    name: str = "busta"
    #: busta.yml to use when a plain GX client runs the checkpoint; default: $BUSTA_CONFIG
    #: then ./busta.yml
    busta_config: str | None = None

    def run(self, checkpoint_result: Any, action_context: Any = None) -> dict:
        try:
            return self._run(checkpoint_result, action_context)
        except Exception:
            log.exception("busta action failed; the validation result is kept by GX")
            return {"recorded": 0, "error": True}

    def _run(self, checkpoint_result: Any, action_context: Any) -> dict:
        from busta_quality.quality.results import to_check_result

        docs = self._get_data_docs_pages_from_prior_action(action_context) or {}
        now = datetime.now(UTC)
        results: list[CheckResult] = []
        skipped = []
        for key, vr in checkpoint_result.run_results.items():
            layer, _, dataset = vr.suite_name.partition(".")
            if _no_current_batch(vr, f"{layer}_{dataset}"):
                skipped.append(vr.suite_name)
                continue
            pages = docs.get(key) or {}
            page = next(iter(pages.values()), None) if isinstance(pages, dict) else None
            run_name = checkpoint_result.run_id.run_name
            run_time = checkpoint_result.run_id.run_time or now
            results.append(
                to_check_result(
                    vr,
                    run_id=run_name or f"gx-{run_time:%Y%m%dT%H%M%SZ}",
                    layer=layer,
                    source=dataset if layer == "bronze" else "gx",
                    dataset=dataset,
                    batch=str(key.batch_identifier),
                    rows=_observed_rows(vr),
                    started_at=run_time,
                    finished_at=datetime.now(UTC),
                    engine="gx",
                    data_docs=page,
                    origin="gx",
                )
            )
        if skipped:
            log.warning(
                "nothing to validate for %s: no current batch in the lake yet (not recorded)",
                ", ".join(skipped),
            )
        if results:
            record_plain_run(results, self.busta_config)
        return {"recorded": len(results), "skipped": skipped, "via": "action"}


def _no_current_batch(vr: Any, view: str) -> bool:
    """Every expectation errored because the lake catalog has no view for the dataset (it has
    no promoted batch yet): nothing was validated, so nothing is recorded or alerted on."""
    needle = f"Table with name {view} does not exist"
    return bool(vr.results) and all(
        er.exception_info and needle in str(er.exception_info) for er in vr.results
    )


def record_plain_run(results: list[CheckResult], config_path: str | None) -> None:
    """Record a plain GX client's results and alert on them, as busta's gates do."""
    from busta_quality.orchestration.gate import feed_alerts
    from busta_quality.orchestration.ingest import deliver_alerts
    from busta_quality.settings import load_config, masking
    from busta_quality.settings.security import file_modes
    from busta_quality.store import open_store

    masking.install_log_filter()  # no log record shows a secret of busta.yml
    cfg = load_config(cli_value=config_path)
    _install_docs_assets(cfg)
    with file_modes(cfg.security):  # a new store file is owner-only, as busta's own
        store = open_store(cfg.store_url)
        for r in results:
            store.record_check(r)
        feed_alerts(cfg, store, results)
        deliver_alerts(cfg, store)


def _install_docs_assets(cfg: Any) -> None:
    """The pages GX's ``update_data_docs`` just wrote load their scripts and styles from the
    site's ``static/busta/`` (busta's templates): copy them there, as busta's commands do."""
    from busta_quality.quality.docs import site_dir
    from busta_quality.quality.docs_assets import install_assets

    site = site_dir(cfg)
    if site.is_dir():
        try:
            install_assets(site)
        except OSError:
            log.warning("could not copy the Data Docs assets into %s", site, exc_info=True)
