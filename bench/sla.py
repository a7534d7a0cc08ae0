"""``busta sla --window 30d`` and ``busta sources health --json`` on a store with 30 days of
5-minute probes for 1,000 sources (issue 10, benchmarks).

The store: 1,000 sources in busta.yml (one ``lake`` probe each, interval 5m), and 30 days of
probe results every 5 minutes for each (8,640,000 raw rows: a random second inside each
interval, 0.3% failures, a few hours without probes for 1 source in 50, response times
spread over the histogram's buckets), bulk-inserted by the database itself (one
``INSERT ... SELECT`` over recursive counters in SQLite, over ``generate_series`` in
PostgreSQL, the indexes built after), then the real rollup job (``busta sources rollup``)
run over them and its time reported. Raw rows are kept (``store.probe_retention.raw:
null``): the worst case for the queries, which must read the rollups plus the raw tail, not
the raw history. The same again with 5x the raw history (150 days, 43,200,000 rows): the
30-day figures must stay within 1.3x (``--sources N`` builds smaller stores). Generated
stores are cached in ``bench/.cache/sla/`` (a PostgreSQL cluster there too, started for the
run); a cached store is first caught up to now, as if the monitor had kept probing.

Figures: the store work of each command (its service call timed in-process, the median of
``--repeat`` calls after a warm-up) against 1 s, and the wall time of fresh ``busta``
processes minus that of ``busta alerts list --json`` on the same store (interpreter
start-up, imports, busta.yml, opening the store: measured in the same run) against 1 s; the
5x run's store work against the 1x run's of the same backend.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "sla"
CACHE = ROOT / "bench" / ".cache" / "sla"
SOURCES, DAYS = 1000, 30
SMOKE_SOURCES, SMOKE_DAYS = 20, 2
#: the history multiplier of the second run
SCALE = 5
TARGET_S, SCALE_TARGET = 1.0, 1.3
INTERVAL = 300
#: the commands timed as fresh processes (and their service calls in-process)
COMMANDS = {
    "sla": ["sla", "--window", "30d", "--json"],
    "health": ["sources", "health", "--json"],
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# the project -------------------------------------------------------------------------------
def write_project(path: Path, url: str, sources: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    lines = [
        "project: bench-sla",
        "store:",
        f"  url: {url}",
        "  probe_retention: {raw: null, hourly: null, daily: null}",
        "sources:",
    ]
    for i in range(sources):
        kind = "football_data" if i % 2 else "odds_api"
        lines.append(f"  s{i:04d}: {{kind: {kind}, probes: [{{type: lake}}]}}")
    cfg = path / "busta.yml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


# the rows (generated inside the database) ---------------------------------------------
#: a response time spread over the histogram's buckets, from two uniform draws
_RT_SQLITE = (
    "CASE abs(random()) % 4 WHEN 0 THEN 0.001 + (abs(random()) % 50) / 1000.0 "
    "WHEN 1 THEN 0.05 + (abs(random()) % 200) / 1000.0 "
    "WHEN 2 THEN 0.25 + (abs(random()) % 1000) / 1000.0 "
    "ELSE 1.0 + (abs(random()) % 4000) / 1000.0 END"
)
_RT_PG = (
    "CASE floor(random() * 4)::int WHEN 0 THEN 0.001 + random() * 0.05 "
    "WHEN 1 THEN 0.05 + random() * 0.2 WHEN 2 THEN 0.25 + random() * 1.0 "
    "ELSE 1.0 + random() * 4.0 END"
)
#: every 50th source has 36 intervals (3 hours) without a probe (the monitor was down)
GAP_EVERY, GAP_LEN = 50, 36


def _end() -> datetime:
    """The history ends at the last whole hour: the commands run on the real clock."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def fill_sqlite(db: Path, sources: int, days: int, *, start: int | None = None, n: int = 0) -> int:
    """Bulk insert in SQLite itself (one INSERT ... SELECT over recursive counters, indexes
    dropped first and built after): interval by interval, every source in each. With
    ``start`` (epoch) and ``n``: only those ``n`` intervals, indexes kept (a catch-up)."""
    bulk = start is None
    if start is None:
        n = days * 86400 // INTERVAL
        start = int(_end().timestamp()) - days * 86400
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-500000")
    idx = (
        con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='probe_results' "
            "AND sql IS NOT NULL"
        ).fetchall()
        if bulk
        else []
    )
    for name, _ in idx:
        con.execute(f"DROP INDEX {name}")
    con.execute(f"""
        INSERT INTO probe_results (source, probe, probe_type, started_at, duration_s, ok,
            status, error, detail, metrics, response_time_s, origin)
        WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {n - 1}),
        s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {sources - 1}),
        g AS (
            SELECT i, j, ({_RT_SQLITE}) AS rt, abs(random()) % 1000 >= 3 AS ok
            FROM k CROSS JOIN s
            WHERE i % {GAP_EVERY} != 0 OR j - (i * 7919) % {n} NOT BETWEEN 0 AND {GAP_LEN - 1}
        )
        SELECT printf('s%04d', i), 'lake', 'lake',
            strftime('%Y-%m-%d %H:%M:%S', {start} + j * {INTERVAL} + abs(random()) % {INTERVAL},
                     'unixepoch') || '.000000',
            round(rt, 4), ok, CASE WHEN ok THEN 'ok' ELSE 'failed' END,
            CASE WHEN ok THEN NULL ELSE 'HTTP 503' END, '{{}}',
            '{{"response_time_s": ' || round(rt, 4) || '}}', round(rt, 4), 'monitor'
        FROM g
    """)
    con.commit()
    for _, ddl in idx:
        con.execute(ddl)
    con.commit()
    count = int(con.execute("SELECT count(*) FROM probe_results").fetchone()[0])
    con.close()
    return count


def fill_postgres(
    url: str, sources: int, days: int, *, start: int | None = None, n: int = 0
) -> int:
    """Bulk insert in PostgreSQL itself (INSERT ... SELECT over generate_series, indexes
    dropped first and built after); with ``start`` and ``n`` a catch-up, as for SQLite."""
    import psycopg

    bulk = start is None
    if start is None:
        n = days * 86400 // INTERVAL
        start = int(_end().timestamp()) - days * 86400
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as con, con.cursor() as cur:
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'probe_results' "
            "AND indexname <> 'probe_results_pkey'"
        )
        idx = cur.fetchall() if bulk else []
        for name, _ in idx:
            cur.execute(f"DROP INDEX {name}")
        cur.execute(f"""
            INSERT INTO probe_results (source, probe, probe_type, started_at, duration_s, ok,
                status, error, detail, metrics, response_time_s, origin)
            SELECT 's' || lpad(i::text, 4, '0'), 'lake', 'lake',
                to_timestamp({start} + j * {INTERVAL} + floor(random() * {INTERVAL})),
                rt, ok, CASE WHEN ok THEN 'ok' ELSE 'failed' END,
                CASE WHEN ok THEN NULL ELSE 'HTTP 503' END, '{{}}',
                '{{"response_time_s": ' || rt || '}}', rt, 'monitor'
            FROM (
                SELECT i, j, round(({_RT_PG})::numeric, 4)::float8 AS rt,
                    random() >= 0.003 AS ok
                FROM generate_series(0, {n - 1}) AS j CROSS JOIN generate_series(0, {sources - 1}) AS i
                WHERE i % {GAP_EVERY} <> 0
                    OR j - (i * 7919) % {n} NOT BETWEEN 0 AND {GAP_LEN - 1}
            ) AS g
        """)
        for _, ddl in idx:
            cur.execute(ddl)
        cur.execute("ANALYZE probe_results")
        cur.execute("SELECT count(*) FROM probe_results")
        row = cur.fetchone()
    return int(row[0]) if row else 0


# a cached PostgreSQL cluster -----------------------------------------------------------------
def _pg_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    raise SystemExit(f"PostgreSQL's {name} is not installed")


@contextmanager
def postgres(data: Path) -> Iterator[str]:
    """A PostgreSQL cluster in ``data`` (created once, kept for the next run), started on a
    free loopback port for the block."""
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    if not (data / "db" / "PG_VERSION").exists():
        subprocess.run([*as_user, _pg_binary("initdb"), "-D", str(data / "db"), "-A", "trust",
                        "-U", "postgres"], check=True, capture_output=True, timeout=300)  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    opts = (f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c max_wal_size=4GB")  # fmt: skip
    pg_ctl = _pg_binary("pg_ctl")
    subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-o", opts, "-l",
                    str(data / "log"), "-w", "start"], check=True, capture_output=True,
                   timeout=300)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data / "db"), "-m", "fast", "stop"],
                       capture_output=True, timeout=300)  # fmt: skip


def _pg_database(server: str, name: str) -> tuple[str, bool]:
    """The URL of database ``name``; True when it was created now."""
    import psycopg

    with psycopg.connect(server.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as con:  # fmt: skip
        found = con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not found:
            con.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}", not found


# timing ------------------------------------------------------------------------------------
def busta(cfg: Path, args: list[str]) -> tuple[float, str]:
    exe = str(Path(sys.executable).parent / "busta")
    started = time.perf_counter()
    proc = subprocess.run([exe, "--config", str(cfg), *args], capture_output=True, text=True,
                          timeout=3600, cwd=cfg.parent)  # fmt: skip
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"busta {' '.join(args)}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    return seconds, proc.stdout


def catch_up(backend: str, url: str, db: Path | None, sources: int) -> None:
    """Probe rows for every interval from the store's newest one to now (what the monitor
    would have written), so the history ends now and ``sources health`` reads recent rows."""
    import sqlalchemy as sa

    from busta_quality.models import as_utc

    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            last = conn.execute(sa.text("SELECT max(started_at) FROM probe_results")).scalar()
    finally:
        eng.dispose()
    if last is None:
        return
    if isinstance(last, str):
        last = datetime.fromisoformat(last)
    start = (int(as_utc(last).timestamp()) // INTERVAL + 1) * INTERVAL
    n = (int(time.time()) - start) // INTERVAL
    if n <= 0:
        return
    if db is not None:
        fill_sqlite(db, sources, 0, start=start, n=n)
    else:
        fill_postgres(url, sources, 0, start=start, n=n)


def in_process(cfg: Path, repeat: int) -> dict[str, list[float]]:
    """The service calls the two commands make, timed in this process (no interpreter
    start-up, no imports, no JSON printing): the store's share of the wall time."""
    from busta_quality.service import sla as sla_svc
    from busta_quality.service import sources as src_svc
    from busta_quality.settings import load_config
    from busta_quality.store import open_store

    config = load_config(cfg)
    store = open_store(config.store_url)
    out: dict[str, list[float]] = {"sla_query": [], "health_query": []}
    try:
        for _ in range(repeat + 1):  # the first call warms caches; dropped
            t = time.perf_counter()
            sla_svc.sla_report(config, store, window="30d").to_json()
            out["sla_query"].append(time.perf_counter() - t)
            t = time.perf_counter()
            src_svc.sources_health(config, store).to_json()
            out["health_query"].append(time.perf_counter() - t)
    finally:
        store.engine.dispose()
    return {k: v[1:] for k, v in out.items()}


def _size(backend: str, url: str, db: Path | None) -> int:
    if backend == "sqlite" and db is not None:
        return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            return int(
                conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
            )
    finally:
        eng.dispose()


def measure(backend: str, sources: int, days: int, repeat: int, server: str | None) -> dict:
    """Build (or reuse) the store, roll it up, time the commands."""
    tag = f"{backend}-{sources}x{days}d"
    work = CACHE / tag
    work.mkdir(parents=True, exist_ok=True)
    db: Path | None = None
    if backend == "sqlite":
        db = work / "busta.db"
        url, fresh = f"sqlite:///{db}", not (work / "filled").exists()
        if fresh:
            for p in work.glob("busta.db*"):
                p.unlink()
    else:
        assert server is not None
        url, created = _pg_database(server, f"bench_sla_{sources}x{days}d")
        fresh = created or not (work / "filled").exists()
    cfg = write_project(work, url, sources)
    out: dict[str, Any] = {"backend": backend, "sources": sources, "days": days}
    if fresh:
        from busta_quality.store import open_store

        open_store(url).engine.dispose()  # migrate
        log(f"sla: generating {sources:,} sources x {days} days of 5-minute probes ({backend})")
        started = time.perf_counter()
        n = fill_sqlite(db, sources, days) if db is not None else fill_postgres(url, sources, days)
        out["generate_s"] = time.perf_counter() - started
        out["rows"] = n
        log(f"sla: {n:,} rows in {out['generate_s']:.0f} s; running the rollup job")
        secs, text = busta(cfg, ["sources", "rollup", "--json"])
        out["rollup_s"] = secs
        out["rollup"] = json.loads(text)
        (work / "filled").write_text(json.dumps(out), encoding="utf-8")
    else:  # a cached store: the monitor "kept running" since it was made; roll up what is due
        out.update(json.loads((work / "filled").read_text(encoding="utf-8")))
        out["cached"] = True
        catch_up(backend, url, db, sources)
        busta(cfg, ["sources", "rollup", "--json"])
    out["store_bytes"] = _size(backend, url, db)
    # the same-run baseline of a process: a store command with next to nothing to do
    # (interpreter, imports, busta.yml, opening the store)
    busta(cfg, ["alerts", "list", "--json"])
    out["startup"] = [busta(cfg, ["alerts", "list", "--json"])[0] for _ in range(repeat)]
    for name, args in COMMANDS.items():
        busta(cfg, args)  # warm the OS cache once
        out[name] = [busta(cfg, args)[0] for _ in range(repeat)]
    out.update(in_process(cfg, repeat))
    secs, text = busta(cfg, ["sla", "--window", "30d", "--json"])
    doc = json.loads(text)
    first = doc["windows"][0]["sources"][0]
    out["check"] = {"uptime": first["uptime"], "coverage": first["coverage"],
                    "covered": first["intervals"]["covered"]}  # fmt: skip
    return out


def run_all(
    *, smoke: bool, repeat: int, backends: list[str], scales: list[int], sources: int = 0
) -> dict:
    sources, days = (SMOKE_SOURCES, SMOKE_DAYS) if smoke else (sources or SOURCES, DAYS)
    res: dict[str, Any] = {"smoke": smoke, "days": days, "runs": []}
    pg = postgres(CACHE / "pg") if "postgres" in backends else None
    server = pg.__enter__() if pg is not None else None
    try:
        for backend in backends:
            for scale in scales:
                res["runs"].append(measure(backend, sources, days * scale, repeat, server))
    finally:
        if pg is not None:
            pg.__exit__(None, None, None)
    return res


# bench/run.py section -------------------------------------------------------------------------
def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    backends = ["sqlite"] if smoke else ["sqlite", "postgres"]
    scales = [1] if smoke else [1, SCALE]
    return run_all(smoke=smoke, repeat=repeat, backends=backends, scales=scales)


def figures(res: dict[str, Any], figure: Any) -> list[dict[str, Any]]:
    d = res.get(NAME)
    if not d:
        return []
    figs = []
    base = {(r["backend"], r["days"]): r for r in d["runs"]}
    for r in d["runs"]:
        for cmd in COMMANDS:
            label = "busta sla --window 30d" if cmd == "sla" else "busta sources health --json"
            key = f"{cmd}_query"
            one = base.get((r["backend"], r["days"] // SCALE)) if r["days"] > d["days"] else None
            if one is None:
                figs.append(figure(
                    f"sla: {label} (store work), {r['sources']:,} sources x {r['days']} d "
                    f"({r['backend']}) / 1 s",
                    r[key], [TARGET_S] * len(r[key]), "s", f"<= {TARGET_S:g} s",
                    lambda x: x <= 1.0,
                ))  # fmt: skip
                figs.append(figure(
                    f"sla: {label} (process) - busta alerts list ({r['backend']}, {r['days']} d)"
                    " / 1 s",
                    [a - b for a, b in zip(r[cmd], r["startup"], strict=False)],
                    [TARGET_S] * len(r[cmd]), "s", f"<= {TARGET_S:g} s", lambda x: x <= 1.0,
                ))  # fmt: skip
            else:
                figs.append(figure(
                    f"sla: {label} (store work), {SCALE}x raw history / 1x ({r['backend']})",
                    r[key], one[key], "s", f"<= {SCALE_TARGET:g}x", lambda x: x <= SCALE_TARGET,
                ))  # fmt: skip
    return figs


def details(res: dict[str, Any]) -> list[str]:
    d = res.get(NAME)
    if not d:
        return []
    lines = ["sla: stores of 5-minute probes (raw rows kept, rolled up hourly and daily)"]
    for r in d["runs"]:
        lines.append(
            f"  {r['backend']:8} {r['sources']:,} sources x {r['days']} d: {r.get('rows', 0):,} "
            f"raw rows, store {r['store_bytes'] / 1e6:,.0f} MB; generated in "
            f"{r.get('generate_s', 0):.0f} s, rollup job {r.get('rollup_s', 0):.1f} s "
            f"({r['rollup']['hourly_rows']:,} hourly, {r['rollup']['daily_rows']:,} daily rows)"
            + (" [cached]" if r.get("cached") else "")
        )
        lines.append(
            f"    busta sla --window 30d: {median(r['sla']):.2f} s as a process "
            f"({median(r['sla_query']):.2f} s store work); busta sources health --json: "
            f"{median(r['health']):.2f} s ({median(r['health_query']):.2f} s); "
            f"busta alerts list --json (start-up baseline) {median(r['startup']):.2f} s"
        )
        lines.append(
            f"    (first source: uptime {r['check']['uptime']}, coverage {r['check']['coverage']})"
        )
    return lines


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="20 sources x 2 days, SQLite only")
    ap.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    ap.add_argument("--scale", action="append", type=int, help="history multipliers (1, 5)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sources", type=int, default=SOURCES, help="sources in the store (1,000)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    res = run_all(
        smoke=args.smoke,
        repeat=1 if args.smoke else args.repeat,
        backends=args.backend or (["sqlite"] if args.smoke else ["sqlite", "postgres"]),
        scales=args.scale or ([1] if args.smoke else [1, SCALE]),
        sources=args.sources,
    )
    for line in details({NAME: res}):
        print(line)
    if args.out:
        args.out.write_text(json.dumps(res, indent=2), encoding="utf-8")


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    main()
