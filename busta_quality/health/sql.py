"""The ``sql`` probe: connect and ``SELECT 1`` through SQLAlchemy, response time, and
optionally how fresh and how many the rows are.

The probe's total deadline covers connecting and every query: a statement still running at
the deadline is interrupted (SQLite) or cancelled (PostgreSQL, which also gets
``statement_timeout`` and ``connect_timeout``); other drivers are cancelled when their DBAPI
connection has ``cancel()``. A SQLite database is opened read-only and never created.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator, model_validator

from busta_quality.health import freshness
from busta_quality.health.base import (
    Measurement,
    Probe,
    ProbeContext,
    ProbeSettings,
    human_age,
)
from busta_quality.health.masking import mask_url, one_line, url_secrets
from busta_quality.health.watchdog import Watchdog
from busta_quality.settings.health import duration_text

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection


class SqlSettings(ProbeSettings):
    #: a SQLAlchemy URL; the password through ``${VAR}`` (masked in everything reported)
    url: SecretStr
    #: what "the database answers" means
    query: str = "SELECT 1"
    #: returns one timestamp: the newest data (e.g. ``SELECT max(updated_at) FROM odds``)
    freshness_query: str | None = None
    #: fail when that timestamp is older
    max_age: str | None = None
    #: returns one number (e.g. ``SELECT count(*) FROM odds WHERE day = current_date``)
    row_count_query: str | None = None
    #: fail when that number is smaller
    min_rows: int | None = Field(default=None, ge=0)

    @field_validator("url")
    @classmethod
    def _url(cls, v: SecretStr) -> SecretStr:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(v.get_secret_value())
        except ArgumentError:
            raise ValueError("not a SQLAlchemy URL (e.g. postgresql+psycopg://…)") from None
        return v

    @field_validator("max_age", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str | None:
        return None if v is None else duration_text(v)

    @model_validator(mode="after")
    def _pairs(self) -> SqlSettings:
        if self.max_age is not None and self.freshness_query is None:
            raise ValueError("max_age needs a freshness_query")
        if self.min_rows is not None and self.row_count_query is None:
            raise ValueError("min_rows needs a row_count_query")
        return self


def as_timestamp(value: Any) -> datetime | None:
    """A freshness query's answer as an aware UTC datetime: a datetime or date (naive ones
    are UTC), an ISO-8601 string, or a number of seconds since the epoch."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return as_timestamp(parsed)
    return None


def _canceller(conn: Connection) -> Callable[[], None]:
    """How to stop what ``conn`` is running, from another thread."""
    driver = conn.connection.driver_connection
    for name in ("interrupt", "cancel"):  # sqlite3, psycopg (and most others)
        fn = getattr(driver, name, None)
        if callable(fn):
            return fn
    return lambda: None


def _why(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return one_line(f"{type(orig or exc).__name__}: {text[0] if text else ''}")


class SqlProbe(Probe):
    Settings = SqlSettings
    settings: SqlSettings
    summary = "a database through SQLAlchemy: connect + query, response time, freshness, rows"

    def secrets(self) -> list[str]:
        url = self.settings.url.get_secret_value()
        return [*super().secrets(), *url_secrets(url)]

    def _url(self, ctx: ProbeContext, m: Measurement) -> tuple[URL | None, dict[str, Any]]:
        from sqlalchemy.engine import make_url

        url = make_url(self.settings.url.get_secret_value())
        timeout = ctx.timeout_s
        backend = url.get_backend_name()
        if backend == "sqlite":
            db = url.database or ""
            if db and db != ":memory:" and not db.startswith("file:"):
                path = ctx.path(db)
                if not path.is_file():
                    m.error = f"SQLite database {path} does not exist"
                    return None, {}
                url = url.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
            return url, {"timeout": timeout}
        if backend == "postgresql":
            return url, {
                "connect_timeout": max(1, math.ceil(timeout)),
                "options": f"-c statement_timeout={max(1, int(timeout * 1000))}",
            }
        return url, {}

    def measure(self, ctx: ProbeContext) -> Measurement:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        s = self.settings
        m = Measurement(detail={"url": mask_url(s.url.get_secret_value())})
        url, connect_args = self._url(ctx, m)
        if url is None:
            return m
        m.detail["dialect"] = url.get_backend_name()
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        step = "connect"
        try:
            began = time.monotonic()
            with Watchdog(ctx.timeout_s) as dog:
                try:
                    t0 = time.perf_counter()
                    with engine.connect() as conn:
                        dog.guard(_canceller(conn))
                        step = "query"
                        conn.execute(text(s.query)).fetchall()
                        m.metrics["response_time_s"] = time.perf_counter() - t0
                        if s.freshness_query:
                            step = "freshness_query"
                            self._freshness(m, ctx, conn.execute(text(s.freshness_query)).scalar())
                        if s.row_count_query:
                            step = "row_count_query"
                            self._rows(m, conn.execute(text(s.row_count_query)).scalar())
                except Exception as exc:
                    # the server's own limits (PostgreSQL's statement_timeout) can answer
                    # before the watchdog's thread marks the deadline: past it is a timeout
                    if dog.expired or time.monotonic() - began >= ctx.timeout_s:
                        m.timed_out = True
                        m.error = (
                            f"{step} did not finish within the total deadline of "
                            f"{ctx.timeout_s:g}s ({_why(exc)})"
                        )
                    else:
                        m.error = f"{step} failed: {_why(exc)}"
        finally:
            engine.dispose()
        return m

    def _freshness(self, m: Measurement, ctx: ProbeContext, value: Any) -> None:
        at = as_timestamp(value)
        if at is None:
            m.check(
                "freshness",
                False,
                None if value is None else str(value),
                "a timestamp",
                "freshness_query returned "
                + ("no timestamp (NULL)" if value is None else f"{str(value)[:40]!r}, not a time"),
            )
            return
        age = (ctx.clock() - at).total_seconds()
        m.metrics["freshness_s"] = age
        m.detail["newest"] = at.isoformat()
        max_age = self.settings.max_age
        freshness.record(
            m,
            freshness.judge(ctx, at, max_age, "newest data is {age} old"),
            max_age,
            f"newest data is {human_age(age)} old (max_age {max_age})",
        )

    def _rows(self, m: Measurement, value: Any) -> None:
        try:
            rows = float(value)
        except (TypeError, ValueError):
            m.check("rows", False, None, "a number", f"row_count_query returned {value!r}")
            return
        m.metrics["rows"] = rows
        if self.settings.min_rows is not None:
            ok = rows >= self.settings.min_rows
            m.check(
                "rows",
                ok,
                rows,
                f">= {self.settings.min_rows}",
                "" if ok else f"{rows:g} rows (min_rows {self.settings.min_rows})",
            )
