"""Opening the GX project (``gx/``) once per process, with the checkpoint action types its
checkpoints use registered first.

GX registers an action type when its class is imported, and refuses a checkpoint naming an
unknown type. Action types are plugins: every ``busta.gx_actions`` entry point is imported
before the context opens (busta's own ``busta`` action, which records a plain GX client's
runs, is registered there like any other).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from busta_quality.errors import QualityEngineError
from busta_quality.quality import docs_escape
from busta_quality.settings.faults import crash_point

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

    register_action_types()
    docs_escape.enable()  # every value a Data Docs page shows is escaped
    for name in ("great_expectations", "tqdm"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        context = gx.get_context(mode="file", project_root_dir=str(path.parent))
    except Exception as exc:
        raise QualityEngineError(
            f"{path}/great_expectations.yml: GX could not open the project: {exc}",
            "run `git status gx/` to see local changes; the committed file is known to work",
        ) from exc
    crash_point("ready")  # fault injection: the engines are loaded, the work begins
    return context


ACTION_TYPES_GROUP = "busta.gx_actions"


@lru_cache(maxsize=1)
def register_action_types() -> list[str]:
    """Import every checkpoint action type plugin (``busta.gx_actions`` entry points)."""
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group=ACTION_TYPES_GROUP):
        try:
            ep.load()
        except Exception:
            log.warning("checkpoint action plugin %s (%s) failed to load", ep.name, ep.value,
                        exc_info=True)  # fmt: skip
            continue
        loaded.append(ep.name)
    return loaded


#: the config variable the ``busta_lake`` datasource reads its catalog's URL from
LAKE_CATALOG_VARIABLE = "busta_lake_catalog"


def publish_lake_catalog(gx_dir: Path, catalog: Path) -> None:
    """Point the GX project's ``busta_lake`` datasource at ``catalog``: the variable in
    ``uncommitted/config_variables.yml`` (other variables kept; written only when it changes,
    owner-only)."""
    import yaml

    file = Path(gx_dir) / "uncommitted" / "config_variables.yml"
    url = f"duckdb:///{catalog.resolve()}"
    try:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) if file.exists() else {}
    except (OSError, yaml.YAMLError) as exc:
        raise QualityEngineError(
            f"{file}: cannot read GX's config variables ({exc})",
            "fix or remove the file; busta rewrites its own variable",
        ) from exc
    doc = doc if isinstance(doc, dict) else {}
    if doc.get(LAKE_CATALOG_VARIABLE) == url:
        return
    doc[LAKE_CATALOG_VARIABLE] = url
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh, sort_keys=True)
    os.replace(tmp, file)
