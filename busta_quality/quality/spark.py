"""The SparkSession of the ``spark`` engine, built once per process from busta.yml ``spark:``.

GX's Spark datasource reuses the active session, so the session busta builds here (master and
conf from busta.yml) is the one GX validates on. ``spark.master`` may be ``local[*]`` (the
default), ``spark://host:7077``, ``yarn``, ``k8s://...``; see docs/engines.md.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from busta_quality.settings import SparkConfig

APP_NAME = "busta-quality"
#: applied unless busta.yml sets them; local masters also stay on loopback
DEFAULTS: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    # pandas/pyarrow write nanosecond timestamps, which Spark refuses to read ("Illegal
    # Parquet type: INT64 (TIMESTAMP(NANOS,true))") unless it reads them as longs; no suite
    # checks a timestamp's type or range, so the verdicts are unchanged (docs/engines.md)
    "spark.sql.legacy.parquet.nanosAsLong": "true",
}
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}

_lock = threading.Lock()
_session: Any = None


def get_session(spark: SparkConfig) -> Any:
    """The process's SparkSession (created on first use with ``spark.master``/``spark.conf``)."""
    global _session
    with _lock:
        if _session is not None and not _is_stopped(_session):
            return _session
        from pyspark.sql import SparkSession

        conf = dict(DEFAULTS)
        if spark.master.startswith("local"):
            conf.update(LOCAL_DEFAULTS)
        conf.update(spark.conf)
        builder = SparkSession.builder.master(spark.master).appName(APP_NAME)
        for key, value in conf.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        return _session


def stop_session() -> None:
    """Stop the session (tests and benchmarks; a CLI process just exits)."""
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
        _session = None


def _is_stopped(session: Any) -> bool:
    try:
        return session.sparkContext._jsc is None
    except Exception:
        return True
