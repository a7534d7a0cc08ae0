"""busta.yml in two phases: :mod:`busta_quality.settings` types the file (phase one, no
plugins), then each plugin validates what is its own (phase two): source kinds, engines,
probe and channel settings through their registries. ``busta config validate`` reports both phases'
problems together, each with file, line and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from busta_quality.settings import (
    BustaConfig,
    ConfigProblem,
    ConfigSource,
    build_config,
    config_error,
    read_config,
)


def plugin_problems(raw: dict[str, Any]) -> list[ConfigProblem]:
    """Phase two over the parsed file: every source kind, engine, probe type and channel is
    one an installed plugin provides, and each probe's and channel's settings satisfy its
    plugin."""
    from busta_quality.health import registry as probes
    from busta_quality.notify import registry as channels
    from busta_quality.pipeline.kinds import known_source_kinds
    from busta_quality.quality.engines import known_engines

    problems: list[ConfigProblem] = []
    sources = raw.get("sources")
    if isinstance(sources, dict):
        kinds = known_source_kinds()
        for name, src in sources.items():
            kind = src.get("kind") if isinstance(src, dict) else None
            if isinstance(kind, str) and kind not in kinds:
                problems.append(
                    ConfigProblem(
                        ("sources", str(name), "kind"),
                        f"unknown source kind {kind!r}; installed: {', '.join(kinds)}",
                    )
                )
            plist = src.get("probes") if isinstance(src, dict) else None
            for i, probe in enumerate(plist if isinstance(plist, list) else []):
                for keys, message in probes.raw_probe_problems(probe):
                    problems.append(
                        ConfigProblem(("sources", str(name), "probes", str(i), *keys), message)
                    )
    layers = raw.get("layers")
    if isinstance(layers, dict):
        engines = known_engines()
        for layer, policy in layers.items():
            engine = policy.get("engine") if isinstance(policy, dict) else None
            if isinstance(engine, str) and engine not in engines:
                problems.append(
                    ConfigProblem(
                        ("layers", str(layer), "engine"),
                        f"unknown engine {engine!r}; installed: {', '.join(engines)}",
                    )
                )
    alerting = raw.get("alerting")
    rules = alerting.get("rules") if isinstance(alerting, dict) else None
    if isinstance(rules, list):
        problems += _rule_signal_problems(rules)
    chans = alerting.get("channels") if isinstance(alerting, dict) else None
    if isinstance(chans, dict):
        for name, settings in chans.items():
            for keys, message in channels.raw_channel_problems(str(name), settings):
                problems.append(ConfigProblem(("alerting", "channels", str(name), *keys), message))
    problems += _report_channel_problems(raw, chans if isinstance(chans, dict) else {})
    return problems


def _report_channel_problems(raw: dict[str, Any], chans: dict[str, Any]) -> list[ConfigProblem]:
    """``report.channels`` names channels defined under ``alerting.channels`` whose type can
    carry a report (docs/reports.md)."""
    from busta_quality.settings.report import CARRIERS

    report = raw.get("report")
    names = report.get("channels") if isinstance(report, dict) else None
    problems: list[ConfigProblem] = []
    for i, name in enumerate(names if isinstance(names, list) else []):
        where = ("report", "channels", str(i))
        if not isinstance(name, str):
            continue  # phase one reports the type
        channel = chans.get(name)
        if channel is None:
            defined = "defined: " + (", ".join(sorted(str(c) for c in chans)) or "none")
            message = f"channel {name!r} is not defined under alerting.channels ({defined})"
            problems.append(ConfigProblem(where, message))
        elif isinstance(channel, dict) and channel.get("type") not in CARRIERS:
            message = (
                f"channel {name!r} ({channel.get('type')}) cannot carry a report; "
                f"types that can: {', '.join(CARRIERS)}"
            )
            problems.append(ConfigProblem(where, message))
    return problems


def _rule_signal_problems(rules: list[Any]) -> list[ConfigProblem]:
    """Each rule's conditions name a signal some producer emits (a typo never fires)."""
    import difflib

    from busta_quality.alerts.signals import SIGNALS
    from busta_quality.settings.conditions import parse_condition

    problems: list[ConfigProblem] = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        for key in ("when", "resolve_when"):
            expr = rule.get(key)
            if not isinstance(expr, str):
                continue
            try:
                cond = parse_condition(expr)
            except ValueError:
                continue  # phase one reports the syntax
            signal = cond.signal
            if cond.fn is None and signal not in SIGNALS:
                close = difflib.get_close_matches(signal, list(SIGNALS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    ConfigProblem(
                        ("alerting", "rules", str(i), key),
                        f"unknown signal {signal!r}{hint} (signals: {', '.join(SIGNALS)})",
                    )
                )
    return problems


def check(source: ConfigSource | None) -> tuple[BustaConfig | None, list[ConfigProblem]]:
    """Both phases; the config (None when phase one failed) and every problem found."""
    cfg, problems = build_config(source)
    if source is not None:
        problems += plugin_problems(source.raw)
    return cfg, problems


def load(path: str | Path | None = None, *, cli_value: str | None = None) -> BustaConfig:
    """busta.yml validated by both phases; :class:`~busta_quality.errors.ConfigError` (exit 2)
    naming every problem otherwise."""
    source = read_config(path, cli_value=cli_value)
    cfg, problems = check(source)
    if problems:
        assert source is not None  # the defaults have no problems
        raise config_error(source, _dedupe(problems))
    assert cfg is not None
    return cfg


def _dedupe(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[tuple[tuple[str, ...], str]] = set()
    out = []
    for p in problems:
        if (p.keys, p.message) not in seen:
            seen.add((p.keys, p.message))
            out.append(p)
    return out
