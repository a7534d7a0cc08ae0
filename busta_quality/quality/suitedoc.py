"""Render the suites in ``expectations/`` as Markdown (docs/suites.md is this output).

Reads the suite JSON directly: no GX import, so it is fast and works without a context.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_ORDER = {"bronze": 0, "silver": 1, "gold": 2}
_SKIP_KWARGS = {
    "column",
    "column_A",
    "column_B",
    "column_list",
    "result_format",
    "catch_exceptions",
}


def _kwargs(kwargs: dict[str, Any]) -> str:
    parts = []
    for k, v in kwargs.items():
        if k in _SKIP_KWARGS:
            continue
        if isinstance(v, list) and len(v) > 6:
            v = f"[{len(v)} values]"
        parts.append(f"{k}={v}")
    return ", ".join(parts)


def _column(kwargs: dict[str, Any]) -> str:
    if "column" in kwargs:
        return f"`{kwargs['column']}`"
    if "column_A" in kwargs:
        return f"`{kwargs['column_A']}`, `{kwargs['column_B']}`"
    if "column_list" in kwargs:
        return ", ".join(f"`{c}`" for c in kwargs["column_list"])
    return "(table)"


def render(expectations_dir: Path) -> str:
    suites = []
    for path in expectations_dir.rglob("*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        layer, _, dataset = suite["name"].partition(".")
        suites.append((_ORDER.get(layer, 9), dataset, suite))
    lines = [
        "# Suites",
        "",
        "One GX suite per layer and dataset, in `expectations/<layer>/<dataset>.json`. Severity:",
        "**critical** = the batch is wrong or unusable (quarantined under `on_critical: halt`);",
        "**warning** = suspicious but usable (promoted with an alert); **info** = noted only.",
        "",
        "This page is generated from the suites by `busta docs suites`; a test keeps it in step.",
        "",
    ]
    for _, _, suite in sorted(suites, key=lambda s: (s[0], s[1])):
        lines += [
            f"## `{suite['name']}`",
            "",
            "| severity | expectation | column | arguments | why |",
        ]
        lines.append("|---|---|---|---|---|")
        for e in suite["expectations"]:
            kw = e.get("kwargs", {})
            notes = (e.get("notes") or "").replace("|", "\\|").replace("\n", " ")
            args = _kwargs(kw).replace("|", "\\|")
            lines.append(
                f"| {e.get('severity', 'critical')} | `{e['type']}` | {_column(kw)} | {args} | {notes} |"
            )
        lines.append("")
    return "\n".join(lines)
