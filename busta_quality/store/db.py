"""Opening the store (with migrations) and the queries the rest of busta uses.

SQLAlchemy sessions and connections live here and in the other ``store`` modules only.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from busta_quality.errors import StoreError
from busta_quality.models import CheckResult
from busta_quality.store.tables import batches, check_runs, expectation_results

_MIGRATIONS = Path(__file__).with_name("migrations")
_migrated: set[str] = set()
_lock = threading.Lock()

#: pg_advisory_xact_lock key held while a PostgreSQL store is migrated ("busta-mi")
PG_MIGRATION_LOCK = 0x6275737461_2D6D69
#: how long a process waits for another one's migration before it gives up
MIGRATION_WAIT_S = 300.0


_REVISION = re.compile(r'^(down_)?revision\s*=\s*["\']?([\w]+|None)["\']?', re.M)


def head_revision() -> str:
    """The newest migration id, read from the migration files (no alembic import)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise StoreError(f"migrations in {_MIGRATIONS} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def _hide(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable url>"


def open_store(url: str) -> Store:
    """Connect to ``url`` and bring its schema to the latest migration."""
    try:
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        connect: dict[str, Any] = {}
        if sa.engine.make_url(url).get_driver_name() == "psycopg":
            # no server-side prepared statements: psycopg prepares a query after its 5th run,
            # and PostgreSQL then plans it generically, without the parameters' values; the
            # time-range queries of the health windows went from 0.76 s to 1.45 s that way in
            # a long-running process (the dashboard, the API, the monitor). It also keeps busta
            # working behind a transaction-pooling PgBouncer.
            connect["prepare_threshold"] = None
        engine = sa.create_engine(url, future=True, pool_pre_ping=True, connect_args=connect)
        if engine.dialect.name == "sqlite":

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
                cur = dbapi_conn.cursor()
                # first, so switching a new database to WAL waits for a concurrent opener
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.close()

        store = Store(engine)
        store.migrate()
        return store
    except StoreError:
        raise
    except (SQLAlchemyError, OSError, ImportError) as exc:
        raise StoreError(
            f"store {_hide(url)} is unavailable: {exc.__class__.__name__}: {exc}".split("\n")[0],
            "check store.url in busta.yml and that the database is reachable",
        ) from exc


def values_list(rows: Sequence[tuple[Any, ...]]) -> tuple[str, dict[str, Any]]:
    """``(:v0_0, :v0_1), (:v1_0, :v1_1), ...`` for ``rows`` of equal length, and its bound
    parameters: the ``VALUES`` list of a lookup statement (``WITH k(a, b) AS (VALUES ...)``)."""
    params: dict[str, Any] = {}
    groups = []
    for i, row in enumerate(rows):
        names = [f"v{i}_{j}" for j in range(len(row))]
        params.update(zip(names, row, strict=True))
        groups.append("(" + ", ".join(f":{n}" for n in names) + ")")
    return ", ".join(groups), params


def _revision(conn: Connection) -> str | None:
    """The store's migration revision; None for a new database (no alembic_version yet).
    Checks for the table first: a failed SELECT would abort a PostgreSQL transaction."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> None:
        """Upgrade to the newest migration; a store already there costs one query (alembic,
        ~0.2 s to import, is loaded only when something is to be done).

        Several processes may open a new store at once (four ``busta ingest`` started
        together): the upgrade runs under a lock they all respect, a file lock beside a
        SQLite database (``<db>.migrate.lock``) or a PostgreSQL advisory lock, and whoever
        gets it second finds the store at head and does nothing.
        """
        key = self.engine.url.render_as_string(hide_password=False)
        with _lock:
            if key in _migrated:
                return
            head = head_revision()
            if self._current_revision() == head:
                _migrated.add(key)
                return
            with self._migration_lock(), self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":  # released at commit
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK}
                    )
                if _revision(conn) != head:  # another process may have done it meanwhile
                    from alembic import command
                    from alembic.config import Config

                    cfg = Config()
                    cfg.set_main_option("script_location", str(_MIGRATIONS))
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            _migrated.add(key)

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """A lock across processes for a SQLite file (PostgreSQL's is taken in the
        migration's transaction; an in-memory database has only this process)."""
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or not database or database == ":memory:":
            yield
            return
        from filelock import FileLock, Timeout

        path = Path(database).with_name(Path(database).name + ".migrate.lock")
        try:
            with FileLock(path, timeout=MIGRATION_WAIT_S, mode=0o600):
                yield
        except Timeout as exc:
            raise StoreError(
                f"store {self.url}: another process held the migration lock {path} for "
                f"{MIGRATION_WAIT_S:g}s",
                "check for a hung busta process; the lock is released when it exits",
            ) from exc

    def _current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return _revision(conn)
        except SQLAlchemyError:
            return None  # a database that cannot be read yet: migrate() says why

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(
                f"store {self.url}: {exc.__class__.__name__}: {exc}".split("\n")[0],
                "check that the database is reachable and migrated",
            ) from exc

    # batches -----------------------------------------------------------------------
    def next_batch_seq(self, run_id: str, source: str, at: datetime) -> int:
        """Register a landed batch; its sequence number (strictly increasing per store)."""
        with self.begin() as conn:
            key = conn.execute(
                batches.insert().values(run_id=run_id, source=source, created_at=at)
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    # gate results ------------------------------------------------------------------
    def record_check(self, result: CheckResult, *, seq: int | None = None) -> int:
        """Write one gate run and its per-expectation outcomes in one transaction."""
        return self.record_checks([(result, seq)])[0]

    def record_checks(self, results: Sequence[tuple[CheckResult, int | None]]) -> list[int]:
        """Write several gate runs (``(result, batch sequence)``) in one transaction: all of
        them or none (a layer's results, so that a crash never records half a layer)."""
        with self.begin() as conn:
            return [_insert_check(conn, result, seq) for result, seq in results]

    def check_runs(
        self,
        *,
        run_id: str | None = None,
        layer: str | None = None,
        source: str | None = None,
        origin: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        q = sa.select(check_runs).order_by(check_runs.c.id.desc()).limit(limit)
        if run_id:
            q = q.where(check_runs.c.run_id == run_id)
        if layer:
            q = q.where(check_runs.c.layer == layer)
        if source:
            q = q.where(check_runs.c.source == source)
        if origin:
            q = q.where(check_runs.c.origin == origin)
        with self.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def expectation_rows(self, check_id: int) -> list[dict[str, Any]]:
        q = (
            sa.select(expectation_results)
            .where(expectation_results.c.check_run_id == check_id)
            .order_by(expectation_results.c.id)
        )
        with self.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def count_check_runs(self) -> int:
        with self.begin() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(check_runs)).scalar() or 0
            )


def _insert_check(conn: Connection, result: CheckResult, seq: int | None) -> int:
    """Insert one gate run and its per-expectation outcomes (the caller's transaction)."""
    inserted = conn.execute(
        check_runs.insert().values(
            run_id=result.run_id,
            layer=result.layer,
            source=result.source,
            dataset=result.dataset,
            suite=result.suite,
            batch=result.batch,
            rows=result.rows,
            success=result.success,
            quality_score=result.quality_score,
            evaluated=result.evaluated,
            failed=result.failed,
            errors=len(result.errors),
            max_severity=result.max_severity,
            decision=result.decision.value if result.decision else None,
            engine=result.engine,
            origin=result.origin,
            data_docs=result.data_docs,
            started_at=result.started_at,
            finished_at=result.finished_at,
            batch_seq=seq,
        )
    ).inserted_primary_key
    assert inserted is not None
    row_id = inserted[0]
    samples = {(f.expectation, f.column): f.sample for f in result.failures}
    messages = {(e.expectation, e.column): e.message for e in result.errors}
    rows = [
        {
            "check_run_id": row_id,
            "expectation": o.expectation,
            "column_name": o.column,
            "severity": o.severity,
            "status": o.status,
            "unexpected_count": o.unexpected_count,
            "unexpected_percent": o.unexpected_percent,
            "detail": json.dumps(
                samples.get((o.expectation, o.column)) or messages.get((o.expectation, o.column)),
                default=str,
            ),
        }
        for o in result.outcomes
    ]
    if rows:
        conn.execute(expectation_results.insert(), rows)
    return int(row_id)
