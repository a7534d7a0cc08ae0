"""Where a batch is validated: binding a staged batch to a GX validation definition.

``pandas`` validates the frame in memory through the committed dataframe asset. Other
engines (duckdb, sql, spark) bind the same suite to a runtime datasource; see docs/engines.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from busta_quality.errors import UsageError

if TYPE_CHECKING:
    from busta_quality.config import BustaConfig, LayerPolicy
    from busta_quality.quality.gate import StagedBatch


@contextmanager
def bind(
    cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield ``(validation_definition, batch_parameters)`` for the layer's engine."""
    if policy.engine == "pandas":
        yield stored_vd, {"dataframe": load_frame(batch)}
        return
    raise UsageError(
        f"layers.{batch.layer}.engine: {policy.engine!r} is not available in this build",
        "use engine: pandas",
    )


def load_frame(batch: StagedBatch) -> Any:
    if batch.frame is None:
        import pandas as pd

        batch.frame = pd.read_parquet(batch.path)
    return batch.frame


def columns_of(batch: StagedBatch) -> set[str]:
    if batch.frame is not None:
        return {str(c) for c in batch.frame.columns}
    import pyarrow.parquet as pq

    return set(pq.read_schema(batch.path).names)
