"""A failing compound-key uniqueness check on a realistic silver odds table (issue 8).

The batch: ``silver.odds`` of football-data, about 4,000,000 prices with the key cardinality of
the real E0 files in ``../shared/data/football-data/E0`` (every season's matches, the
bookmakers each season priced, opening and closing lines, the three outcomes, the real prices),
repeated over the football-data leagues (``E0`` ... ``G1``) the way a lake holding many
league-seasons would, plus a few hundred duplicated keys: whole matches appearing twice in
their season's file, as a republished fixture row does. ``captured_at`` is null, as for every
football-data price.

How it reaches the lake, through the stable entry points only: ``busta ingest football_data``
of the real ``E0/2024-25.csv`` (creates the silver tables and the layer manifest), then the
``silver/odds/football_data`` Delta table is rewritten (``deltalake``, the same library busta
writes with) as a new table holding the generated rows at the version the manifest names. A
merge would never commit duplicated keys (busta quarantines such a merge), so this is the
table an outside writer or an older busta could have left, and what ``quality-check`` exists
to catch.

Per round, each in a fresh process:

- *duckdb gate*: ``busta quality-check --layer silver --source football_data --json`` (the
  silver layer of that source: ``silver.odds``, the generated rows, and ``silver.matches``,
  the 380 real matches of the ingested season), after an untimed warm-up check of the bronze
  batch (GX's one-time set-up). The silver.odds suite has 14 expectations, among them
  ``expect_compound_columns_to_be_unique`` on ``match_id, bookmaker, market, outcome, line``.
- *floor*: one hand-written DuckDB query over the same data files: ``GROUP BY`` the key
  ``HAVING count(*) > 1``, returning the number of duplicated keys, the rows they cover and a
  sample of five keys; no GX, nothing else checked.
- *pandas gate*: the same command on the pandas engine (GX's own pandas path), for its peak
  RSS and time (reported, no target).

Also checked: the gate flags exactly the rows the floor counts, which are the generator's.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAME = "uniqueness"
SUITE = ROOT / "expectations" / "silver" / "odds.json"
#: the real football-data files whose key cardinality the batch has (../shared/data, as tests)
E0 = ROOT.parent / "shared" / "data" / "football-data" / "E0"
#: the real season ingested to create the silver tables and the manifest
INGESTED = "2024-25.csv"
ROWS, SMOKE_ROWS = 4_000_000, 20_000
DUPLICATED_KEYS, SMOKE_DUPLICATED_KEYS = 300, 30
#: the football-data leagues the E0 seasons are repeated over (issue 8, item 7)
LEAGUES = (
    "E0", "E1", "E2", "E3", "SC0", "SC1", "SC2", "SC3", "D1", "D2", "I1", "I2", "SP1", "SP2",
    "F1", "F2", "N1", "B1", "P1", "T1", "G1",
)  # fmt: skip
TARGET = 1.5
#: football-data bookmaker codes → busta's canonical keys (docs/layers.md, silver.odds)
BOOKMAKERS = {
    "1XB": "1xbet", "B365": "bet365", "BF": "betfair", "BFD": "betfred",
    "BFE": "betfair_exchange", "BMGM": "betmgm", "BS": "blue_square", "BV": "betvictor",
    "BW": "bwin", "CL": "coral", "GB": "gamebookers", "IW": "interwetten", "LB": "ladbrokes",
    "P": "pinnacle", "PS": "pinnacle", "SB": "sportingbet", "SJ": "stan_james",
    "SO": "sporting_odds", "SY": "stanleybet", "VC": "vc_bet", "WH": "william_hill",
}  # fmt: skip
_CODES = "|".join(sorted(map(re.escape, BOOKMAKERS), key=len, reverse=True))
_PRICE = re.compile(rf"^(?P<code>{_CODES})(?P<closing>C?)(?P<outcome>[HDA])$")
_OUTCOME = {"H": "home", "D": "draw", "A": "away"}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def compound_key() -> list[str]:
    """The key of the suite's compound-uniqueness check (a suite change moves the floor too)."""
    suite = json.loads(SUITE.read_text(encoding="utf-8"))
    keys = [
        e["kwargs"]["column_list"]
        for e in suite["expectations"]
        if e["type"] == "expect_compound_columns_to_be_unique"
    ]
    if len(keys) != 1:
        raise RuntimeError(f"{SUITE}: expected one compound-uniqueness check, found {len(keys)}")
    return list(keys[0])


# the section (bench/run.py) ---------------------------------------------------------------
def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    from bench import seed as seeding

    rows = SMOKE_ROWS if smoke else ROWS
    dup = SMOKE_DUPLICATED_KEYS if smoke else DUPLICATED_KEYS
    cfg = seeding.project(work / "u-seed", engine="duckdb")
    log(f"uniqueness: silver.odds of {rows:,} rows (E0 cardinality), {dup} duplicated keys")
    out: dict[str, Any] = {"rows": rows, "duplicated_keys": dup, "floor": [], "duckdb": [],
                           "pandas": []}  # fmt: skip
    out["seed"] = worker.run(
        {"kind": "bench.uniqueness:job_seed", "config": str(cfg), "rows": rows, "dup": dup}
    )
    log(f"uniqueness: floor, duckdb gate, pandas gate: {repeat} rounds of fresh processes")
    for i in range(repeat):
        out["floor"].append(worker.run({"kind": "bench.uniqueness:job_floor", "config": str(cfg)}))
        for engine in ("duckdb", "pandas"):
            # the warm-up pays GX's one-time set-up (smoke: one process, set up already)
            job = {"kind": "bench.uniqueness:job_gate", "copy_from": str(cfg), "engine": engine,
                   "config": str(work / f"u-{engine}-{i}" / "busta.yml"),
                   "warmup": not smoke}  # fmt: skip
            out[engine].append(worker.run(job))
    return out


def figures(res: dict[str, Any], figure: Any) -> list[dict[str, Any]]:
    u = res.get(NAME)
    if not u:
        return []
    d, f, p = u["duckdb"], u["floor"], u["pandas"]

    def col(runs: list[dict[str, Any]], key: str) -> list[float]:
        return [float(r[key]) for r in runs]

    expected = [float(u["seed"]["duplicated_rows"])] * len(f)
    return [
        figure("uniqueness: duckdb gate / GROUP BY floor (time)", col(d, "seconds"),
               col(f, "seconds"), "s", f"<= {TARGET}x", lambda r: r <= TARGET),
        figure("uniqueness: duckdb gate / GROUP BY floor (CPU time)", col(d, "cpu_s"),
               col(f, "cpu_s"), "s", "info"),
        figure("uniqueness: rows flagged, duckdb gate / floor", col(d, "unexpected"),
               col(f, "unexpected"), "rows", "= 1.0x", lambda r: r == 1.0),
        figure("uniqueness: rows flagged, floor / generated", col(f, "unexpected"), expected,
               "rows", "= 1.0x", lambda r: r == 1.0),
        figure("uniqueness: duckdb gate: time inside DuckDB / floor", col(d, "sql_s"),
               col(f, "seconds"), "s", "info"),
        figure("uniqueness: duckdb gate / pandas gate (peak RSS)", col(d, "peak_rss_mb"),
               col(p, "peak_rss_mb"), "MB", "info"),
        figure("uniqueness: GROUP BY floor / pandas gate (peak RSS)", col(f, "peak_rss_mb"),
               col(p, "peak_rss_mb"), "MB", "info"),
        figure("uniqueness: duckdb gate / pandas gate (time)", col(d, "seconds"),
               col(p, "seconds"), "s", "info"),
    ]  # fmt: skip


def details(res: dict[str, Any]) -> list[str]:
    u = res.get(NAME)
    if not u:
        return []
    s = u["seed"]
    evaluators = {e: sorted({str(r.get("evaluator")) for r in u[e]}) for e in ("duckdb", "pandas")}
    return [
        f"uniqueness batch: {s['rows']:,} silver.odds rows, {s['matches']:,} matches, "
        f"{s['bookmakers']} bookmakers, {s['lines']} lines, {s['outcomes']} outcomes "
        f"(from {s['seasons']} real E0 seasons x {s['leagues']} leagues), "
        f"{s['duplicated_keys']} duplicated keys on {s['key']} ({s['duplicated_rows']} rows), "
        f"{s['data_files']} data file(s)",
        "uniqueness evaluator per engine: "
        + ", ".join(f"{e}={'/'.join(v)}" for e, v in evaluators.items()),
        *longest(u["duckdb"]),
    ]


def longest(gates: list[dict[str, Any]]) -> list[str]:
    """The duckdb gate's longest statements, median over the rounds (where its time goes)."""
    import statistics

    if not gates or "sql_longest" not in gates[0]:
        return []
    times: dict[str, list[float]] = {}
    for g in gates:
        for text, t in g["sql_longest"]:
            times.setdefault(text, []).append(t)
    median = {k: statistics.median(v + [0.0] * (len(gates) - len(v))) for k, v in times.items()}
    top = sorted(median.items(), key=lambda kv: -kv[1])[:5]
    return ["uniqueness: the duckdb gate's longest statements (median per gate):"] + [
        f"  {t:7.3f} s  {text[:110]}" for text, t in top
    ]


# jobs (bench/worker.py runs them in a fresh process) --------------------------------------
def _date(text: str) -> str | None:
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$", text.strip())
    if not m:
        return None
    day, month, year = int(m[1]), int(m[2]), int(m[3])
    if len(m[3]) == 2:
        year += 1900 if year >= 93 else 2000
    return f"{year:04d}-{month:02d}-{day:02d}"


def _cell(row: list[str], where: dict[str, int], column: str) -> str:
    i = where.get(column)
    return row[i].strip() if i is not None and i < len(row) else ""


def e0_prices(limit: int | None = None) -> tuple[dict[str, list[Any]], int]:
    """Every 1X2 price of every real E0 file, one row per (match, bookmaker, line, outcome)
    as busta's silver transform makes them (a bookmaker's first column wins, blank and
    unparsable prices give no row; a file's rows column by column); the match id without
    its league; the files oldest first, stopping once ``limit`` prices are read. (columns,
    seasons read)."""
    files = sorted(E0.glob("*.csv"))
    if not files:
        raise RuntimeError(f"no real E0 files in {E0} (../shared/data beside the repository)")
    cols: dict[str, list[Any]] = {k: [] for k in
                                  ("match", "bookmaker", "outcome", "price", "line", "season",
                                   "file", "row")}  # fmt: skip
    seasons = 0
    for path in files:
        if limit is not None and len(cols["match"]) >= limit:
            break
        seasons += 1
        with path.open(encoding="latin-1", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            prices = []
            for i, name in enumerate(header):
                m = _PRICE.match(name.strip())
                if m:
                    line = "closing" if m["closing"] else "opening"
                    prices.append((i, BOOKMAKERS[m["code"]], line, _OUTCOME[m["outcome"]]))
            where = {name.strip(): i for i, name in enumerate(header)}
            found: list[tuple[int, tuple[Any, ...]]] = []
            for line_no, row in enumerate(reader, start=2):
                date, home, away = (_cell(row, where, c) for c in ("Date", "HomeTeam", "AwayTeam"))
                day = _date(date)
                if not day or not home:
                    continue
                match = f"{day}:{home}:{away}"
                seen = set()
                for i, book, line, outcome in prices:
                    if i >= len(row) or (book, line, outcome) in seen:
                        continue
                    try:
                        price = float(row[i])
                    except ValueError:
                        continue
                    seen.add((book, line, outcome))
                    found.append((i, (match, book, outcome, price, line, path.stem, path.name,
                                      line_no)))  # fmt: skip
            found.sort(key=lambda f: f[0])  # column by column, as the transform emits them
            for _, values in found:
                for k, v in zip(cols, values, strict=True):
                    cols[k].append(v)
    return cols, seasons


def generate(rows: int, dup_keys: int, schema: Any) -> tuple[Any, dict[str, Any]]:
    """The silver.odds rows: the E0 prices repeated over the leagues until ``rows``, then the
    rows of whole matches spread over the table appended again until ``dup_keys`` keys are
    duplicated (same key and lineage, the price as republished)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    base, seasons = e0_prices(limit=rows)
    e0 = pa.table(base)
    if not e0.num_rows:
        raise RuntimeError(f"the real E0 files in {E0} hold no prices")
    pieces, have = [], 0
    ingested_at = pa.scalar(1_700_000_000_000_000, pa.timestamp("us", tz="UTC"))
    for n in range(-(-rows // e0.num_rows)):
        league = LEAGUES[n % len(LEAGUES)] + ("" if n < len(LEAGUES) else f"x{n // len(LEAGUES)}")
        t = e0.slice(0, min(e0.num_rows, rows - have))
        have += t.num_rows
        pieces.append(
            pa.table(
                {
                    "match_id": pc.binary_join_element_wise(league, t["match"], ":"),
                    "bookmaker": t["bookmaker"],
                    "market": pa.repeat("h2h", t.num_rows),
                    "outcome": t["outcome"],
                    "price": t["price"],
                    "line": t["line"],
                    "captured_at": pa.nulls(t.num_rows, pa.timestamp("us", tz="UTC")),
                    "_source": pa.repeat("football_data", t.num_rows),
                    "_run_id": pc.binary_join_element_wise("bench", league, t["season"], "-"),
                    "_ingested_at": pa.repeat(ingested_at, t.num_rows),
                    "_source_file": pc.binary_join_element_wise(
                        "/landing/football-data", league, t["file"], "/"
                    ),
                    "_source_row": t["row"],
                }
            )
        )
    table = pa.concat_tables(pieces)
    # whole matches, spread evenly, until dup_keys keys are duplicated
    ids = table["match_id"]
    per_match = table.num_rows / max(1, pc.count_distinct(ids).as_py())
    step = max(1, int(table.num_rows // (2 * dup_keys / per_match + 2)))
    picked: list[str] = []
    mask = None
    covered = 0
    pos = step
    while covered < dup_keys and pos < table.num_rows:
        mid = ids[pos].as_py()
        if mid not in picked:
            picked.append(mid)
            this = pc.equal(ids, mid)
            covered += pc.sum(this).as_py()
            mask = this if mask is None else pc.or_(mask, this)
        pos += step
    if covered < dup_keys or mask is None:
        raise RuntimeError(f"only {covered} keys to duplicate in {table.num_rows:,} rows")
    extra = table.filter(mask)
    extra = extra.set_column(
        extra.schema.get_field_index("price"), "price", pc.multiply(extra["price"], 1.05)
    )
    table = pa.concat_tables([table, extra]).cast(schema)
    return table, {
        "seasons": seasons,
        "leagues": len(pieces),
        "e0_prices": e0.num_rows,
        "duplicated_matches": len(picked),
        "duplicated_keys": extra.num_rows,
        "duplicated_rows": 2 * extra.num_rows,
    }


def _table_path(project: Path) -> Path:
    return project / "lake" / "silver" / "odds" / "football_data"


def job_seed(job: dict[str, Any]) -> dict[str, Any]:
    """Ingest the real season (the CLI), then rewrite the silver.odds table with the rows."""
    import duckdb
    import pyarrow.parquet as pq
    from deltalake import DeltaTable, write_deltalake

    from bench.worker import busta_ok

    config = job["config"]
    project = Path(config).parent
    os.chdir(project)
    t = time.perf_counter()
    code, doc = busta_ok(["--config", config, "ingest", "football_data", str(E0 / INGESTED),
                          "--json"])  # fmt: skip
    decisions = {f"{r['layer']}.{r['dataset']}": r["decision"] for r in (doc or {}).get("runs", [])}
    if not str(decisions.get("silver.odds", "")).startswith("promoted"):
        raise RuntimeError(f"ingest of {INGESTED} did not promote silver.odds: {decisions}")
    ingest_s = time.perf_counter() - t
    path = _table_path(project)
    table0 = DeltaTable(str(path))
    version = table0.version()
    schema = pq.read_schema(table0.file_uris()[0])
    t = time.perf_counter()
    table, info = generate(job["rows"], job["dup"], schema)
    generate_s = time.perf_counter() - t
    shutil.rmtree(path)
    write_deltalake(str(path), table)
    new = DeltaTable(str(path))
    if new.version() != version:  # the manifest names the ingest's version
        raise RuntimeError(f"rewritten table is at version {new.version()}, not {version}")
    files = new.file_uris()
    key = compound_key()
    con = duckdb.connect()
    q = ", ".join(f'count(DISTINCT "{c}")' for c in ("match_id", "bookmaker", "line", "outcome"))
    matches, bookmakers, lines, outcomes = con.execute(
        f"SELECT {q} FROM read_parquet({files!r})"
    ).fetchone()  # type: ignore[misc]
    con.close()
    return {
        "ingest_exit_code": code,
        "ingest_s": round(ingest_s, 2),
        "generate_s": round(generate_s, 2),
        "rows": table.num_rows,
        "key": ", ".join(key),
        "matches": matches,
        "bookmakers": bookmakers,
        "lines": lines,
        "outcomes": outcomes,
        "data_files": len(files),
        "bytes": sum(Path(f).stat().st_size for f in files),
        **info,
    }


def floor_sql(files: list[str], key: list[str]) -> str:
    """One GROUP BY over the key (rows with a null key column never duplicate, as in busta
    and GX): duplicated keys, the rows they cover, five of them."""
    cols = ", ".join(f'"{c}"' for c in key)
    nonnull = " AND ".join(f'"{c}" IS NOT NULL' for c in key)
    return (
        f"SELECT count(*), coalesce(sum(n), 0), list(struct_pack({cols}))[1:5] "
        f"FROM (SELECT {cols}, count(*) AS n FROM read_parquet({files!r}) "
        f"WHERE {nonnull} GROUP BY ALL HAVING count(*) > 1)"
    )


def job_floor(job: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    from deltalake import DeltaTable

    files = DeltaTable(str(_table_path(Path(job["config"]).parent))).file_uris()
    sql = floor_sql(files, compound_key())
    started, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    keys, rows, sample = con.execute(sql).fetchone()  # type: ignore[misc]
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu  # every thread of this process (DuckDB's too)
    con.close()
    return {"seconds": seconds, "cpu_s": cpu_s, "keys": keys, "unexpected": rows, "sample": sample}


def _copy(src: Path, dst: Path) -> None:
    """A copy of the seeded project; the lake's parquet files are hard links (read only)."""

    def link_or_copy(a: str, b: str) -> Any:
        return os.link(a, b) if a.endswith(".parquet") else shutil.copy2(a, b)

    shutil.copytree(src, dst, symlinks=True, copy_function=link_or_copy)


def _statement_timer() -> tuple[list[tuple[str, float]], Any]:
    """Every statement sent to DuckDB (SQLAlchemy's public events): its start and duration."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    spent: list[tuple[str, float]] = []

    def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.engine.dialect.name == "duckdb":
            conn.info["bench_t0"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        t0 = conn.info.pop("bench_t0", None)
        if t0 is not None:
            text = re.sub(r"busta_dup_[0-9a-f]+_", "busta_dup_*_", " ".join(statement.split()))
            spent.append((text[:160], time.perf_counter() - t0))

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)

    def remove() -> None:
        event.remove(Engine, "before_cursor_execute", before)
        event.remove(Engine, "after_cursor_execute", after)

    return spent, remove


def job_gate(job: dict[str, Any]) -> dict[str, Any]:
    import gc

    import yaml

    from bench.worker import busta_ok

    config = Path(job["config"])
    _copy(Path(job["copy_from"]).parent, config.parent)
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    for layer in doc["layers"].values():
        layer["engine"] = job["engine"]
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    os.chdir(config.parent)
    base = ["--config", str(config), "quality-check"]
    t = time.perf_counter()
    if job["warmup"]:
        busta_ok([*base, "--layer", "bronze", "--json"])  # GX's one-time set-up
    warmup_s = time.perf_counter() - t
    argv = [*base, "--layer", "silver", "--source", "football_data", "--json"]
    sql, remove = _statement_timer() if job["engine"] == "duckdb" else (None, None)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    code, report = busta_ok(argv)
    seconds = time.perf_counter() - started
    cpu_s = time.process_time() - cpu
    extra: dict[str, Any] = {}
    if remove is not None:
        remove()
        spent = sorted(sql or [], key=lambda q: -q[1])
        extra.update(
            sql_s=sum(t for _, t in spent),
            sql_queries=len(spent),
            sql_longest=[[text, round(t, 4)] for text, t in spent[:5]],
        )
    runs = {r["dataset"]: r for r in (report or {}).get("runs", [])}
    if set(runs) != {"matches", "odds"}:
        raise RuntimeError(f"busta {' '.join(argv)}: expected matches and odds, got {set(runs)}")
    odds = runs["odds"]
    flagged = [
        f["unexpected_count"]
        for f in odds["failures"]
        if f["expectation"] == "expect_compound_columns_to_be_unique"
    ]
    if len(flagged) != 1:
        raise RuntimeError(f"the compound-uniqueness check did not fail: {odds['failures']}")
    results = sorted(
        (config.parent / "gx" / "uncommitted" / "validations" / "silver" / "odds").rglob("*.json"),
        key=lambda p: p.stat().st_mtime,
    )
    meta = json.loads(results[-1].read_text(encoding="utf-8")).get("meta", {}) if results else {}
    return {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "warmup_s": warmup_s,
        "exit_code": code,
        "rows": odds["rows"],
        "matches_rows": runs["matches"]["rows"],
        "failed": odds["failed"],
        "unexpected": flagged[0],
        "evaluator": meta.get("busta_evaluator", "gx" if meta else "unknown"),
        **extra,
    }
