"""Alerts about one thing: rule + source, layer, dataset and the judged batch's partition;
only newer data changes an alert; superseded; shadow rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from busta_quality.models import CheckResult
from busta_quality.service import alerts as svc
from tests.support import alerting_rows as q
from tests.support.alerting import T0, clean, failing, make_config, make_store, slack_channel
from tests.support.alerting_api import handle_check_result


def _batch(r: CheckResult, seq: int, **partition: str) -> CheckResult:
    return replace(r, batch_seq=seq, partition=partition)


def _states(store) -> list[tuple[str, str, dict[str, Any]]]:
    return [(a["rule"], a["state"].value, a["labels"]) for a in q.list_alerts(store)]


def test_a_clean_season_does_not_resolve_another_seasons_alert(tmp_path):
    cfg = make_config(tmp_path)
    store = make_store(cfg)
    bad = _batch(failing(layer="silver"), 1, league="E0", season="2003-04")
    [a] = handle_check_result(cfg, store, bad, now=T0)
    assert a["labels"]["season"] == "2003-04" and a["labels"]["league"] == "E0"
    assert a["batch_seq"] == 1
    # three seconds later the next file, another season, is clean: a different subject
    good = _batch(clean(layer="silver"), 2, league="E0", season="2004-05")
    assert handle_check_result(cfg, store, good, now=T0 + timedelta(seconds=3)) == []
    [still] = q.list_alerts(store)
    assert still["state"].value == "firing" and still["id"] == a["id"]
    # a clean re-delivery of 2003-04 resolves it
    fixed = _batch(clean(layer="silver"), 3, league="E0", season="2003-04")
    [done] = handle_check_result(cfg, store, fixed, now=T0 + timedelta(minutes=1))
    assert done["state"] == "resolved" and done["batch_seq"] == 3
    history = [e["note"] for e in q_history(store, a["id"])]
    assert any("in batch #3" in (n or "") for n in history)


def q_history(store, alert_id: int) -> list[dict[str, Any]]:
    from busta_quality.store.alerts import alert_history

    return [dict(e) for e in alert_history(store, alert_id)]


def test_an_older_batch_never_changes_an_alert_raised_by_newer_data(tmp_path):
    cfg = make_config(tmp_path)
    store = make_store(cfg)
    [a] = handle_check_result(cfg, store, _batch(failing(), 5, Div="E0"), now=T0)
    # re-checking older batches (clean or failing, or from before the sequence) changes nothing
    later = T0 + timedelta(minutes=1)
    assert handle_check_result(cfg, store, _batch(clean(), 3, Div="E0"), now=later) == []
    assert handle_check_result(cfg, store, replace(clean(), partition={"Div": "E0"}),
                               now=later) == []  # fmt: skip
    assert handle_check_result(cfg, store, _batch(failing(), 4, Div="E0"), now=later) == []
    got = q.get_alert(store, a["id"])
    assert got["state"].value == "firing" and got["occurrences"] == 1 and got["batch_seq"] == 5
    # the same batch again, and a newer one, do
    handle_check_result(cfg, store, _batch(failing(), 5, Div="E0"), now=later)
    assert q.get_alert(store, a["id"])["occurrences"] == 2
    [done] = handle_check_result(cfg, store, _batch(clean(), 6, Div="E0"), now=later)
    assert done["state"] == "resolved"


def test_ten_odds_snapshots_with_the_third_bad_give_one_alert_resolved_by_the_fourth(
    tmp_path, standin
):
    cfg = make_config(tmp_path, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    for seq in range(1, 11):
        make = failing if seq == 3 else clean
        r = _batch(make(source="odds_api", layer="silver", dataset="matches"), seq,
                   league="soccer_epl")  # fmt: skip
        handle_check_result(cfg, store, r, now=T0 + timedelta(minutes=seq))
    alerts = q.list_alerts(store, states=None)
    assert [(a["rule"], a["state"].value) for a in alerts] == [
        ("critical_expectation_failed", "resolved")
    ]
    [a] = alerts
    assert a["batch_seq"] == 4 and a["resolved_at"] == T0 + timedelta(minutes=4)
    assert a["labels"]["league"] == "soccer_epl"


def test_an_alert_no_rule_judges_any_more_is_superseded_by_newer_data(tmp_path):
    old_rule = {"name": "nulls", "when": "critical_failures > 0", "severity": "critical"}
    new_rule = {"name": "nulls_v2", "when": "critical_failures > 2", "severity": "critical"}
    cfg = make_config(tmp_path, rules=[old_rule])
    store = make_store(cfg)
    [a] = handle_check_result(cfg, store, _batch(failing(), 1, league="E0"), now=T0)
    # the rule is replaced; the next batch of the same subject is promoted
    cfg2 = make_config(tmp_path, rules=[new_rule])
    later = T0 + timedelta(hours=1)
    # a quarantined batch replaces nothing
    quarantined = replace(_batch(failing(), 2, league="E0"), decision=_quarantined())
    handle_check_result(cfg2, store, quarantined, now=later)
    assert q.get_alert(store, a["id"])["state"].value == "firing"
    handle_check_result(cfg2, store, _batch(clean(), 3, league="E0"), now=later)
    got = q.get_alert(store, a["id"])
    assert got["state"].value == "superseded" and got["active_fingerprint"] is None
    assert svc.list_alerts(store, "superseded").to_json()["count"] == 1
    assert svc.list_alerts(store, "resolved").to_json()["count"] == 0
    assert "superseded by batch #3" in q_history(store, a["id"])[-1]["note"]
    # another partition's batch supersedes nothing
    [b] = handle_check_result(cfg, store, _batch(failing(), 4, league="SP1"), now=later)
    handle_check_result(cfg2, store, _batch(clean(), 5, league="E0"), now=later)
    assert q.get_alert(store, b["id"])["state"].value == "firing"


def _quarantined():
    from busta_quality.models import Decision

    return Decision.QUARANTINED


def test_shadow_rule_is_recorded_never_sent_and_listed_apart(tmp_path, standin):
    rules = [
        {"name": "nulls", "when": "critical_failures > 0", "severity": "critical",
         "match": {"layer": "silver"}},
        {"name": "strict_score", "when": "quality_score < 0.99", "mode": "shadow"},
    ]  # fmt: skip
    cfg = make_config(tmp_path, rules=rules, channels={"slack": slack_channel(standin.url)})
    store = make_store(cfg)
    [shadowed] = handle_check_result(cfg, store, failing(layer="bronze"), now=T0)
    assert shadowed["rule"] == "strict_score" and shadowed["shadow"] is True
    assert shadowed["state"] == "firing" and shadowed["notified"] is False
    # a shadow alert on bronze inhibits nothing downstream; the live silver alert is sent
    changed = handle_check_result(cfg, store, failing(layer="silver"), now=T0)
    [live] = [a for a in changed if not a["shadow"]]
    assert live["rule"] == "nulls" and live["state"] == "firing"
    svc.dispatch(cfg, store, deadline_s=5)
    [msg] = standin.slack_messages()
    assert "strict_score" not in str(msg)  # evaluated and recorded, never sent
    assert [a["rule"] for a in svc.list_alerts(store).to_json()["alerts"]] == ["nulls"]
    shadow = svc.list_alerts(store, shadow=True).to_json()
    assert shadow["shadow"] and [a["rule"] for a in shadow["alerts"]] == ["strict_score"] * 2
    assert all(r["alert_id"] == live["id"] for r in q.outbox_rows(store))
    # a shadow alert resolves like any other
    handle_check_result(cfg, store, clean(layer="bronze"), now=T0 + timedelta(minutes=1))
    assert svc.list_alerts(store, shadow=True).to_json()["count"] == 1
