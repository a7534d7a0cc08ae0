"""busta-quality: quality gates and source health for the busta sports-betting lake.

Python API (cheap to import; heavy modules load on first use)::

    from busta_quality import after_ingest
    report = after_ingest("football_data", "landing/E0.csv", config="busta.yml")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from busta_quality.orchestration.ingest import IngestReport
    from busta_quality.service.runs import after_ingest

__all__ = ["IngestReport", "__version__", "after_ingest"]


def __getattr__(name: str) -> Any:
    if name == "after_ingest":
        from busta_quality.service.runs import after_ingest

        return after_ingest
    if name == "IngestReport":
        from busta_quality.orchestration.ingest import IngestReport

        return IngestReport
    raise AttributeError(name)
