"""Record golden files of busta-quality's observable behaviour.

Runs a fixed scenario through the public entry points only, in a fresh temporary project:

- every CLI command through click's ``CliRunner`` on ``busta_quality.cli:main`` (exit code
  and the ``--json`` object, or the text for ``docs suites``/``docs build``/``config validate``);
- the requests each loopback channel stand-in received (Slack, webhook, PagerDuty,
  Alertmanager: ``tests/support/servers.py``; email: a real local SMTP server);
- the JSON text columns of the SQLite store, read with ``sqlite3``.

Everything nondeterministic is normalised (see :class:`Normaliser`) and one JSON file per
command/artifact is written (sorted keys, indent 2)::

    python tests/golden/record.py --out tests/golden/data

The football-data landing files of the ``ingest`` steps are committed in ``inputs/`` (made once
with ``--make-inputs`` by the project's sample generator), so the scenario does not depend on
where the generator lives. ``tests/golden/test_golden.py`` runs :func:`record` and compares.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import functools
import hashlib
import hmac
import importlib
import itertools
import json
import re
import secrets
import shlex
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
INPUTS = HERE / "inputs"
DATA = HERE / "data"
ENTRY_POINT = "busta_quality.cli:main"

if str(REPO) not in sys.path:  # `python tests/golden/record.py`: make `tests.` importable
    sys.path.append(str(REPO))

from tests.support.servers import SMTPSink, StandIn  # noqa: E402

#: the landing files of the ingest steps (inputs/), made by ``--make-inputs``
INPUT_FILES = {
    "clean": ("E0_2022-23_clean.csv", ()),
    "quarantine": ("E0_2022-23_odds_below_1.csv", ("odds_below_1",)),
    "warning": ("E0_2022-23_unknown_extra_column.csv", ("unknown_extra_column",)),
}

SECRETS = {
    "slack_token": "xoxb-golden-secret-token",
    "webhook_secret": "golden-hmac-secret",
    "routing_key": "golden-routing-key",
    "am_token": "golden-am-token",
}
#: the environment of every CLI call (``None`` removes a variable)
ENV: dict[str, str | None] = {
    "USER": "golden",
    "GOLDEN_SLACK_TOKEN": SECRETS["slack_token"],
    "BUSTA_CONFIG": None,
    "BUSTA_DEBUG": None,
}
#: request headers recorded from the HTTP stand-ins (the rest are transport details)
HEADERS = ("authorization", "content-type", "x-golden", "x-busta-event",
           "x-busta-idempotency-key", "x-busta-signature")  # fmt: skip
#: email headers recorded (Message-ID, In-Reply-To and References are normalised)
MAIL_HEADERS = ("Subject", "From", "To", "Message-ID", "In-Reply-To", "References",
                "X-Busta-Idempotency-Key", "MIME-Version")  # fmt: skip
#: store columns known to hold JSON text (more are found by looking at the values)
JSON_COLUMNS = {
    "alerts": ("labels", "detail"),
    "alert_outbox": ("payload",),
    "expectation_results": ("detail",),
    "maintenance_windows": ("matchers",),
}
#: columns shown next to each JSON value, so a diff says which row it is
CONTEXT_COLUMNS = {
    "alerts": ("rule", "state"),
    "alert_outbox": ("alert_id", "event", "channel", "status"),
    "expectation_results": ("check_run_id", "expectation", "column_name", "status"),
    "maintenance_windows": ("name",),
    "alert_delivery_attempts": ("outbox_id", "outcome"),
}
#: a run id the scenario asks for that never exists (kept verbatim)
UNKNOWN_RUN = "20000101T000000Z-000000"
FIXED_RUN_IDS = {UNKNOWN_RUN}
#: per-call bound for the CLI (a hung command fails the recording instead of the test run)
CALL_TIMEOUT_S = 120.0


# normalisation -------------------------------------------------------------------------
_RUN_ID = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b")
_BATCH_SEQ = re.compile(r"(?<=/)\d{12}-(?=\d{8}T\d{6}Z-[0-9a-f]{6}\b)")
_COMPACT_TS = re.compile(r"\b\d{8}T\d{6}(?:\.\d+)?Z\b")
_ISO_TS = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_LOOPBACK = re.compile(r"\b127\.0\.0\.1:\d+")
_UUID = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b"
)
_MSGID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
#: keys whose value is a duration of this run or a port of a stand-in
_VOLATILE_KEYS = {"seconds": "<SECONDS>", "port": "<PORT>"}


class Normaliser:
    """Replaces what differs between two runs of the same code with placeholders.

    - the temporary project directory → ``<PROJECT>``, the inputs directory → ``<INPUTS>``;
    - run ids (``20261121T212300Z-3f9a1c``) → ``<RUN_1>``, ``<RUN_2>``… in order of first
      appearance over the whole recording (so "same run" relations survive);
    - wall-clock timestamps (ISO strings within a few days of the recording, GX's compact
      ``20261121T212301.123456Z``, epoch numbers) → ``<TS>`` / ``<EPOCH>``; fixed dates of
      the scenario (sample data, the 2020 window in busta.yml) are kept;
    - email Message-IDs → ``<MSGID_1>``… (threading relations survive);
    - uuids → ``<UUID>``; ``127.0.0.1:<port>`` → ``127.0.0.1:<PORT>``; values of the keys
      ``seconds`` (durations) and ``port`` → ``<SECONDS>`` / ``<PORT>``.

    Dicts are walked in sorted key order, so the numbering does not depend on key order.
    """

    def __init__(self, project: Path, now: datetime, inputs: Path = INPUTS) -> None:
        roots = {str(project): "<PROJECT>", str(project.resolve()): "<PROJECT>",
                 str(inputs): "<INPUTS>", str(inputs.resolve()): "<INPUTS>"}  # fmt: skip
        self.roots = sorted(roots.items(), key=lambda kv: len(kv[0]), reverse=True)
        self.lo = now - timedelta(days=2)
        self.hi = now + timedelta(days=3)
        self.runs: dict[str, str] = {}
        self.msgids: dict[str, str] = {}

    def run_ref(self, run_id: str) -> str:
        return self.runs.setdefault(run_id, f"<RUN_{len(self.runs) + 1}>")

    def msgid(self, value: str) -> str:
        return self.msgids.setdefault(value, f"<MSGID_{len(self.msgids) + 1}>")

    def _is_now(self, text: str) -> bool:
        try:
            t = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            return True  # an odd format: treat as volatile
        t = t if t.tzinfo else t.replace(tzinfo=UTC)
        return self.lo <= t <= self.hi

    def text(self, s: str) -> str:
        for root, placeholder in self.roots:
            s = s.replace(root, placeholder)
        # a batch file is named ``{seq:012d}-{run_id}``: the sequence is an id like the run's
        s = _BATCH_SEQ.sub("", s)
        s = _RUN_ID.sub(
            lambda m: m.group(0) if m.group(0) in FIXED_RUN_IDS else self.run_ref(m.group(0)), s
        )
        s = _COMPACT_TS.sub("<TS>", s)
        s = _ISO_TS.sub(lambda m: "<TS>" if self._is_now(m.group(0)) else m.group(0), s)
        s = _LOOPBACK.sub("127.0.0.1:<PORT>", s)
        s = _MSGID.sub(
            lambda m: self.msgid(m.group(0)) if "@busta" in m.group(0) else m.group(0), s
        )
        return _UUID.sub("<UUID>", s)

    def number(self, v: float) -> Any:
        for scale in (1, 1000):
            if self.lo.timestamp() <= v / scale <= self.hi.timestamp():
                return "<EPOCH>"
        return v

    def __call__(self, obj: Any, key: str | None = None) -> Any:
        if key in _VOLATILE_KEYS and obj is not None:
            return _VOLATILE_KEYS[key]
        if isinstance(obj, dict):
            return {str(k): self(obj[k], str(k)) for k in sorted(obj, key=str)}
        if isinstance(obj, list | tuple):
            return [self(v) for v in obj]
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, bool) or obj is None:
            return obj
        if isinstance(obj, int | float):
            return self.number(obj)
        return self.text(str(obj))


# the project -----------------------------------------------------------------------------
def write_project(root: Path, repo: Path, *, standins: dict[str, StandIn], smtp_port: int) -> Path:
    """A fresh busta project in ``root``: the GX project copied from ``repo``, data docs on,
    lake and SQLite store inside ``root``, one channel of each type on a loopback stand-in."""
    for name in ("gx", "expectations", "checkpoints"):
        shutil.copytree(repo / name, root / name, ignore=shutil.ignore_patterns("uncommitted"))
    every = ["slack", "email", "webhook", "pagerduty", "alertmanager"]
    doc: dict[str, Any] = {
        "project": "golden",
        "lake": {"root": "./lake"},
        "store": {"url": "sqlite:///.busta/busta.db"},
        "gx": {"project_dir": "./gx", "data_docs": {"enabled": True, "retention": 50}},
        "alerting": {
            "routes": [
                {"match": {"severity": "critical"}, "channels": every},
                {
                    "match": {"severity": "warning"},
                    "channels": ["slack", "webhook", "alertmanager"],
                },
            ],
            "channels": {
                "slack": {
                    "type": "slack",
                    "token": "${GOLDEN_SLACK_TOKEN}",
                    "channel": "#data-alerts",
                    "base_url": f"{standins['slack'].url}/api/",
                    "mention_critical": "<!here>",
                    "timeout_s": 2,
                },
                "email": {
                    "type": "email",
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "security": "none",
                    "from_addr": "busta-quality@example.com",
                    "to": ["oncall-data@example.com", "lead@example.com"],
                    "timeout_s": 2,
                },
                "webhook": {
                    "type": "webhook",
                    "url": f"{standins['webhook'].url}/busta",
                    "secret": SECRETS["webhook_secret"],
                    "headers": {"X-Golden": "1"},
                    "timeout_s": 2,
                },
                "pagerduty": {
                    "type": "pagerduty",
                    "routing_key": SECRETS["routing_key"],
                    "base_url": standins["pagerduty"].url,
                    "timeout_s": 2,
                },
                "alertmanager": {
                    "type": "alertmanager",
                    "url": standins["alertmanager"].url,
                    "token": SECRETS["am_token"],
                    "generator_url": "https://busta.example.com/alerts",
                    "timeout_s": 2,
                },
            },
            # a window from the file, long past: listed, never active
            "maintenance": [
                {
                    "name": "provider upgrade (config)",
                    "match": {"source": "odds_api"},
                    "start": "2020-06-01T02:00:00+00:00",
                    "end": "2020-06-01T04:00:00+00:00",
                    "comment": "from busta.yml",
                }
            ],
            "delivery": {
                "max_attempts": 3,
                "backoff_base_s": 0.05,
                "backoff_max_s": 0.2,
                "lease_s": 10,
            },
        },
    }
    path = root / "busta.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# channel stand-ins -----------------------------------------------------------------------
@contextmanager
def stand_ins() -> Iterator[tuple[dict[str, StandIn], SMTPSink]]:
    with ExitStack() as stack:
        http = {}
        for name in ("slack", "webhook", "pagerduty", "alertmanager"):
            s = StandIn().start()
            stack.callback(s.stop)
            http[name] = s
        smtp = SMTPSink().start()
        stack.callback(smtp.stop)
        yield http, smtp


def _body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return dict(parse_qsl(raw.decode("utf-8", "replace")))


def http_requests(standin: StandIn) -> list[dict[str, Any]]:
    out = []
    for r in list(standin.requests):
        headers = {k.lower(): v for k, v in r.headers.items() if k.lower() in HEADERS}
        sig = headers.get("x-busta-signature")
        if sig is not None:
            want = (
                "sha256="
                + hmac.new(SECRETS["webhook_secret"].encode(), r.raw, hashlib.sha256).hexdigest()
            )
            ok = hmac.compare_digest(sig, want)
            headers["x-busta-signature"] = "<HMAC-SHA256 valid>" if ok else "<HMAC-SHA256 INVALID>"
        out.append({"path": r.path, "headers": headers, "body": _body(r.raw)})
    return out


def mail_messages(smtp: SMTPSink) -> list[dict[str, Any]]:
    out = []
    for raw in list(smtp.messages):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "content": part.get_content().splitlines(),
                }
            )
        out.append(
            {
                "headers": {h: msg[h] for h in MAIL_HEADERS if msg[h] is not None},
                "header_names": sorted({k for k in msg}),
                "content_type": msg.get_content_type(),
                "parts": parts,
            }
        )
    return out


# the store -------------------------------------------------------------------------------
def _parse_json(v: Any, *, strict: bool = True) -> tuple[bool, Any]:
    """(is JSON, value); ``strict``: only objects and arrays count (to discover columns)."""
    if not isinstance(v, str) or (strict and not v.lstrip().startswith(("{", "["))):
        return False, None
    try:
        return True, json.loads(v)
    except ValueError:
        return False, None


def store_json_columns(db: Path) -> dict[str, dict[str, Any]]:
    """``{"table.column": {...}}`` for every column holding JSON text: the count of SQL NULLs
    and of JSON ``null`` texts, and every other value with its row's id and context."""
    out: dict[str, dict[str, Any]] = {}
    if not db.is_file():  # no store at all: every known column shows as missing
        return {
            f"{table}.{col}": {"missing": f"no store at {db.name}"}
            for table, cols in JSON_COLUMNS.items()
            for col in cols
        }
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]  # fmt: skip
        for table in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            order = "id" if "id" in cols else "rowid"
            rows = [dict(zip(cols, r, strict=True)) for r in con.execute(
                f'SELECT * FROM "{table}" ORDER BY {order}'
            )]  # fmt: skip
            for col in cols:
                values = [r[col] for r in rows if r[col] is not None]
                known = col in JSON_COLUMNS.get(table, ())
                if not known and not (values and all(_parse_json(v)[0] for v in values)):
                    continue
                ctx = [c for c in CONTEXT_COLUMNS.get(table, ()) if c in cols]
                doc: dict[str, Any] = {"rows": len(rows), "sql_null": 0, "json_null": 0}
                items = []
                for r in rows:
                    if r[col] is None:
                        doc["sql_null"] += 1
                        continue
                    ok, value = _parse_json(r[col], strict=False)
                    if ok and value is None:
                        doc["json_null"] += 1
                        continue
                    item = {"id": r.get("id"), **{c: r[c] for c in ctx}}
                    item["value" if ok else "text (not JSON)"] = value if ok else r[col]
                    items.append(item)
                doc["values"] = items
                out[f"{table}.{col}"] = doc
    finally:
        con.close()
    for table, cols in JSON_COLUMNS.items():  # a known column that vanished shows as a diff
        for col in cols:
            out.setdefault(f"{table}.{col}", {"missing": "column not found in the store"})
    return out


# run ids ---------------------------------------------------------------------------------
@contextmanager
def monotonic_run_ids() -> Iterator[None]:
    """Make ``secrets.token_hex`` count up while recording.

    A run id is ``<UTC second>-<token_hex(3)>`` and the lake orders batches by run id, so two
    runs made in the same second (the demo's files often are) would sort, and be validated
    by ``quality-check --batch all`` (and so open/resolve alerts), in a random order. A
    counting token keeps creation order; the values are normalised anyway. Only the test
    process is affected (busta's other use, temp-file suffixes, just needs uniqueness).
    """
    original = secrets.token_hex
    counter = itertools.count(1)

    def token_hex(nbytes: int | None = None) -> str:
        width = 2 * (32 if nbytes is None else nbytes)
        return f"{next(counter):0{width}x}"[-width:]

    secrets.token_hex = token_hex
    try:
        yield
    finally:
        secrets.token_hex = original


# the scenario ----------------------------------------------------------------------------
def _main() -> Any:
    module, _, attr = ENTRY_POINT.partition(":")
    return getattr(importlib.import_module(module), attr)


class Scenario:
    def __init__(self, config: Path, norm: Normaliser) -> None:
        from click.testing import CliRunner

        self.config = config
        self.norm = norm
        self.runner = CliRunner()
        self.main = _main()
        self.files: dict[str, Any] = {}
        self.stderr: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._last_run_second = 0
        self.step = 0
        self.made: list[str] = []

    def _new_second(self) -> None:
        """Commands that make run ids start in a later wall-clock second than the last run
        id: run ids sort by their second, then by a random suffix, so two runs made in one
        second would sort (and be picked as ``latest``) at random."""
        for _ in range(40):  # bounded: at most ~2 s
            if int(time.time()) > self._last_run_second:
                return
            time.sleep(0.05)

    def _runs_made(self, parsed: Any, ended: float) -> None:
        """Remember the newest run id's second (from the report, else the clock) and check
        that run ids keep their creation order."""
        runs = parsed.get("runs", []) if isinstance(parsed, dict) else []
        ids = [str(r.get("run_id")) for r in runs if isinstance(r, dict)]
        ids = [i for i in ids if _RUN_ID.fullmatch(i)]
        self.made += [i for i in dict.fromkeys(ids) if i not in self.made]
        if ids:
            newest = datetime.strptime(max(ids)[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            self._last_run_second = int(newest.timestamp())
        else:
            self._last_run_second = int(ended)
        if self.made != sorted(self.made):
            raise RuntimeError(
                "run ids are not in creation order, so the lake's order of batches (and the "
                f"recording) is random: {self.made}. Does busta still make the suffix with "
                "secrets.token_hex (see monotonic_run_ids)?"
            )

    def _invoke(self, name: str, argv: list[str]) -> Any:
        """``CliRunner.invoke`` in a worker thread, so a hung command fails the recording
        after ``CALL_TIMEOUT_S`` instead of blocking the test run."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = self.runner.invoke(self.main, argv, env=ENV)
            except BaseException as exc:  # CliRunner catches the command's own errors
                box["error"] = exc

        worker = threading.Thread(target=work, name=f"golden-{name}", daemon=True)
        worker.start()
        worker.join(CALL_TIMEOUT_S)
        if worker.is_alive():
            raise TimeoutError(f"{name}: busta {' '.join(argv)} still running after "
                               f"{CALL_TIMEOUT_S:.0f} s")  # fmt: skip
        if "error" in box:
            raise box["error"]
        return box["result"]

    def cli(
        self,
        name: str,
        command: str,
        *,
        values: dict[str, Any] | None = None,
        kind: str = "json",
        makes_runs: bool = False,
    ) -> Any:
        """Run one command (``busta --config <busta.yml> <command>``, split like a shell;
        ``{key}`` is ``values[key]``, quoted); record the exit code and its output.
        ``kind``: ``json`` (stdout parsed), ``text`` (stdout lines) or ``code`` (exit code)."""
        quoted = {k: shlex.quote(str(x)) for k, x in (values or {}).items()}
        args = shlex.split(command.format_map(quoted))
        self.step += 1
        name = f"{self.step:02d}_{name.replace('-', '_')}"
        if makes_runs:
            self._new_second()
        started = time.monotonic()
        res = self._invoke(name, ["--config", str(self.config), *args])
        self.timings[name] = round(time.monotonic() - started, 2)
        rec: dict[str, Any] = {"args": list(args), "exit_code": res.exit_code}
        parsed: Any = None
        if kind == "json":
            try:
                parsed = json.loads(res.stdout)
                rec["json"] = parsed
            except ValueError:
                rec["stdout"] = res.stdout.splitlines()
        elif kind == "text":
            rec["stdout"] = res.stdout.splitlines()
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            rec["exception"] = f"{type(res.exception).__name__}: {res.exception}"
        if makes_runs:
            self._runs_made(parsed, time.time())
        self.files[name] = self.norm(rec)
        if res.stderr:
            self.stderr[name] = self.norm.text(res.stderr)
        return parsed


def _first(alerts: Any, **want: Any) -> int:
    """The id of the first listed alert with ``want``; 0 (no such alert) when there is none,
    so the scenario goes on and the difference shows in the golden files."""
    for a in alerts.get("alerts", []) if isinstance(alerts, dict) else []:
        if isinstance(a, dict) and all(a.get(k) == v for k, v in want.items()):
            return int(a["id"])
    return 0


def run_scenario(s: Scenario, project: Path) -> None:
    """The fixed scenario. ``{name}`` in a command is a path or id, shell-quoted."""
    v: dict[str, Any] = {k: INPUTS / name for k, (name, _) in INPUT_FILES.items()}
    v.update(missing=project / "nope.csv", unknown_run=UNKNOWN_RUN)
    run = functools.partial(s.cli, values=v)

    run("config_validate", "config validate", kind="text")
    run("demo", "demo --seed 7 --json", makes_runs=True)
    run("ingest_clean", "ingest football_data {clean} --json", makes_runs=True)
    run("ingest_warning", "ingest football_data {warning} --json", makes_runs=True)
    run("ingest_warning_fail_on_warning", "ingest football_data {warning} --fail-on warning --json",
        makes_runs=True)  # fmt: skip
    run("ingest_quarantine", "ingest football_data {quarantine} --json", makes_runs=True)
    run("ingest_missing_path", "ingest football_data {missing} --json", makes_runs=True)
    run("ingest_unknown_source", "ingest no_such_source {clean} --json")

    # alerts: the quarantined ingest left a critical alert firing
    run("alerts_dispatch", "alerts dispatch --json")
    listed = run("alerts_list", "alerts list --json")
    run("alerts_list_all", "alerts list --state all --json")
    run("alerts_list_firing_limit", "alerts list --state firing --limit 1 --json")
    v["critical"] = _first(listed, state="firing", severity="critical")
    run("alerts_show_critical", "alerts show {critical} --json")
    run("alerts_ack", "alerts ack {critical} --by golden-oncall --json")
    run("alerts_ack_again", "alerts ack {critical} --json")
    run("alerts_dispatch_after_ack", "alerts dispatch --json")
    run("alerts_resolve", "alerts resolve {critical} --json")
    run("alerts_resolve_again", "alerts resolve {critical} --json")
    run("alerts_show_missing", "alerts show 999999 --json")
    run("alerts_ack_missing", "alerts ack 999999 --json")
    run("alerts_dispatch_after_resolve", "alerts dispatch --json")
    run("alerts_show_resolved", "alerts show {critical} --json")

    # quality checks of what is in the lake (results recorded, alerts fed)
    run("quality_check_latest", "quality-check --json")
    run("quality_check_all", "quality-check --batch all --json")
    run("quality_check_silver", "quality-check --layer silver --json")
    run("quality_check_source", "quality-check --source odds_api --layer gold --json")
    run("quality_check_unknown_run", "quality-check --batch {unknown_run} --json")
    run("alerts_list_after_checks", "alerts list --state all --json")

    # maintenance: a window active now over football_data bronze/silver with a warning ingest
    # inside it (suppressed), ended by hand (released); a recurring window on 30 February
    # (never active, whatever the date of the recording)
    added = run("maintenance_add_oneoff", "maintenance add --name 'lake rebuild' "
                "--match source=football_data --match 'layer=bronze|silver' --duration 2h "
                "--comment 'golden one-off' --by golden --json")  # fmt: skip
    run("maintenance_add_cron", "maintenance add --name 'leap-day vacuum' --cron '0 3 30 2 *' "
        "--duration 2h --tz Europe/London --by golden --json")  # fmt: skip
    run("maintenance_add_bad_cron", "maintenance add --name x --cron 'bad cron' --duration 1h "
        "--json")  # fmt: skip
    run("maintenance_add_no_end", "maintenance add --name x --json")
    run("ingest_warning_in_window", "ingest football_data {warning} --json", makes_runs=True)
    run("alerts_list_in_window", "alerts list --json")
    run("maintenance_list", "maintenance list --json")
    v["window"] = (added or {}).get("id")
    run("maintenance_end", "maintenance end {window} --json")
    run("maintenance_end_again", "maintenance end {window} --json")
    run("maintenance_end_missing", "maintenance end 999 --json")
    run("maintenance_list_all", "maintenance list --all --json")
    run("alerts_dispatch_after_window", "alerts dispatch --json")

    # channels and docs
    run("channels_list", "channels list --json")
    for name in ("slack", "email", "webhook", "pagerduty", "alertmanager"):
        run(f"channels_test_{name}", f"channels test {name} --json")
    run("channels_test_unknown", "channels test nope --json")
    run("alerts_list_end", "alerts list --state all --json")
    run("docs_suites", "docs suites", kind="text")
    run("docs_build", "docs build", kind="text")

    # human output (no --json): exit codes only
    human = {
        "config_validate": "config validate",
        "ingest_quarantine": "ingest football_data {quarantine}",
        "ingest_missing_path": "ingest football_data {missing}",
        "quality_check_gold": "quality-check --layer gold",
        "quality_check_unknown_run": "quality-check --batch {unknown_run}",
        "alerts_list": "alerts list",
        "alerts_list_all": "alerts list --state all",
        "alerts_show": "alerts show {critical}",
        "alerts_show_missing": "alerts show 999999",
        "alerts_ack_resolved": "alerts ack {critical}",
        "alerts_dispatch": "alerts dispatch",
        "maintenance_list_all": "maintenance list --all",
        "maintenance_end_missing": "maintenance end 999",
        "channels_list": "channels list",
        "channels_test_webhook": "channels test webhook",
        "channels_test_unknown": "channels test nope",
    }
    for name, cmd in human.items():
        run(f"human_{name}", cmd, kind="code", makes_runs=cmd.startswith("ingest"))


def record(out: Path, repo: Path = REPO, *, stderr_dir: Path | None = None) -> dict[str, float]:
    """Run the scenario in a fresh temporary project; write the golden files into ``out``
    (and, with ``stderr_dir``, each command's stderr there: not part of the golden files).

    Returns the seconds each command took (not part of the golden files either)."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="busta-golden-") as tmp,
        stand_ins() as (http, smtp),
        monotonic_run_ids(),
    ):
        project = Path(tmp) / "project"
        project.mkdir()
        config = write_project(project, repo, standins=http, smtp_port=smtp.port)
        norm = Normaliser(project, datetime.now(UTC))
        scenario = Scenario(config, norm)
        run_scenario(scenario, project)
        files = dict(scenario.files)
        for name, standin in http.items():
            files[f"channel_{name}"] = norm({"requests": http_requests(standin)})
        files["channel_email"] = norm({"messages": mail_messages(smtp)})
        for key, value in store_json_columns(project / ".busta" / "busta.db").items():
            files[f"store_{key}"] = norm(value)
    for stale in out.glob("*.json"):  # the directory holds exactly this recording
        stale.unlink()
    for name, doc in files.items():
        text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        (out / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    if stderr_dir is not None:
        stderr_dir.mkdir(parents=True, exist_ok=True)
        for name, text in scenario.stderr.items():
            (stderr_dir / f"{name}.txt").write_text(text, encoding="utf-8")
    timings = dict(scenario.timings)
    timings["total"] = round(time.monotonic() - started, 2)
    return timings


def make_inputs(dest: Path = INPUTS) -> None:
    """Write the landing files of the ingest steps (once; they are committed)."""
    from busta_quality.sample import generate_season_csv

    for name, defects in INPUT_FILES.values():
        generate_season_csv(dest / name, seed=11, season_start_year=2022, teams=8,
                            bookmakers=4, defects=defects)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=DATA, help="golden directory to write")
    ap.add_argument("--make-inputs", action="store_true", help="(re)write inputs/ and exit")
    args = ap.parse_args(argv)
    import busta_quality

    sys.stderr.write(f"busta_quality from {Path(busta_quality.__file__).parent}\n")
    if args.make_inputs:
        make_inputs()
        return 0
    timings = record(args.out)
    sys.stderr.write(json.dumps(timings, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
