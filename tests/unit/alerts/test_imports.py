"""The alerting code the fast tier tests stays light: no GX, pandas or pyarrow on import."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("great_expectations", "pandas", "pyarrow", "pyspark")
MODULES = (
    "busta_quality.alerts",
    "busta_quality.alerts.maintenance",
    "busta_quality.notify.dispatcher",
    "busta_quality.notify.registry",
    "busta_quality.notify.render",
    "busta_quality.service.alerts",
    "busta_quality.settings.alerting",
    "busta_quality.store.alerts",
    "busta_quality.store.outbox",
    "busta_quality.store.windows",
)


def test_alerting_modules_import_nothing_heavy() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {MODULES!r}:\n    importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
