"""Where a batch is validated: binding a staged batch to a GX validation definition.

Every engine validates the *same* stored suite (``expectations/<layer>/<dataset>.json``); only
the data side of the validation definition changes. Each engine has a datasource in
``gx/great_expectations.yml`` with one asset per ``<layer>.<dataset>`` (see docs/engines.md):

- ``pandas`` → ``busta``: dataframe assets; the batch frame (read from parquet if needed).
- ``duckdb`` → ``busta_duckdb``: an in-memory DuckDB; per batch busta creates the view
  ``busta_<layer>_<dataset>`` over ``read_parquet('<staged batch>')`` on GX's persisted
  connection, so GX scans the parquet file in place (nothing is loaded into pandas).
- ``sql`` → ``busta_sql``: its connection string is replaced in memory by the layer's
  ``sql_url``; the batch is streamed from parquet (Arrow record batches, no pandas) into a
  table named after the run, validated there, and dropped.
- ``spark`` → ``busta_spark``: dataframe assets; a lazy ``spark.read.parquet(<batch>)`` on the
  session built from busta.yml ``spark:`` (``quality/spark.py``).

The stored validation definition points at the pandas asset; for the other engines busta
validates an unsaved copy bound to that engine's asset (same name, id and suite). GX private
names busta relies on are used here only (:func:`enable_duckdb_persisted_connection`), and
``tests/test_gx_private_guard.py`` fails loudly if an upgrade removes them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from busta_quality.errors import QualityEngineError, UsageError

if TYPE_CHECKING:
    from busta_quality.models import StagedBatch
    from busta_quality.settings import BustaConfig, LayerPolicy

log = logging.getLogger(__name__)

BATCH_DEFINITION = "batch"
#: rows per Arrow record batch when the sql engine streams a batch into its table
SQL_LOAD_CHUNK = 50_000


class Engine:
    """Where a suite runs: binds a batch to a validation definition, then evaluates it.

    Engines are plugins (entry-point group ``busta.engines``; the four built-ins load the
    same way), chosen per layer by ``layers.<layer>.engine`` in busta.yml.
    """

    name: str = ""
    #: the GX datasource (gx/great_expectations.yml) whose assets the engine validates
    datasource: str = ""

    @contextmanager
    def bind(
        self, cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        """Yield ``(validation_definition, batch_parameters)`` for ``batch``."""
        raise NotImplementedError
        yield  # pragma: no cover

    def evaluate(
        self, vd: Any, batch_parameters: dict[str, Any], *, checkpoint: Any, run_id: Any,
        context: Any,
    ) -> Any:  # fmt: skip
        """The suite's GX validation result (the gate stores it in GX's validation results
        store once it has judged it: ``quality.validate.validate``)."""
        vr = vd.run(
            checkpoint_id=checkpoint.id,
            batch_parameters=batch_parameters,
            result_format=checkpoint.result_format,
            run_id=run_id,
        )
        vr.meta["busta_evaluator"] = "gx"
        return vr


class PandasEngine(Engine):
    name, datasource = "pandas", "busta"

    @contextmanager
    def bind(
        self, cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        # the stored definitions validate the lake's catalog views (what a plain GX client
        # runs); a gate validates the batch itself, on the pandas datasource's twin asset
        yield engine_validation_definition(stored_vd, self.name), {"dataframe": load_frame(batch)}


class DuckDBEngine(Engine):
    """A view over ``read_parquet`` on GX's persisted connection; suites busta can compile
    are evaluated in one DuckDB pass (quality/onepass.py), anything else by GX."""

    name, datasource = "duckdb", "busta_duckdb"

    @contextmanager
    def bind(
        self, cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        with _bind_duckdb(stored_vd, batch) as bound:
            yield bound

    def evaluate(
        self, vd: Any, batch_parameters: dict[str, Any], *, checkpoint: Any, run_id: Any,
        context: Any,
    ) -> Any:  # fmt: skip
        from busta_quality.quality import onepass

        vr = None
        try:
            batch_info = onepass.BatchInfo.for_table_asset(vd.data)
        except onepass.Unsupported:
            batch_info = None
        if batch_info is not None and vd.is_fresh().success:
            with duckdb_relation(vd) as (relation, conn):
                vr = onepass.evaluate(
                    vd.suite,
                    relation,
                    conn,
                    result_format=checkpoint.result_format,
                    run_id=run_id,
                    batch=batch_info,
                    validation_id=vd.id,
                    checkpoint_id=checkpoint.id,
                )
        if vr is None:
            vr = super().evaluate(
                vd, batch_parameters, checkpoint=checkpoint, run_id=run_id, context=context
            )
        else:
            vr.meta["busta_evaluator"] = "onepass"
        return vr


class SqlEngine(Engine):
    """The batch streamed into a table of the layer's ``sql_url`` database."""

    name, datasource = "sql", "busta_sql"

    @contextmanager
    def bind(
        self, cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        if not policy.sql_url:
            raise QualityEngineError(
                f"layers.{batch.layer}.engine: sql needs layers.{batch.layer}.sql_url",
                "set sql_url to a SQLAlchemy URL, e.g. postgresql+psycopg://user:${PGPASSWORD}@host/db",
            )
        with _bind_sql(stored_vd, batch, policy.sql_url) as bound:
            yield bound


class SparkEngine(Engine):
    """A lazy ``spark.read.parquet`` on the session built from busta.yml ``spark:``."""

    name, datasource = "spark", "busta_spark"

    @contextmanager
    def bind(
        self, cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
    ) -> Iterator[tuple[Any, dict[str, Any]]]:
        from busta_quality.quality.spark import get_session

        session = get_session(cfg.spark)
        frame = _spark_frame(session, batch)
        yield engine_validation_definition(stored_vd, self.name), {"dataframe": frame}


PANDAS = PandasEngine()
DUCKDB = DuckDBEngine()
SQL = SqlEngine()
SPARK = SparkEngine()

ENTRY_POINT_GROUP = "busta.engines"


@lru_cache(maxsize=1)
def _registry() -> dict[str, Engine]:
    from importlib.metadata import entry_points

    found: dict[str, Engine] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = ep.load()
        except Exception:
            log.warning("engine plugin %s (%s) failed to load", ep.name, ep.value, exc_info=True)
            continue
        found[ep.name] = plugin() if isinstance(plugin, type) else plugin
    return found


def known_engines() -> list[str]:
    return sorted(_registry())


def engine(name: str) -> Engine:
    """The engine plugin called ``name`` (a ``busta.engines`` entry point)."""
    try:
        return _registry()[name]
    except KeyError:
        raise UsageError(
            f"unknown engine {name!r}",
            "installed engines: " + (", ".join(known_engines()) or "(none)"),
        ) from None


@contextmanager
def bind(
    cfg: BustaConfig, policy: LayerPolicy, stored_vd: Any, batch: StagedBatch
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Yield ``(validation_definition, batch_parameters)`` on the layer's engine."""
    with engine(policy.engine).bind(cfg, policy, stored_vd, batch) as bound:
        yield bound


def load_frame(batch: StagedBatch) -> Any:
    """The batch as a pandas frame: a table version's files (``batch.files``, each with its
    partition values), else the one parquet file."""
    if batch.frame is None:
        import pandas as pd

        if batch.files:
            from busta_quality.lake.delta import arrow_table

            batch.frame = arrow_table(batch.files).to_pandas()
        else:
            batch.frame = pd.read_parquet(batch.path)
    return batch.frame


def columns_of(batch: StagedBatch) -> set[str]:
    if batch.frame is not None:
        return {str(c) for c in batch.frame.columns}
    import pyarrow.parquet as pq

    if batch.files:
        names = set(pq.read_schema(batch.files[0].path).names)
        return names | {c for c, _ in batch.files[0].added}
    return set(pq.read_schema(batch.path).names)


def _spark_frame(session: Any, batch: StagedBatch) -> Any:
    """A lazy Spark frame over the batch: exactly its files, partition values as columns."""
    if not batch.files:
        return session.read.parquet(str(batch.path))
    from pyspark.sql import functions as F

    frame = None
    for f in batch.files:
        part = session.read.parquet(f.path)
        for column, value in f.added:
            part = part.withColumn(column, F.lit(value).cast("string"))
        frame = part if frame is None else frame.unionByName(part, allowMissingColumns=True)
    return frame


# the GX private name for DuckDB ---------------------------------------------------------
class _DialectName(str):
    """A dialect name GX can list among its ``GXSqlDialect`` members (it reads ``.value``)."""

    @property
    def value(self) -> str:
        return str.__str__(self)


def enable_duckdb_persisted_connection() -> None:
    """Make GX keep one connection open for DuckDB (idempotent).

    GX opens a new connection per query unless the dialect is listed in the private
    ``_PERSISTED_CONNECTION_DIALECTS``; an in-memory DuckDB is one database per connection,
    and GX reads DuckDB results after closing the connection ("list index out of range"). With
    ``duckdb`` listed, GX builds the engine with a StaticPool and keeps a single connection:
    the view busta creates is visible to GX's queries and results are read while it is open.
    This is the only place busta touches that name (guarded by tests/test_gx_private_guard.py).
    """
    from great_expectations.execution_engine import sqlalchemy_execution_engine as sae

    current = getattr(sae, "_PERSISTED_CONNECTION_DIALECTS", None)
    if not isinstance(current, tuple):
        raise QualityEngineError(
            "great_expectations changed: sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS"
            f" is {type(current).__name__}, not a tuple; the duckdb engine cannot work",
            "pin great-expectations to the version in constraints.txt, or use engine: pandas",
        )
    if any(_is_duckdb(d) for d in current):
        return
    sae._PERSISTED_CONNECTION_DIALECTS = (*current, _DialectName("duckdb"))


def _is_duckdb(dialect: Any) -> bool:
    return str(getattr(dialect, "value", dialect)).lower() == "duckdb"


# validation definitions bound to another engine ----------------------------------------
def engine_validation_definition(stored_vd: Any, engine_name: str) -> Any:
    """An unsaved copy of ``stored_vd`` (same name, id, suite) on an engine's asset."""
    context = _context_of(stored_vd)
    ds_name = engine(engine_name).datasource
    try:
        asset = context.data_sources.get(ds_name).get_asset(stored_vd.name)
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION)
    except Exception as exc:
        raise QualityEngineError(
            f"gx/great_expectations.yml: datasource {ds_name!r} has no asset "
            f"{stored_vd.name!r} with a batch definition {BATCH_DEFINITION!r} ({exc})",
            "restore gx/great_expectations.yml from git; every engine has one asset per "
            "<layer>.<dataset> (docs/engines.md)",
        ) from exc
    return _engine_vd_class()(
        name=stored_vd.name, id=stored_vd.id, suite=stored_vd.suite, data=batch_definition
    )


def _context_of(stored_vd: Any) -> Any:
    datasource = stored_vd.data.data_asset.datasource
    context = datasource.data_context
    if context is None:  # pragma: no cover - stored definitions always have a context
        raise QualityEngineError(f"{stored_vd.name}: validation definition has no GX context")
    return context


@lru_cache(maxsize=1)
def _engine_vd_class() -> type:
    from great_expectations.core.freshness_diagnostics import (
        ValidationDefinitionFreshnessDiagnostics,
    )
    from great_expectations.core.validation_definition import ValidationDefinition
    from great_expectations.exceptions.resource_freshness import (
        ValidationDefinitionNotFreshError,
    )

    class EngineValidationDefinition(ValidationDefinition):
        """The stored definition's twin on another engine's asset; never saved.

        ``run()`` refuses a definition that differs from its stored version; this one differs
        on purpose (its data side), everything else (suite, its freshness) is still checked.
        """

        def is_fresh(self) -> ValidationDefinitionFreshnessDiagnostics:
            diagnostics = super().is_fresh()
            if diagnostics.success or not all(
                isinstance(e, ValidationDefinitionNotFreshError) for e in diagnostics.errors
            ):
                return diagnostics
            return ValidationDefinitionFreshnessDiagnostics(errors=[])

    return EngineValidationDefinition


# duckdb ---------------------------------------------------------------------------------
def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _bind_duckdb(stored_vd: Any, batch: StagedBatch) -> Iterator[tuple[Any, dict[str, Any]]]:
    enable_duckdb_persisted_connection()
    vd = engine_validation_definition(stored_vd, "duckdb")
    asset = vd.data.data_asset
    execution_engine = asset.datasource.get_execution_engine()
    view = _quote_ident(asset.table_name)
    if batch.files:
        from busta_quality.lake.delta import duckdb_source

        query = f"SELECT * FROM ({duckdb_source(batch.files)})"
    else:
        query = f"SELECT * FROM read_parquet({_sql_string(str(batch.path.resolve()))})"
    with execution_engine.get_connection() as conn:
        conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {view} AS {query}")
        conn.commit()
    try:
        yield vd, {}
    finally:
        try:
            with execution_engine.get_connection() as conn:
                conn.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
                conn.commit()
        except Exception:
            log.warning("could not drop the DuckDB view %s", view, exc_info=True)


@contextmanager
def duckdb_relation(vd: Any) -> Iterator[tuple[str, Any]]:
    """``(quoted view name, GX's persisted connection)`` of a definition bound by :func:`bind`.

    For busta's one-pass evaluator (``quality/onepass.py``): it queries the view
    ``_bind_duckdb`` created, on the very connection GX's own queries use.
    """
    asset = vd.data.data_asset
    execution_engine = asset.datasource.get_execution_engine()
    with execution_engine.get_connection() as conn:
        yield _quote_ident(asset.table_name), conn


# sql ------------------------------------------------------------------------------------
def _sql_table_name(batch: StagedBatch) -> str:
    raw = f"busta_{batch.layer}_{batch.dataset}_{batch.run_id}".lower()
    return re.sub(r"[^a-z0-9_]", "_", raw)[:63]


@contextmanager
def _bind_sql(stored_vd: Any, batch: StagedBatch, url: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    enable_duckdb_persisted_connection()  # a duckdb:// sql_url needs it as well
    vd = engine_validation_definition(stored_vd, "sql")
    asset = vd.data.data_asset
    datasource = asset.datasource
    # In memory only: the committed file keeps its placeholder (sql_url may hold secrets).
    original_url, original_table = datasource.connection_string, asset.table_name
    table = _sql_table_name(batch)
    datasource.connection_string = url
    asset.table_name = table
    execution_engine = datasource.get_execution_engine()
    try:
        _load_parquet(execution_engine, batch, table)
        yield vd, {}
    finally:
        try:
            import sqlalchemy as sa

            with execution_engine.get_connection() as conn:
                sa.Table(table, sa.MetaData()).drop(conn, checkfirst=True)
                conn.commit()
        except Exception:
            log.warning("could not drop the batch table %s", table, exc_info=True)
        asset.table_name = original_table
        datasource.connection_string = original_url


def _sa_type(arrow_type: Any) -> Any:
    import pyarrow as pa
    import sqlalchemy as sa

    if pa.types.is_boolean(arrow_type):
        return sa.Boolean()
    if pa.types.is_integer(arrow_type):
        return sa.BigInteger()
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return sa.Float()
    if pa.types.is_timestamp(arrow_type):
        return sa.DateTime(timezone=arrow_type.tz is not None)
    if pa.types.is_date(arrow_type):
        return sa.Date()
    return sa.Text()


def _load_parquet(execution_engine: Any, batch: StagedBatch, table: str) -> None:
    """Stream a parquet file (or a table version's files) into a new table, one Arrow record
    batch at a time."""
    import pyarrow.parquet as pq
    import sqlalchemy as sa

    if batch.files:
        from busta_quality.lake.delta import arrow_table

        version = arrow_table(batch.files)
        schema = version.schema
        chunks: Any = version.to_batches(max_chunksize=SQL_LOAD_CHUNK)
    else:
        parquet = pq.ParquetFile(batch.path)
        schema = parquet.schema_arrow
        chunks = parquet.iter_batches(batch_size=SQL_LOAD_CHUNK)
    target = sa.Table(
        table,
        sa.MetaData(),
        *(sa.Column(f.name, _sa_type(f.type)) for f in schema),
    )
    with execution_engine.get_connection() as conn:
        target.drop(conn, checkfirst=True)
        target.create(conn)
        for record_batch in chunks:
            rows = record_batch.to_pylist()
            if rows:
                conn.execute(target.insert(), rows)
        conn.commit()
