"""One typed function per user operation, shared by the CLI and the REST API.

Each function takes typed arguments and returns a typed result whose ``to_json()`` is the
documented ``--json`` / API shape (docs/cli.md). Nothing here prints or exits; heavy modules
(great_expectations, pandas) are imported inside the functions that need them.

Operations by module: :mod:`.runs` (ingest, quality-check, demo, Data Docs, config),
:mod:`.alerts` (alerts, maintenance windows, channels), :mod:`.project` (init, suites diff).
"""

from __future__ import annotations

from busta_quality.service.lake import LakeVersions, lake_gc, lake_versions
from busta_quality.service.runs import (
    DemoReport,
    RunReport,
    after_ingest,
    build_data_docs,
    demo,
    ingest,
    quality_check,
    render_docs,
    suites_markdown,
)

__all__ = [
    "DemoReport",
    "LakeVersions",
    "RunReport",
    "after_ingest",
    "build_data_docs",
    "demo",
    "ingest",
    "lake_gc",
    "lake_versions",
    "quality_check",
    "render_docs",
    "suites_markdown",
]
