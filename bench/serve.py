"""``busta serve`` (issue 11): warm ingest through the API, page latency on a long history, RSS.

Every round runs in a fresh worker process that starts its own ``busta serve --no-monitor``
(loopback, a free port, the token of a generated busta.yml: only its SHA-256 is written) and
talks to it over HTTP, as a client would.

1. *ingest*: ``POST /api/v1/ingest`` (multipart upload) of one real season (the E0 file
   ``../shared/data/football-data/E0/2024-25.csv``, 380 matches) on the warm server: 2
   untimed warm-ups, then ``INGESTS`` timed re-ingests (idempotent merges); their p95 against
   the 1 s target, and against ``busta ingest`` of the same file as a cold CLI process (a
   fresh ``busta`` process, the same project, the server idle) timed in the same round.
2. *pages*: ``GET /dashboard/`` (the health grid: every source's uptime windows and SLA) and
   ``GET /api/v1/runs`` with 50 distinct random filters (source, layer, dataset, decision,
   a since/until range, ``limit``) on three stores: the demo project's (``busta demo``), a
   generated store of 1,000 sources probed every 5 minutes for 30 days and 100,000 gate runs,
   and the same at 5x the history (150 days, 500,000 runs). See ``bench/serve_store.py``;
   built stores are cached in ``bench/.cache/serve/`` (git-ignored). "Caches cleared":
   every sample asks for different parameters (nothing a previous answer computed can be
   reused), and the server's SQLite page cache is its default 2 MiB per connection against
   a store of gigabytes; the OS page cache cannot be dropped without root and stays warm
   (the cached store files are read once before timing). A page over ``PAGE_BUDGET_S`` of
   samples in one round is sampled fewer times (at least once; ``n`` is in the results);
   the home page on the generated stores (a minute or more a sample, see docs/benchmarks.md)
   is measured in the first round only.
3. *RSS*: the VmRSS (``/proc/<pid>/status``) of the server and the processes it started (the
   gate process that runs ingests, the Data Docs process that renders their pages), summed, after 10 warm-up ingests of small generated
   seasons (``busta_quality.pipeline.sample``, 4 teams) and after 200 more.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import seed as seeding  # noqa: E402
from bench import serve_store  # noqa: E402

NAME = "serve"
CACHE = ROOT / "bench" / ".cache" / "serve"
#: bump when the way stores are built changes (the cache key includes it)
BUILD = 3
E0 = ROOT.parent / "shared" / "data" / "football-data" / "E0"
SEASON = "2024-25.csv"
SOURCE = "football_data"
INGEST_TARGET_S = 1.0
PAGE_TARGET_S = 0.300
GROWTH_TARGET = 1.3
RSS_TARGET = 1.2
INGESTS, SMOKE_INGESTS = 10, 1
RSS_WARMUP, RSS_INGESTS, SMOKE_RSS_INGESTS = 10, 200, 2
SAMPLES, SMOKE_SAMPLES = 50, 3
#: samples of one page in one round stop after this long (at least one sample)
PAGE_BUDGET_S = 30.0
HISTORY_X = 5
SCALE = {"sources": 1000, "days": 30, "runs": 100_000}
SMOKE_SCALE = {"sources": 20, "days": 2, "runs": 2_000}
#: the end of the generated histories (fixed: a cached store is the same store)
END = datetime(2026, 12, 1, tzinfo=UTC)
BUSTA = str(Path(sys.executable).parent / "busta")
PAGES = ("home", "runs")
STORES = ("demo", "1x", f"{HISTORY_X}x")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _scales(smoke: bool) -> dict[str, dict[str, int]]:
    base = SMOKE_SCALE if smoke else SCALE
    big = {**base, "days": base["days"] * HISTORY_X, "runs": base["runs"] * HISTORY_X}
    return {"1x": dict(base), f"{HISTORY_X}x": big}


def _store_key(scale: dict[str, int]) -> str:
    migrations = sorted(
        p.name for p in (ROOT / "busta_quality" / "store" / "migrations").rglob("*.py")
    )
    raw = json.dumps([BUILD, scale, END.isoformat(), migrations], sort_keys=True)
    return (
        f"{scale['sources']}s-{scale['days']}d-{scale['runs']}r-"
        + hashlib.sha256(raw.encode()).hexdigest()[:12]
    )


# the section (bench/run.py) ----------------------------------------------------------------
def run(worker: Any, work: Path, *, repeat: int, smoke: bool) -> dict[str, Any]:
    scales = _scales(smoke)
    stores = {name: str(CACHE / _store_key(s) / "busta.db") for name, s in scales.items()}
    log(
        f"serve: stores of {scales['1x']['sources']:,} sources x {scales['1x']['days']} and "
        f"{scales[f'{HISTORY_X}x']['days']} days (cached), the demo project"
    )
    out: dict[str, Any] = {"scales": scales, "ingest": [], "pages": []}
    demo = work / "serve-demo" / "busta.yml"
    out["setup"] = worker.run(
        {
            "kind": "bench.serve:job_setup",
            "stores": stores,
            "scales": scales,
            "demo": str(demo),
            "smoke": smoke,
        }
    )
    log(f"serve: warm POST /api/v1/ingest vs cold busta ingest; pages; {repeat} round(s)")
    for i in range(repeat):
        out["ingest"].append(
            worker.run(
                {"kind": "bench.serve:job_ingest", "dir": str(work / f"serve-ingest-{i}"),
                 "warmup": 1 if smoke else 2, "ingests": SMOKE_INGESTS if smoke else INGESTS}
            )
        )  # fmt: skip
        out["pages"].append(
            worker.run(
                {"kind": "bench.serve:job_pages", "dir": str(work / f"serve-pages-{i}"),
                 "stores": {"demo": str(demo), **stores}, "scales": scales,
                 "samples": SMOKE_SAMPLES if smoke else SAMPLES, "seed": i,
                 "home_generated": i == 0}
            )
        )  # fmt: skip
    log(f"serve: RSS over {SMOKE_RSS_INGESTS if smoke else RSS_INGESTS} warm ingests")
    out["rss"] = worker.run(
        {"kind": "bench.serve:job_rss", "dir": str(work / "serve-rss"),
         "warmup": 1 if smoke else RSS_WARMUP,
         "ingests": SMOKE_RSS_INGESTS if smoke else RSS_INGESTS}
    )  # fmt: skip
    return out


def figures(res: dict[str, Any], figure: Any) -> list[dict[str, Any]]:
    s = res.get(NAME)
    if not s:
        return []
    ing, pages = s["ingest"], s["pages"]

    def col(rows: list[dict[str, Any]], key: str) -> list[float]:
        return [float(r[key]) for r in rows]

    figs = [
        figure("serve: warm POST /api/v1/ingest p95 / 1 s target", col(ing, "warm_p95_s"),
               [INGEST_TARGET_S] * len(ing), "s", "<= 1.0x (1 s)", lambda r: r <= 1.0),
        figure("serve: warm POST /api/v1/ingest p95 / cold busta ingest", col(ing, "warm_p95_s"),
               col(ing, "cold_s"), "s", "info"),
    ]  # fmt: skip
    for page in PAGES:
        label = "GET /dashboard/" if page == "home" else "GET /api/v1/runs"
        for store in STORES:
            p95 = [float(r[store][page]["p95_s"]) for r in pages if page in r[store]]
            figs.append(
                figure(f"serve: {label} p95 ({store} store) / 300 ms target", p95,
                       [PAGE_TARGET_S] * len(p95), "s", "<= 1.0x (300 ms)", lambda r: r <= 1.0)
            )  # fmt: skip
        both = [r for r in pages if page in r["1x"] and page in r[f"{HISTORY_X}x"]]
        big = [float(r[f"{HISTORY_X}x"][page]["p95_s"]) for r in both]
        one = [float(r["1x"][page]["p95_s"]) for r in both]
        figs.append(
            figure(f"serve: {label} p95, {HISTORY_X}x / 1x history", big, one, "s",
                   f"<= {GROWTH_TARGET}x", lambda r: r <= GROWTH_TARGET)
        )  # fmt: skip
    r = s["rss"]
    figs.append(
        figure(f"serve: RSS after {r['ingests']} warm ingests / after warm-up", [r["after_mb"]],
               [r["warm_mb"]], "MB", f"<= {RSS_TARGET}x", lambda x: x <= RSS_TARGET)
    )  # fmt: skip
    return figs


def details(res: dict[str, Any]) -> list[str]:
    s = res.get(NAME)
    if not s:
        return []
    lines = []
    for name, info in s["setup"]["stores"].items():
        if "probe_results" not in info:
            lines.append(f"serve store {name}: busta demo in {info['seconds']:.0f} s, "
                         f"{info['mb']:,.1f} MB")  # fmt: skip
            continue
        how = "cached" if info["cache_hit"] else f"built in {info['seconds']:.0f} s"
        lines.append(
            f"serve store {name}: {info.get('probe_results', 0):,} probe results, "
            f"{info.get('check_runs', 0):,} gate runs, {info['mb']:,.0f} MB "
            f"({how}; rollup job {info.get('rollup_s', 0):.0f} s)"
        )
    for r in s["ingest"]:
        lines.append(
            f"serve ingest: warm p50 {r['warm_p50_s']:.3f} s p95 {r['warm_p95_s']:.3f} s "
            f"(n={len(r['warm_s'])}), cold CLI {r['cold_s']:.3f} s, server start "
            f"{r['server_start_s']:.1f} s, exit codes {sorted(set(r['exit_codes']))}"
        )
    for r in s["pages"]:
        parts = []
        for store in STORES:
            for page in PAGES:
                if page not in r[store]:
                    continue
                p = r[store][page]
                parts.append(f"{store} {page} p50 {p['p50_s'] * 1000:.0f} p95 "
                             f"{p['p95_s'] * 1000:.0f} ms (n={p['n']})")  # fmt: skip
        lines.append("serve pages: " + "; ".join(parts))
    r = s["rss"]
    lines.append(
        f"serve RSS: {r['start_mb']:.0f} MB at start, {r['warm_mb']:.0f} MB after "
        f"{r['warmup']} warm-up ingests, {r['after_mb']:.0f} MB after {r['ingests']} more "
        f"({r['seconds']:.0f} s, {r['failed']} not exit 0)"
    )
    return lines


# the server --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def add_token(cfg: Path, *, scopes: list[str], extra: dict[str, Any] | None = None) -> str:
    """Add a generated token (only its hash) to ``cfg``'s ``serve.tokens``; the token."""
    import yaml

    token = secrets.token_hex(32)
    doc = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
    serve = doc.get("serve") or {}
    digest = hashlib.sha256(token.encode()).hexdigest()
    serve["tokens"] = [{"name": "bench", "sha256": digest, "scopes": scopes}]
    doc["serve"] = {**serve, **(extra or {})}
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return token


class Server:
    """``busta serve --no-monitor`` on a free loopback port, as its own process."""

    def __init__(self, cfg: Path, token: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.log = (cfg.parent / f"serve-{self.port}.log").open("wb")
        t = time.perf_counter()
        self.proc = subprocess.Popen(
            [BUSTA, "--config", str(cfg), "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--no-monitor"],
            cwd=cfg.parent, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        import httpx

        self.client = httpx.Client(base_url=self.url, headers=self.headers, timeout=600)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"busta serve exited {self.proc.returncode}: {self.tail()}")
            try:
                if self.client.get("/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"busta serve did not start: {self.tail()}")
            time.sleep(0.1)
        self.start_s = time.perf_counter() - t

    def tail(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")[-3000:]

    def rss_mb(self) -> float:
        """VmRSS of the server and every process it started (its gate process, which runs
        the ingests, and multiprocessing's resource tracker), summed."""
        total, todo, seen = 0.0, [self.proc.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
            except FileNotFoundError:
                continue  # a process that ended meanwhile (a gate process being replaced)
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in tasks:
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except FileNotFoundError:
                    continue
        if not total:
            raise RuntimeError("no VmRSS")
        return total

    def ingest(self, path: Path) -> tuple[float, int]:
        """(seconds, the report's exit code) of one upload through ``POST /api/v1/ingest``."""
        data = path.read_bytes()
        t = time.perf_counter()
        resp = self.client.post(
            "/api/v1/ingest", data={"source": SOURCE}, files={"file": (path.name, data)}
        )
        seconds = time.perf_counter() - t
        if resp.status_code != 200:
            raise RuntimeError(f"POST /api/v1/ingest: {resp.status_code} {resp.text[:2000]}")
        return seconds, int(resp.json()["exit_code"])

    def get(self, path: str, params: dict[str, Any] | None = None) -> float:
        t = time.perf_counter()
        resp = self.client.get(path, params=params)
        seconds = time.perf_counter() - t
        if resp.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {resp.status_code} {resp.text[:1000]}")
        return seconds

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def _stats(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_s": _percentile(values, 0.5),
            "p95_s": _percentile(values, 0.95), "max_s": max(values), "samples": values}  # fmt: skip


def _season() -> Path:
    path = E0 / SEASON
    if not path.is_file():
        raise RuntimeError(f"no real E0 season at {path} (../shared/data beside the repository)")
    return path


# jobs (bench/worker.py runs each in a fresh process) ----------------------------------------
def _sources_config(cfg: Path, store: Path, sources: int) -> Path:
    """A busta.yml of ``sources`` http sources (never probed: the server runs --no-monitor)
    on the generated store."""
    import yaml

    doc = seeding.shipped_config()
    doc["lake"] = {"root": "./lake"}
    doc["store"] = {"url": f"sqlite:///{store}"}
    doc["gx"] = {**(doc.get("gx") or {}), "project_dir": "./gx"}
    doc["sources"] = {
        f"s{i:04d}": {"kind": "odds_api", "interval": "5m", "timeout": "2s",
                      "probes": [{"type": "http", "url": f"http://127.0.0.1:9/feed/{i}"}]}
        for i in range(sources)
    }  # fmt: skip
    doc.pop("alerting", None)
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return cfg


def job_setup(job: dict[str, Any]) -> dict[str, Any]:
    """The generated stores (built once, cached) and the demo project (``busta demo``)."""
    from bench.worker import busta

    out: dict[str, Any] = {"stores": {}}
    for name, db in job["stores"].items():
        db_path = Path(db)
        scale = job["scales"][name]
        t = time.perf_counter()
        hit = (db_path.parent / "store.json").is_file()
        if hit:
            info = json.loads((db_path.parent / "store.json").read_text(encoding="utf-8"))
        else:
            tmp = db_path.parent.with_name(db_path.parent.name + f".tmp-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            cfg = tmp / "busta.yml"
            # raw probes are kept, as in the sla section (the worst case for the pages, and
            # no multi-hour delete of 40M rows right after generating them)
            cfg.write_text(
                f"store:\n  url: sqlite:///{tmp / 'busta.db'}\n  probe_retention: {{raw: null}}\n",
                encoding="utf-8",
            )
            proc = subprocess.run(  # creates the schema (its own process: no open connection)
                [BUSTA, "--config", str(cfg), "alerts", "list"],
                cwd=tmp, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                raise RuntimeError(f"busta alerts list exited {proc.returncode}: {proc.stderr}")
            info = serve_store.fill(
                tmp / "busta.db", sources=scale["sources"], days=scale["days"],
                runs=scale["runs"], end_epoch=int(END.timestamp()),
                gate_sources=min(serve_store.GATE_SOURCES, scale["sources"]),
            )  # fmt: skip
            # the real rollup job over the generated history, as a running monitor would
            # have run it: the dashboard and the API read the rollups plus the raw tail
            r0 = time.perf_counter()
            proc = subprocess.run(
                [BUSTA, "--config", str(cfg), "sources", "rollup", "--json"],
                cwd=tmp, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                raise RuntimeError(f"busta sources rollup exited {proc.returncode}: {proc.stderr}")
            info.update(rollup_s=round(time.perf_counter() - r0, 1),
                        rollup=json.loads(proc.stdout))  # fmt: skip
            for f in tmp.glob("busta.db.*"):
                f.unlink()
            cfg.unlink()
            (tmp / "store.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
            shutil.rmtree(db_path.parent, ignore_errors=True)
            os.replace(tmp, db_path.parent)
        info.update(cache_hit=hit, seconds=round(time.perf_counter() - t, 1),
                    mb=round(db_path.stat().st_size / 2**20, 1))  # fmt: skip
        out["stores"][name] = info
    demo = seeding.project(Path(job["demo"]).parent, engine="duckdb")
    os.chdir(demo.parent)
    t = time.perf_counter()
    teams = ["--teams", "4"] if job.get("smoke") else []
    code, text = busta(["--config", str(demo), "demo", *teams, "--json"])
    if code not in (0, 1):
        raise RuntimeError(f"busta demo exited {code}: {text[-2000:]}")
    out["demo_s"] = round(time.perf_counter() - t, 1)
    out["stores"]["demo"] = {"cache_hit": False, "seconds": out["demo_s"],
                             "mb": round((demo.parent / ".busta" / "busta.db").stat().st_size
                                         / 2**20, 1)}  # fmt: skip
    return out


def job_ingest(job: dict[str, Any]) -> dict[str, Any]:
    """Warm ``POST /api/v1/ingest`` of the real season (timed after 2 warm-ups), then the
    same file through a cold ``busta ingest`` process."""
    root = Path(job["dir"])
    cfg = seeding.project(root, engine="duckdb")
    token = add_token(cfg, scopes=["read", "write", "ingest"])
    season = _season()
    server = Server(cfg, token)
    try:
        codes = []
        for _ in range(int(job["warmup"])):
            codes.append(server.ingest(season)[1])
        warm = []
        for _ in range(int(job["ingests"])):
            seconds, code = server.ingest(season)
            warm.append(seconds)
            codes.append(code)
        t = time.perf_counter()
        proc = subprocess.run(
            [BUSTA, "--config", str(cfg), "ingest", SOURCE, str(season), "--json"],
            cwd=root, capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        cold = time.perf_counter() - t
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"busta ingest exited {proc.returncode}: {proc.stderr[-2000:]}")
        return {
            "warm_s": warm,
            "warm_p50_s": _percentile(warm, 0.5),
            "warm_p95_s": _percentile(warm, 0.95),
            "cold_s": cold,
            "cold_exit_code": proc.returncode,
            "exit_codes": codes,
            "server_start_s": server.start_s,
        }
    finally:
        server.stop()


def _run_filters(rng: random.Random, scale: dict[str, int] | None) -> dict[str, Any]:
    """Random filters for ``/api/v1/runs``: a range inside the history, maybe a source,
    layer, dataset, decision, a page size."""
    days = scale["days"] if scale else 30
    end = END if scale else datetime.now(UTC)
    params: dict[str, Any] = {}
    first = rng.uniform(0, days)
    width = rng.choice([1, 7, 30, days])
    since = end - timedelta(days=first)
    params["since"] = since.isoformat()
    params["until"] = (since + timedelta(days=width)).isoformat()
    if scale and rng.random() < 0.4:
        params["source"] = f"s{rng.randrange(min(serve_store.GATE_SOURCES, scale['sources'])):04d}"
    if rng.random() < 0.4:
        layer = rng.choice(list(serve_store.DATASETS))
        params["layer"] = layer
        if scale and rng.random() < 0.5:
            params["dataset"] = rng.choice(serve_store.DATASETS[layer])
    if rng.random() < 0.3:
        params["decision"] = rng.choice(["promoted", "quarantined", "recorded"])
    params["limit"] = rng.choice([20, 50, 100, 100, 500])
    return params


def _read_through(path: Path) -> None:
    """Read a file once (the OS page cache, as it is warm on a server that has been up)."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


def job_pages(job: dict[str, Any]) -> dict[str, Any]:
    """Per store: a fresh server; the home page and ``/api/v1/runs`` with random filters."""
    root = Path(job["dir"])
    rng = random.Random(int(job["seed"]))
    out: dict[str, Any] = {}
    for name, where in job["stores"].items():
        scale = job["scales"].get(name)
        if name == "demo":
            cfg = root / "demo" / "busta.yml"
            shutil.copytree(Path(where).parent, cfg.parent, symlinks=True)
        else:
            _read_through(Path(where))
            cfg = _sources_config(root / name / "busta.yml", Path(where), scale["sources"])
        token = add_token(cfg, scopes=["read"])
        server = Server(cfg, token)
        try:
            server.get("/dashboard/" if name == "demo" else "/api/v1/runs")  # imports, templates
            res: dict[str, Any] = {}
            for page in PAGES:
                if page == "home" and name != "demo" and not job.get("home_generated", True):
                    continue  # a minute or more a sample: measured in the first round only
                times: list[float] = []
                seen: set[str] = set()
                started = time.perf_counter()
                while len(times) < int(job["samples"]):
                    if page == "home":
                        times.append(server.get("/dashboard/"))
                    else:
                        params = _run_filters(rng, scale)
                        key = json.dumps(params, sort_keys=True)
                        if key in seen:
                            continue
                        seen.add(key)
                        times.append(server.get("/api/v1/runs", params))
                    if time.perf_counter() - started > PAGE_BUDGET_S:
                        break
                res[page] = _stats(times)
            res["server_start_s"] = server.start_s
            out[name] = res
        finally:
            server.stop()
    return out


def job_rss(job: dict[str, Any]) -> dict[str, Any]:
    """The server's VmRSS after warm-up ingests of small generated seasons and after more."""
    from busta_quality.pipeline.sample import generate_season_csv

    root = Path(job["dir"])
    cfg = seeding.project(root, engine="duckdb")
    token = add_token(cfg, scopes=["read", "write", "ingest"])
    landing = root / "landing"
    landing.mkdir(exist_ok=True)
    files = [
        generate_season_csv(landing / f"s{k}.csv", seed=k, season_start_year=2000 + k, teams=4)
        for k in range(10)
    ]
    server = Server(cfg, token)
    try:
        start_mb = server.rss_mb()
        failed = 0
        for i in range(int(job["warmup"])):
            failed += server.ingest(files[i % len(files)])[1] != 0
        warm_mb = server.rss_mb()
        t = time.perf_counter()
        samples = []
        for i in range(int(job["ingests"])):
            failed += server.ingest(files[i % len(files)])[1] != 0
            if i % 20 == 19:
                samples.append(round(server.rss_mb(), 1))
        return {
            "start_mb": start_mb,
            "warm_mb": warm_mb,
            "after_mb": server.rss_mb(),
            "every_20_mb": samples,
            "warmup": int(job["warmup"]),
            "ingests": int(job["ingests"]),
            "failed": failed,
            "seconds": time.perf_counter() - t,
        }
    finally:
        server.stop()
