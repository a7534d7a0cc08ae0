"""busta's verdict on its Data Docs pages: decision, quality score and severity.

GX's pages say only "Succeeded" or "Failed": a batch promoted with warnings looks like a
quarantined one. The gate hands each result's decision and quality score to the command's
:class:`~busta_quality.quality.docs.Pages` (``judge``), which keeps them in
``gx/uncommitted/busta_verdicts.json`` (page path → verdict; pruned with the pages) and makes
them current while the pages render (:func:`rendering`). Two GX renderers are wrapped once per
process (:func:`enable`, from :func:`busta_quality.quality.docs_escape.enable`):

- a validation page gets a ``busta`` part: the decision, the score, the reason, and every
  expectation with its severity (the ``severity`` of its configuration, the suite's meta) and
  outcome; busta's ``page.j2`` shows it as a card above GX's sections;
- the index's table of validation results gets three columns: busta's decision, the worst
  severity that failed, and the quality score.

Every value goes through :func:`busta_quality.quality.docs_escape.escape_document` with the
rest of the page. A result busta did not gate (a plain GX client's checkpoint, ``busta check``)
shows "not gated".
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from busta_quality.models import CheckResult, Decision

log = logging.getLogger(__name__)

#: the verdicts of the retained results, in the GX project's uncommitted/
VERDICTS = "busta_verdicts.json"

#: what the pages call each decision
LABELS = {
    Decision.PROMOTED.value: "promoted",
    Decision.PROMOTED_WITH_WARNINGS.value: "promoted with warnings",
    Decision.QUARANTINED.value: "quarantined",
    "unverified": "unverified (quarantined: a critical check could not run)",
    "not_gated": "not gated",
}
_SEVERITIES = ("critical", "warning", "info")

_current: ContextVar[dict[str, Any] | None] = ContextVar("busta_verdicts", default=None)
_lock = threading.Lock()
_enabled = False


def page_path(key_tuple: tuple[str, ...] | list[str]) -> str:
    """The site-relative path of a validation result's page from its key's tuple
    (``(*suite parts, run name, run time, batch)``)."""
    return "validations/" + "/".join(str(p) for p in key_tuple) + ".html"


def verdict_of(result: CheckResult) -> dict[str, Any]:
    """What a page shows of busta's judgement of ``result``."""
    if result.decision is None:
        decision = "not_gated"
    elif result.decision is Decision.QUARANTINED and result.critical_errors:
        decision = "unverified"
    else:
        decision = result.decision.value
    return {
        "decision": decision,
        "score": round(result.quality_score, 4),
        "severity": result.max_severity or "none",
        "failed": result.failed,
        "evaluated": result.evaluated,
        "errors": len(result.errors),
    }


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("pages", {}) if isinstance(data, dict) else {}


def save(path: Path, verdicts: dict[str, Any]) -> None:
    """Written atomically; a failure to write only loses the verdicts on the pages."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"pages": verdicts}, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        log.warning("could not write %s", path, exc_info=True)
        tmp.unlink(missing_ok=True)


def _result_dir(path: str) -> str:
    """A page's directory (``validations/<suite parts>/<run name>/<run time>``): one
    validation of one suite (a stored result does not keep the batch part of its key)."""
    return path.rsplit("/", 1)[0]


@contextmanager
def rendering(verdicts: dict[str, Any]) -> Iterator[None]:
    """The verdicts the pages rendered in this block show."""
    token = _current.set({_result_dir(p): v for p, v in verdicts.items()})
    try:
        yield
    finally:
        _current.reset(token)


def _lookup(path: str) -> dict[str, Any] | None:
    verdicts = _current.get()
    return None if verdicts is None else verdicts.get(_result_dir(path))


def _severity(config: Any) -> str:
    value = getattr(config, "severity", None)
    value = str(getattr(value, "value", value) or "critical")
    return value if value in _SEVERITIES else "critical"


def page_part(vr: Any) -> dict[str, Any]:
    """The ``busta`` part of a validation page (see the module doc)."""
    from busta_quality.quality.results import _column

    expectations = []
    for er in getattr(vr, "results", None) or []:
        config = er.expectation_config
        result = er.result or {}
        if er.exception_info and er.exception_info.get("raised_exception"):
            status = "error"
        else:
            status = "passed" if er.success else "failed"
        pct = result.get("unexpected_percent")
        expectations.append(
            {
                "expectation": str(config.type),
                "column": _column(dict(config.kwargs)) or "",
                "severity": _severity(config),
                "status": status,
                "unexpected": f"{pct:.2f}%"
                if isinstance(pct, int | float) and pct == pct and status == "failed"
                else "",
            }
        )
    try:
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = vr.meta.get("run_id")
        if isinstance(run_id, dict):
            run_id = RunIdentifier(run_name=run_id.get("run_name"), run_time=run_id.get("run_time"))
        key = (*vr.suite_name.split("."), *run_id.to_tuple(), "page")
        verdict = _lookup(page_path(key))
    except Exception:  # a result without the meta GX's gate writes: no verdict
        verdict = None
    verdict = dict(verdict or {"decision": "not_gated"})
    decision = verdict.get("decision")
    if decision not in LABELS:
        decision = "not_gated"
    score = verdict.get("score")
    return {
        "decision": decision,
        "decision_text": LABELS[decision],
        "score": f"{score * 100:.2f}%" if isinstance(score, int | float) else "",
        "expectations": expectations,
    }


def index_cells(row: dict[str, Any]) -> dict[str, Any]:
    """busta's cells of one row of the index's validation results table."""
    from great_expectations.render import RenderedStringTemplateContent

    raw = row.get("_table_row_link_path") or ""
    verdict = _lookup(urllib.parse.unquote(str(raw))) or {"decision": "not_gated"}
    decision = verdict.get("decision")
    decision = decision if decision in LABELS else "not_gated"
    severity = verdict.get("severity")
    severity = severity if severity in _SEVERITIES else "none"
    score = verdict.get("score")

    def badge(text: str, css: str) -> Any:
        return RenderedStringTemplateContent(
            content_block_type="string_template",
            string_template={
                "template": "$text",
                "params": {"text": text},
                "styling": {"params": {"text": {"classes": ["busta-badge", f"busta-{css}"]}}},
            },
        )

    label = "unverified" if decision == "unverified" else LABELS[decision]
    return {
        "busta_decision": badge(label, decision),
        "_busta_decision_text": label,
        "busta_severity": badge(severity if severity != "none" else "—", severity),
        "_busta_severity_text": severity,
        "busta_score": f"{score * 100:.2f}%" if isinstance(score, int | float) else "",
        "_busta_score_sort": score if isinstance(score, int | float) else -1,
    }


INDEX_COLUMNS = [
    {
        "field": "busta_decision",
        "title": "busta decision",
        "sortable": "true",
        "sortName": "_busta_decision_text",
        "filterControl": "select",
        "filterDataCollector": "bustaDecisionFilterDataCollector",
    },
    {
        "field": "busta_severity",
        "title": "Worst failure",
        "sortable": "true",
        "sortName": "_busta_severity_text",
        "filterControl": "select",
        "filterDataCollector": "bustaSeverityFilterDataCollector",
    },
    {
        "field": "busta_score",
        "title": "Quality score",
        "sortable": "true",
        "sortName": "_busta_score_sort",
    },
]


def _annotate_index(node: Any, seen: set[int]) -> None:
    """Add busta's columns to every validation results table under ``node``."""
    if id(node) in seen:
        return
    seen.add(id(node))
    rows = getattr(node, "table_data", None)
    columns = getattr(node, "table_columns", None)
    if isinstance(rows, list) and isinstance(columns, list):
        if any(
            isinstance(r, dict)
            and str(r.get("_table_row_link_path", "")).startswith("validations/")
            for r in rows
        ) and not any(isinstance(c, dict) and c.get("field") == "busta_decision" for c in columns):
            columns[1:1] = [dict(c) for c in INDEX_COLUMNS]
            for r in rows:
                if isinstance(r, dict):
                    r.update(index_cells(r))
        return
    children: list[Any]
    if isinstance(node, dict):
        children = list(node.values())
    elif isinstance(node, list | tuple):
        children = list(node)
    elif hasattr(node, "__dict__"):
        children = list(vars(node).values())
    else:
        return
    for child in children:
        if isinstance(child, dict | list | tuple) or hasattr(child, "__dict__"):
            _annotate_index(child, seen)


def enable() -> None:
    """Wrap GX's validation page and index renderers (idempotent)."""
    global _enabled
    with _lock:
        if _enabled:
            return
        from great_expectations.render.components import RenderedDocumentContent
        from great_expectations.render.renderer import (
            SiteIndexPageRenderer,
            ValidationResultsPageRenderer,
        )

        gx_page = ValidationResultsPageRenderer.render

        def render_page(self: Any, validation_results: Any, *args: Any, **kwargs: Any) -> Any:
            document = gx_page(self, validation_results, *args, **kwargs)
            try:
                part = page_part(validation_results)
            except Exception:
                log.warning("busta's verdict could not be added to a page", exc_info=True)
                return document
            document.busta_part = part  # written out by to_json_dict (below)
            return document

        gx_json = RenderedDocumentContent.to_json_dict

        def to_json_dict(self: Any) -> dict[str, Any]:
            out: dict[str, Any] = gx_json(self)
            part = getattr(self, "busta_part", None)
            if part is not None:
                out["busta"] = part
            return out

        gx_index = SiteIndexPageRenderer.render.__func__  # type: ignore[attr-defined]

        def render_index(cls: Any, index_links_dict: Any, *args: Any, **kwargs: Any) -> Any:
            document = gx_index(cls, index_links_dict, *args, **kwargs)
            try:
                _annotate_index(document, set())
            except Exception:
                log.warning("busta's verdicts could not be added to the index", exc_info=True)
            return document

        to_json_dict.__wrapped__ = gx_json  # type: ignore[attr-defined]
        RenderedDocumentContent.to_json_dict = to_json_dict  # type: ignore[method-assign]
        render_page.__wrapped__ = gx_page  # type: ignore[attr-defined]
        render_index.__wrapped__ = gx_index  # type: ignore[attr-defined]
        ValidationResultsPageRenderer.render = render_page  # type: ignore[method-assign]
        SiteIndexPageRenderer.render = classmethod(render_index)  # type: ignore[method-assign,assignment]
        _enabled = True
