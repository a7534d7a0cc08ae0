"""The monitor loop: every source's probes on their intervals, the alert rules over what they
find, the alert timers and the outbox (``busta monitor``; ``busta serve`` and ``busta
sources health --watch`` run the same :class:`Monitor`). docs/sources.md, "The monitor".

Three kinds of threads, so that nothing slow holds anything else up:

* the **scheduler** (the caller's thread, :meth:`Monitor.run_forever`) starts each source's
  run at its due time: a source's slots are the wall-clock multiples of its ``interval``
  (the first run starts at once); at most ``monitor.concurrency`` runs at a time;
* a **worker** thread per run claims the slot (on a shared store, :mod:`.leases
  <busta_quality.store.monitor>`: two monitors never probe a source twice in one interval)
  and runs the source's probes; each probe bounds itself by its total deadline, and a run
  still going ``GRACE_S`` after the sum of its probes' deadlines is given up: its missing
  probes are recorded as timed out and its thread is left to end on its own (a plugin that
  ignores its deadline holds one thread, never the loop);
* the **evaluator** records the results in batches, turns each into signals
  (:func:`probe_signals`), hands them to the alert rules and runs the alert timers
  (escalation, repeats, ``for:``, ``absent_for``); the **deliverer** sends the outbox.

A stop (SIGTERM, SIGINT, the end of ``--cycles``/``--duration``) starts no new run, lets the
runs in flight finish (each within its deadline), records and evaluates what they found and
delivers for at most ``alerting.delivery.run_deadline_s``; what is not delivered stays in
the outbox for the next ``busta monitor`` or ``busta alerts dispatch``.

On a SQLite store only one monitor may run (an exclusive ``flock`` on ``<db>.monitor.lock``):
SQLite has one writer, and sharing the probes between machines needs PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from busta_quality.errors import UsageError
from busta_quality.health.base import Probe, ProbeContext
from busta_quality.health.runner import source_probes
from busta_quality.models import ProbeResult, ProbeStatus, Signal, utcnow
from busta_quality.orchestration.probe_judgement import ProbeJudge, judged_signals
from busta_quality.settings import BustaConfig
from busta_quality.settings.conditions import WINDOW_FUNCTIONS
from busta_quality.store import Store
from busta_quality.store.monitor import claim_slot, prune_leases, window_values
from busta_quality.store.probes import previous_probe_result, record_probe_results

log = logging.getLogger(__name__)

#: a run still going this long after its probes' deadlines is given up (its thread left)
GRACE_S = 2.0
#: the evaluator's longest wait for results before it runs the alert timers anyway
TICK_S = 0.5
#: the evaluator gathers results into one batch while each comes within BATCH_S of the
#: previous one, for at most MAX_BATCH_S
BATCH_S = 0.2
MAX_BATCH_S = 1.0
#: leases older than this many intervals are pruned
LEASE_KEEP_INTERVALS = 10


def new_owner() -> str:
    """This monitor's name in the lease table: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# signals ------------------------------------------------------------------------------------
def probe_labels(cfg: BustaConfig, r: ProbeResult) -> dict[str, str]:
    """What a probe signal is about: source, probe, probe type, source kind, then the
    source's own labels (which cannot rename those four)."""
    src = cfg.sources.get(r.source)
    labels = {
        "source": r.source,
        "probe": r.probe,
        "probe_type": r.probe_type,
        "kind": src.kind if src is not None else "",
    }
    if src is not None:
        for k, v in sorted(src.labels.items()):
            labels.setdefault(k, str(v))
    return labels


def window_rules(cfg: BustaConfig) -> list[tuple[str, str, str, float]]:
    """(signal kind, fn, signal, window seconds) of every window function the rules use."""
    out: dict[str, tuple[str, str, str, float]] = {}
    for rule in cfg.alerting.effective_rules():
        for cond in (rule.condition, rule.resolve_condition):
            if cond is not None and cond.fn in WINDOW_FUNCTIONS and cond.window_s is not None:
                out[cond.key] = (cond.key, cond.fn, cond.signal, cond.window_s)
    return list(out.values())


def probe_signals(
    cfg: BustaConfig, store: Store, r: ProbeResult, *, now: datetime | None = None
) -> list[Signal]:
    """The signals of one recorded probe result (:func:`batch_signals`)."""
    return batch_signals(cfg, store, [r], now=now)


def batch_signals(
    cfg: BustaConfig,
    store: Store,
    results: Sequence[ProbeResult],
    *,
    now: datetime | None = None,
    judge: ProbeJudge | None = None,
) -> list[Signal]:
    """The signals of recorded probe results (docs/alerting.md, "Signals"), for each:

    * ``probe_up`` (1 ok / 0 not), always;
    * ``response_time`` (seconds) when the probe measured one;
    * ``freshness_age`` (seconds) when the probe measured one;
    * ``probe_failure_rate``: failed / all results of this probe in the last
      ``monitor.failure_window`` (ending ``now``, these results included);
    * one signal per window function the rules use (``avg(response_time,900s)``), from the
      store over the rule's window;
    * one signal per ratio the rules use (``ratio(response_time,baseline)``), and
      ``anomaly``/``anomaly_score`` of the response time and of what the probe reported in
      ``detail["anomalies"]`` (:mod:`.probe_judgement`; ``judge``: the monitor's memory of
      baselines and series, else a fresh one that reads them now).

    Each carries the source's SLA targets in ``detail["sla"]`` (what ``sla`` thresholds
    compare with). The windows are one ``GROUP BY`` query per window for the whole batch."""
    at = now or utcnow()
    keys = sorted({(r.source, r.probe) for r in results})
    windows: list[tuple[str, dict[tuple[str, str], float], float]] = []
    fw = cfg.monitor.failure_window_s
    since = at - timedelta(seconds=fw)
    rates = window_values(store, keys, "rate", "probe_failures", since, at)
    windows.append(("probe_failure_rate", rates, fw))
    for kind, fn, signal, window_s in window_rules(cfg):
        since = at - timedelta(seconds=window_s)
        windows.append((kind, window_values(store, keys, fn, signal, since, at), window_s))
    out: list[Signal] = []
    all_labels: list[dict[str, str]] = []
    details: list[dict[str, Any]] = []
    for r in results:
        src = cfg.sources.get(r.source)
        labels = probe_labels(cfg, r)
        detail: dict[str, Any] = {
            "probe_result_id": r.id,
            "status": str(r.status),
            "error": r.error,
            "started_at": r.started_at.isoformat(),
            "duration_s": round(r.duration_s, 4),
        }
        if src is not None:
            detail["sla"] = {
                "response_time": src.sla.response_time_s,
                "probe_failure_rate": src.sla.failure_rate,
            }
        out.append(Signal("probe_up", 1.0 if r.ok else 0.0, labels, at, detail))
        rt = r.metric("response_time_s")
        if rt is not None:
            out.append(Signal("response_time", rt, labels, at, detail))
        fresh = r.metric("freshness_s")
        if fresh is not None:
            out.append(Signal("freshness_age", fresh, labels, at, detail))
        for kind, values, window_s in windows:
            v = values.get((r.source, r.probe))
            if v is not None:
                out.append(Signal(kind, v, labels, at, {**detail, "window_s": window_s}))
        all_labels.append(labels)
        details.append(detail)
    judged = judged_signals(cfg, store, results, all_labels, details, at, judge or ProbeJudge(cfg))
    for extra in judged:
        out.extend(extra)
    return out


# the SQLite guard ----------------------------------------------------------------------------
@contextlib.contextmanager
def exclusive_sqlite(cfg: BustaConfig) -> Iterator[None]:
    """On a SQLite store: hold ``<db>.monitor.lock`` (flock) for the monitor's life; a
    second monitor gets a UsageError (exit 2) naming PostgreSQL. Other stores: nothing."""
    db = cfg.sqlite_path
    if db is None:
        yield
        return
    import fcntl

    path = Path(f"{db}.monitor.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fh: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until the end
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise UsageError(
                f"a monitor is already running on the SQLite store {db} ({holder}); "
                "SQLite allows one monitor",
                "to share the probes between several monitors use a PostgreSQL store "
                "(store.url: postgresql+psycopg://...), or stop the other monitor first",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # releases the lock


# the loop -------------------------------------------------------------------------------------
@dataclass
class _Run:
    """One source's probes for one interval slot."""

    source: str
    slot: int
    #: when it was due (monotonic) and when its thread started
    due: float
    started: float | None = None
    #: its probes' deadlines summed (when to give it up, with GRACE_S)
    budget_s: float = 0.0
    results: list[ProbeResult] = field(default_factory=list)
    done: bool = False
    abandoned: bool = False
    claimed: bool = True


@dataclass
class MonitorReport:
    """What a monitor did (``busta monitor --json``)."""

    owner: str
    started_at: datetime
    concurrency: int = 0
    finished_at: datetime | None = None
    #: source runs started / skipped because another monitor had the slot
    runs: int = 0
    skipped: int = 0
    #: probe results recorded, of them not ok, and runs given up past their deadline
    probes: int = 0
    failed: int = 0
    abandoned: int = 0
    #: alerts whose state changed, and the outbox's delivery counts
    alerts_changed: int = 0
    delivered: int = 0
    pending: int = 0
    #: the slowest start after its due time (seconds)
    max_start_delay_s: float = 0.0
    #: probing wall time of the first cycle (seconds: first start to last result)
    first_cycle_s: float | None = None
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "concurrency": self.concurrency,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "runs": self.runs,
            "skipped": self.skipped,
            "probes": self.probes,
            "failed": self.failed,
            "abandoned": self.abandoned,
            "alerts_changed": self.alerts_changed,
            "delivered": self.delivered,
            "pending": self.pending,
            "max_start_delay_s": round(self.max_start_delay_s, 4),
            "first_cycle_s": None if self.first_cycle_s is None else round(self.first_cycle_s, 4),
            "errors": list(self.errors),
        }


#: how often a monitor rolls probe results up (and applies their retention)
ROLLUP_EVERY_S = 600
#: how long a stopping monitor waits for a rollup in progress
ROLLUP_JOIN_S = 60.0
#: the lease name of the rollup job on a shared store (not a source name: sources are
#: identifiers, this has a colon)
ROLLUP_LEASE = ":rollup"


class Monitor:
    """``Monitor(cfg, store).run_forever(stop)`` until ``stop`` is set; ``run_once()``.

    ``sources``: only these (default: every source with probes). ``leases``: claim each
    slot in the store (default: on any store but SQLite, where one monitor runs alone).
    ``deliver``: send the outbox (default true). ``on_results``: called in the evaluator
    with each recorded batch (``--watch`` redraws from it)."""

    def __init__(
        self,
        cfg: BustaConfig,
        store: Store,
        *,
        sources: Sequence[str] | None = None,
        concurrency: int | None = None,
        leases: bool | None = None,
        deliver: bool = True,
        owner: str | None = None,
        on_results: Callable[[list[ProbeResult]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cfg = cfg
        self.store = store
        names = sorted(cfg.sources) if sources is None else list(sources)
        self.sources = [n for n in names if cfg.sources[n].probes]
        self.concurrency = concurrency or cfg.monitor.concurrency
        self.leases = (cfg.sqlite_path is None) if leases is None else leases
        self.deliver = deliver
        self.owner = owner or new_owner()
        self.on_results = on_results
        self.clock = clock
        self.report = MonitorReport(self.owner, clock(), self.concurrency)
        #: built once (a ConfigError for an invalid probe surfaces here, before any run)
        self._probes: dict[str, list[Probe]] = {n: source_probes(cfg, n) for n in self.sources}
        self._previous: dict[tuple[str, str], ProbeResult | None] = {}
        self._lock = threading.Lock()
        self._active: list[_Run] = []
        self._results: queue.Queue[_Run] = queue.Queue()
        self._deliver_now = threading.Event()
        self._wake = threading.Event()
        self._evaluator_done = threading.Event()
        self._first_cycle: set[str] = set(self.sources)
        self._t0: float | None = None
        self._channels: Any = None
        self._rolled_slot: int | None = None
        self._rollup_thread: threading.Thread | None = None
        #: baselines and response-time series, kept between batches
        self._judge = ProbeJudge(cfg)

    # public ---------------------------------------------------------------------------
    def run_once(self) -> MonitorReport:
        """Every source's probes once, now; their signals evaluated, the outbox delivered."""
        return self.run_forever(threading.Event(), cycles=1)

    def run_forever(
        self,
        stop: threading.Event,
        *,
        cycles: int | None = None,
        duration_s: float | None = None,
    ) -> MonitorReport:
        """Run until ``stop`` is set, every source has had ``cycles`` slots, or
        ``duration_s`` passed; then finish cleanly (module docstring). The report."""
        from busta_quality.notify.registry import catalog

        self._channels = catalog(self.cfg.alerting)
        with exclusive_sqlite(self.cfg):
            evaluator = threading.Thread(target=self._evaluate_loop, name="busta-monitor-eval")
            deliverer = threading.Thread(target=self._deliver_loop, name="busta-monitor-send")
            evaluator.start()
            if self.deliver:
                deliverer.start()
            try:
                self._schedule(stop, cycles, duration_s)
            finally:
                self._drain()
                evaluator.join()
                if self.deliver:
                    self._deliver_now.set()
                    deliverer.join()
                if self._rollup_thread is not None:  # idempotent: one cut short is redone
                    self._rollup_thread.join(timeout=ROLLUP_JOIN_S)
        self.report.finished_at = self.clock()
        return self.report

    # scheduler ---------------------------------------------------------------------------
    def _schedule(
        self, stop: threading.Event, cycles: int | None, duration_s: float | None
    ) -> None:
        self._preload()
        offset = time.time() - time.monotonic()
        start = time.monotonic()
        self._t0 = start
        # each source's next slot and when it is due (monotonic); the first: now
        nxt: dict[str, tuple[int, float]] = {}
        for name in self.sources:
            iv = self.cfg.sources[name].interval_s
            nxt[name] = (math.floor((start + offset) / iv), start)
        count: dict[str, int] = dict.fromkeys(self.sources, 0)
        waiting: list[_Run] = []
        last_prune = start
        while not stop.is_set():
            now = time.monotonic()
            if duration_s is not None and now - start >= duration_s:
                break
            if cycles is not None and not waiting and all(c >= cycles for c in count.values()):
                break
            for name, (slot, due) in list(nxt.items()):
                if due > now or (cycles is not None and count[name] >= cycles):
                    continue
                iv = self.cfg.sources[name].interval_s
                count[name] += 1
                nxt[name] = (slot + 1, (slot + 1) * iv - offset)
                late = [r for r in waiting if r.source == name]
                if late:  # its previous slot never started (the previous run still going)
                    self._error(f"{name}: slot {late[0].slot} skipped, the run before it overran")
                    waiting = [r for r in waiting if r.source != name]
                waiting.append(_Run(name, slot, due, budget_s=self._budget(name)))
            waiting = self._start(waiting, now)
            self._give_up_overdue(now)
            if self.leases and now - last_prune > 60:
                last_prune = now
                self._prune()
            soonest = min((due for _, due in nxt.values()), default=now + 1.0)
            wait = max(0.0, min(soonest - time.monotonic(), 0.1))
            # a run that ends wakes the scheduler at once (a waiting run takes its place)
            self._wake.wait(wait)
            self._wake.clear()

    def _preload(self) -> None:
        """Each probe's newest recorded result (what its next run compares with: the quota
        burn rate), read once before the first slot instead of by every run."""
        for name in self.sources:
            for probe in self._probes[name]:
                self._previous[(name, probe.name)] = previous_probe_result(
                    self.store, name, probe.name
                )

    def _budget(self, source: str) -> float:
        src = self.cfg.sources[source]
        return sum(src.probe_timeout_s(p) for p in src.probes)

    def _start(self, waiting: list[_Run], now: float) -> list[_Run]:
        left: list[_Run] = []
        for run in waiting:
            with self._lock:
                going = [r for r in self._active if not r.done and not r.abandoned]
                # one run per source at a time: a slot whose previous run still goes (it
                # started late in its own slot) starts when that one ends
                if len(going) >= self.concurrency or any(r.source == run.source for r in going):
                    left.append(run)
                    continue
                run.started = time.monotonic()
                self._active.append(run)
            delay = run.started - run.due
            self.report.max_start_delay_s = max(self.report.max_start_delay_s, delay)
            threading.Thread(
                target=self._work, args=(run,), name=f"busta-probe-{run.source}", daemon=True
            ).start()
        return left

    def _give_up_overdue(self, now: float) -> None:
        over: list[_Run] = []
        with self._lock:
            for run in self._active:
                if run.done or run.abandoned or run.started is None:
                    continue
                if now - run.started > run.budget_s + GRACE_S:
                    run.abandoned = True
                    over.append(run)
        for run in over:
            self.report.abandoned += 1
            self._error(f"{run.source}: its probes overran their deadlines; given up")
            self._results.put(run)

    def _drain(self) -> None:
        """Stop: wait for the runs in flight (each within its budget), then tell the
        evaluator no more will come."""
        while True:
            now = time.monotonic()
            self._give_up_overdue(now)
            with self._lock:
                going = [r for r in self._active if not r.done and not r.abandoned]
            if not going:
                break
            time.sleep(0.05)
        self._results.put(_Run("", -1, 0.0))  # the end marker

    # workers ------------------------------------------------------------------------------
    def _work(self, run: _Run) -> None:
        try:
            if self.leases:
                run.claimed = claim_slot(self.store, run.source, run.slot, self.owner, self.clock())
            if run.claimed:
                self._probe(run)
        except Exception as exc:  # a store error: recorded as the run's failure, never raised
            self._error(f"{run.source}: {type(exc).__name__}: {exc}")
            if run.claimed:  # the probes it did not get to are failed ones
                run.results = self._failed_results(run, f"{type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                handed = not run.abandoned  # a run given up was handed over then
                run.done = True
            if handed:
                self._results.put(run)
            self._wake.set()

    def _probe(self, run: _Run) -> None:
        src = self.cfg.sources[run.source]
        for probe, pcfg in zip(self._probes[run.source], src.probes, strict=True):
            key = (run.source, probe.name)
            if key not in self._previous:
                self._previous[key] = previous_probe_result(self.store, run.source, probe.name)
            ctx = ProbeContext(
                source=run.source,
                probe=probe.name,
                config=self.cfg,
                timeout_s=src.probe_timeout_s(pcfg),
                store=self.store,
                previous=self._previous[key],
                clock=self.clock,
                origin="monitor",
            )
            try:
                result = probe.run(ctx)
            except Exception as exc:  # run() never raises; a plugin that overrides it may
                result = self._broken(run.source, probe, f"{type(exc).__name__}: {exc}")
            self._previous[key] = result
            with self._lock:
                if run.abandoned:
                    return
                run.results.append(result)

    def _broken(
        self, source: str, probe: Probe, error: str, *, timeout: bool = False
    ) -> ProbeResult:
        return ProbeResult(
            source=source,
            probe=probe.name,
            probe_type=probe.probe_type,
            started_at=self.clock(),
            duration_s=0.0,
            ok=False,
            status=ProbeStatus.TIMEOUT if timeout else ProbeStatus.ERROR,
            error=error,
            origin="monitor",
        )

    def _failed_results(self, run: _Run, error: str, *, timeout: bool = False) -> list[ProbeResult]:
        have = {r.probe for r in run.results}
        missing = [p for p in self._probes[run.source] if p.name not in have]
        return [
            *run.results,
            *(self._broken(run.source, p, error, timeout=timeout) for p in missing),
        ]

    # evaluator ----------------------------------------------------------------------------
    def _evaluate_loop(self) -> None:
        last_tick = 0.0
        ended = False
        while not ended:
            batch: list[_Run] = []
            try:
                batch.append(self._results.get(timeout=TICK_S))
                # results streaming in (a cycle of many sources): take them while they keep
                # coming (each within BATCH_S of the last, for at most MAX_BATCH_S), so a
                # cycle is a few transactions and a few queries per window, not one per result
                until = time.monotonic() + MAX_BATCH_S
                while (left := min(BATCH_S, until - time.monotonic())) > 0:
                    batch.append(self._results.get(timeout=left))
            except queue.Empty:
                pass
            if any(r.slot == -1 for r in batch):
                ended = True
            runs = [r for r in batch if r.slot != -1]
            try:
                if runs:
                    self._handle(runs)
                    last_tick = time.monotonic()
                elif time.monotonic() - last_tick >= TICK_S:
                    self._tick()
                    last_tick = time.monotonic()
            except Exception as exc:  # the store went away: reported, the loop goes on
                self._error(f"evaluating: {type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            self._tick()
        self._evaluator_done.set()

    def _handle(self, runs: list[_Run]) -> None:
        from busta_quality.alerts import handle_signals

        results: list[ProbeResult] = []
        for run in runs:
            with self._lock:
                self._active = [r for r in self._active if r is not run]
            self._first_cycle.discard(run.source)
            if not run.claimed:
                self.report.skipped += 1
                continue
            self.report.runs += 1
            got = run.results
            if run.abandoned:
                why = f"no answer within {run.budget_s:g}s (+{GRACE_S:g}s grace); given up"
                got = self._failed_results(run, why, timeout=True)
            results.extend(got)
        if not self._first_cycle and self.report.first_cycle_s is None and self._t0:
            self.report.first_cycle_s = time.monotonic() - self._t0
        if not results:
            return
        ids = record_probe_results(self.store, results)
        results = [replace(r, id=i) for r, i in zip(results, ids, strict=True)]
        self.report.probes += len(results)
        self.report.failed += sum(1 for r in results if not r.ok)
        now = self.clock()
        signals = batch_signals(self.cfg, self.store, results, now=now, judge=self._judge)
        changed = handle_signals(self.cfg, self.store, signals, self._channels, now=now)
        self.report.alerts_changed += len(changed)
        if changed:
            self._deliver_now.set()
        if self.on_results is not None:
            try:
                self.on_results(results)
            except Exception as exc:
                self._error(f"on_results: {type(exc).__name__}: {exc}")

    def _tick(self) -> None:
        from busta_quality.alerts import tick

        changed = tick(self.cfg, self.store, self._channels, now=self.clock())
        self.report.alerts_changed += len(changed)
        if changed:
            self._deliver_now.set()

    def _prune(self) -> None:
        longest = max((self.cfg.sources[n].interval_s for n in self.sources), default=300.0)
        before = self.clock() - timedelta(seconds=longest * LEASE_KEEP_INTERVALS)
        try:
            prune_leases(self.store, before)
        except Exception as exc:
            self._error(f"pruning leases: {type(exc).__name__}: {exc}")

    # deliverer ----------------------------------------------------------------------------
    def _maybe_rollup(self) -> None:
        """Every :data:`ROLLUP_EVERY_S`: start the rollup job in a thread of its own (a long
        first rollup never holds up deliveries), unless the last one still runs."""
        if self._rollup_thread is not None and self._rollup_thread.is_alive():
            return
        now = self.clock()
        slot = math.floor(now.timestamp() / ROLLUP_EVERY_S)
        if slot == self._rolled_slot:
            return
        self._rolled_slot = slot
        self._rollup_thread = threading.Thread(
            target=self._rollup, args=(now, slot), name="busta-monitor-rollup", daemon=True
        )
        self._rollup_thread.start()

    def _rollup(self, now: datetime, slot: int) -> None:
        """Roll probe results into hourly and daily rows and apply ``store.probe_retention``
        (``busta sources rollup``); on a shared store one monitor per period does it (the
        lease of :data:`ROLLUP_LEASE`)."""
        from busta_quality.store.rollups import Retention, rollup

        if self.leases and not claim_slot(self.store, ROLLUP_LEASE, slot, self.owner, now):
            return
        try:
            rollup(
                self.store,
                now,
                intervals={n: src.interval_s for n, src in self.cfg.sources.items()},
                retention=Retention.of(self.cfg.store.probe_retention),
            )
            self._judge.invalidate()  # the baselines read the rollups
        except Exception as exc:
            self._error(f"rolling up probe results: {type(exc).__name__}: {exc}")

    def _deliver_loop(self) -> None:
        from busta_quality.notify import dispatch

        while True:
            self._deliver_now.wait(timeout=1.0)
            self._deliver_now.clear()
            self._maybe_rollup()
            final = self._evaluator_done.is_set()
            deadline = (
                self.cfg.alerting.delivery.run_deadline_s
                if final
                else self.cfg.monitor.delivery_deadline_s
            )
            try:
                counts = dispatch(self.cfg, self.store, deadline_s=deadline)
                self.report.delivered += counts.get("delivered", 0)
                self.report.pending = counts.get("pending", 0)
            except Exception as exc:
                self._error(f"delivering: {type(exc).__name__}: {exc}")
            if final:
                return

    def _error(self, message: str) -> None:
        log.warning("monitor: %s", message)
        with self._lock:
            if len(self.report.errors) < 100:
                self.report.errors.append(message)
