"""Opening the GX project (``gx/``) once per process, with busta's action registered."""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from busta_quality.errors import QualityEngineError

# GX reports usage to a remote service by default; busta never phones home.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def get_context(gx_dir: str) -> Any:
    """The GX file context of the project whose ``great_expectations.yml`` is in ``gx_dir``."""
    path = Path(gx_dir)
    if not (path / "great_expectations.yml").is_file():
        raise QualityEngineError(
            f"{path}: no great_expectations.yml (GX project not found)",
            "set gx.project_dir in busta.yml to the folder that holds great_expectations.yml",
        )
    import great_expectations as gx

    import busta_quality.quality.action  # noqa: F401 - registers the "busta" action type

    for name in ("great_expectations", "tqdm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return gx.get_context(mode="file", project_root_dir=str(path.parent))
    except Exception as exc:
        raise QualityEngineError(
            f"{path}/great_expectations.yml: GX could not open the project: {exc}",
            "run `git status gx/` to see local changes; the committed file is known to work",
        ) from exc
