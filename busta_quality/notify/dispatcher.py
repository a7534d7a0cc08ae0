"""The outbox dispatcher: at-least-once delivery with retries, backoff and leases.

Every notification was written to the outbox in the same transaction as the alert
transition that caused it. Here each row is claimed with a lease (a conditional UPDATE, so
concurrent dispatchers in other processes never send the same row at the same time), an
attempt is recorded *before* the send (a dispatcher killed mid-send leaves it
``in_flight``; the next claimant marks it ``abandoned``), and the outcome decides:
delivered (never sent again), retry later (exponential backoff or the receiver's
Retry-After), or failed for good (permanent error or ``max_attempts`` used).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from busta_quality.errors import NotFoundError
from busta_quality.models import (
    AlertEvent,
    AlertJSON,
    AlertState,
    AttemptOutcome,
    OutboxStatus,
    Severity,
    as_utc,
    utcnow,
)
from busta_quality.notify.base import Channel, Delivery, Notification
from busta_quality.notify.registry import build_channel
from busta_quality.settings.alerting import AlertingConfig
from busta_quality.store import outbox as q

if TYPE_CHECKING:
    from busta_quality.settings import BustaConfig
    from busta_quality.store.db import Store
    from busta_quality.store.outbox import OutboxRow

log = logging.getLogger(__name__)

#: hard cap on loop iterations per dispatch() call (the deadline is the real bound)
_MAX_ROUNDS = 100_000


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempt: int, base_s: float, max_s: float) -> float:
    """Seconds before attempt ``attempt + 1``: base · 2^(attempt-1), capped."""
    return min(max_s, base_s * (2 ** max(0, attempt - 1)))


def dispatch(
    config: BustaConfig,
    store: Store,
    *,
    now: datetime | None = None,
    deadline_s: float = 10.0,
    owner: str | None = None,
) -> dict[str, int]:
    """Deliver due outbox notifications until none is due within ``deadline_s``.

    Retries that fall due before the deadline are waited for; later ones are left for the
    next call. The deadline holds whatever the receivers do: each send is cut at its
    channel's ``timeout_s`` or at the deadline, whichever is sooner (a cut send is a failed,
    retryable attempt; the notification stays queued). Returns counts: delivered, skipped, retried, failed, attempts, pending.
    ``now`` shifts the clock (tests); time still advances in real time from it.
    """
    acfg = config.alerting
    dcfg = acfg.delivery
    start = time.monotonic()
    base = utcnow() if now is None else as_utc(now)

    def clock() -> datetime:
        return base + timedelta(seconds=time.monotonic() - start)

    def remaining() -> float:
        return deadline_s - (time.monotonic() - start)

    me = owner or _owner()
    counts = {"delivered": 0, "skipped": 0, "retried": 0, "failed": 0, "attempts": 0}
    channels: dict[str, Channel | None] = {}
    for _ in range(_MAX_ROUNDS):
        if remaining() <= 0:
            break
        t = clock()
        longest = max((c.timeout_s for c in acfg.channels.values()), default=5.0)
        lease = timedelta(seconds=max(dcfg.lease_s, longest * 2 + 5))
        rows = q.claim(store, owner=me, now=t, lease_until=t + lease, limit=1)
        if not rows:
            due = q.pending_due_times(store, clock())
            if not due:
                break
            wait = (min(due) - clock()).total_seconds()
            if wait > remaining():
                break
            time.sleep(min(max(0.02, wait), max(0.0, remaining())))
            continue
        for row in rows:
            if remaining() <= 0:
                q.release(store, row["id"], me)
                continue
            outcome = _deliver(acfg, store, row, me, clock, channels, remaining)
            counts["attempts"] += 1
            counts[outcome] += 1
    counts["pending"] = q.outbox_counts(store).get(OutboxStatus.PENDING.value, 0)
    return counts


def _channel(acfg: AlertingConfig, name: str, cache: dict[str, Channel | None]) -> Channel | None:
    if name not in cache:
        cfg = acfg.channels.get(name)
        try:
            cache[name] = build_channel(name, cfg) if cfg is not None and cfg.enabled else None
        except Exception:  # a broken third-party plugin must not stop the others
            log.exception("channel %s could not be built", name)
            cache[name] = None
    return cache[name]


def _deliver(
    acfg: AlertingConfig,
    store: Store,
    row: OutboxRow,
    me: str,
    clock: Callable[[], datetime],
    cache: dict[str, Channel | None],
    remaining: Callable[[], float],
) -> str:
    """One attempt at one notification; the name of the count it adds to. The send is cut
    at the channel's ``timeout_s`` or at the end of the call's deadline, whichever is
    sooner (``remaining()`` seconds from now)."""
    dcfg = acfg.delivery
    payload = row["payload"]
    event = AlertEvent(payload["event"])
    attempt_id = q.start_attempt(store, row, owner=me, now=clock())
    attempt_no = row["attempts"] + 1
    channel = _channel(acfg, row["channel"], cache)
    if channel is None:
        d = Delivery.failed(f"channel {row['channel']!r} is not configured", retryable=False)
    else:
        ref = q.thread_ref(store, row["alert_id"], row["channel"], row.get("group_id"))
        if event is AlertEvent.FIRING and row.get("group_id") is None:
            ref = None
        n = Notification(
            event=event,
            alert=payload["alert"],
            idempotency_key=row["idempotency_key"],
            thread_ref=ref,
        )
        d = channel.deliver(n, within_s=remaining())
    now = clock()
    nxt: datetime | None = None
    if d.ok:
        outcome = AttemptOutcome.SKIPPED if d.skipped else AttemptOutcome.DELIVERED
        status = OutboxStatus.DELIVERED
    elif d.retryable and attempt_no < dcfg.max_attempts:
        if d.retry_after is not None:
            delay = min(d.retry_after, dcfg.max_retry_after_s)
        else:
            delay = backoff(attempt_no, dcfg.backoff_base_s, dcfg.backoff_max_s)
        outcome, status = AttemptOutcome.RETRY, OutboxStatus.PENDING
        nxt = now + timedelta(seconds=delay)
    else:
        outcome, status = AttemptOutcome.FAILED, OutboxStatus.FAILED
    detail = d.detail if d.retry_after is None else f"{d.detail} (retry-after {d.retry_after}s)"
    kept = q.finish_attempt(
        store,
        row,
        attempt_id,
        owner=me,
        now=now,
        outcome=outcome,
        status=status,
        http_status=d.http_status,
        detail=detail,
        next_attempt_at=nxt,
        ref=d.ref,
    )
    if not kept:
        log.warning("lost the lease on outbox row %s while sending", row["id"])
    elif outcome is AttemptOutcome.DELIVERED:
        q.record_accepted(store, row, now=now)
    if outcome is AttemptOutcome.FAILED:
        log.warning(
            "notification %s to %s failed for good: %s", row["id"], row["channel"], d.detail
        )
    return _COUNTED[outcome]


#: the count each outcome adds to (``dispatch``'s result)
_COUNTED = {
    AttemptOutcome.DELIVERED: "delivered",
    AttemptOutcome.SKIPPED: "skipped",
    AttemptOutcome.RETRY: "retried",
    AttemptOutcome.FAILED: "failed",
}


def send_test(config: BustaConfig, name: str) -> Delivery:
    """Send a test message to channel ``name`` directly (not through the outbox), cut at the
    channel's ``timeout_s`` whatever the receiver does."""
    cfg = config.alerting.channels.get(name)
    if cfg is None:
        known = ", ".join(sorted(config.alerting.channels)) or "(none)"
        raise NotFoundError(
            f"no channel named {name!r}", f"channels under alerting.channels are: {known}"
        )
    channel = build_channel(name, cfg)
    now = utcnow().isoformat()
    alert: AlertJSON = {
        "id": 0,
        "fingerprint": "test",
        "rule": "channel_test",
        "state": AlertState.FIRING.value,
        "severity": Severity.WARNING.value,
        "original_severity": Severity.WARNING.value,
        "labels": {"source": "busta-quality", "layer": "test", "dataset": name},
        "summary": f"busta-quality test message for channel {name}",
        "condition": "test",
        "value": None,
        "threshold": None,
        "first_seen": now,
        "last_seen": now,
        "fired_at": now,
        "resolved_at": None,
        "acknowledged_by": None,
        "occurrences": 1,
        "detail": {},
    }
    return channel.deliver(
        Notification(event=AlertEvent.TEST, alert=alert, idempotency_key=f"test-{uuid.uuid4().hex}")
    )
