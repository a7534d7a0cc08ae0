"""``busta sources health --watch`` driven in tmux: the live table shows a failing source as
down and a healthy one as up, redraws as the probes run, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from busta_quality.settings import load_config
from busta_quality.store import open_store
from busta_quality.store.probes import probe_history
from tests.support.probe_target import ProbeTarget
from tests.support.project import write_config
from tests.support.servers import wait_for

BUSTA = str(Path(sys.executable).with_name("busta"))


@pytest.fixture
def tmux() -> Iterator[str]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed to drive --watch")
    name = f"busta-watch-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(
        ["tmux", "kill-session", "-t", name], capture_output=True, timeout=10, check=False
    )


def _pane(session: str) -> str:
    out = subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, timeout=10,
        check=False,
    )  # fmt: skip
    return out.stdout


@pytest.mark.slow
def test_watch_shows_a_failing_source_as_down_and_stops_on_ctrl_c(tmp_path, tmux):
    good, bad = ProbeTarget().start(), ProbeTarget().start()
    bad.set("status", 503)
    src = {"kind": "odds_api", "interval": "1s", "timeout": "0.5s"}
    path = write_config(
        tmp_path,
        sources={
            "good_feed": {**src, "probes": [{"type": "http", "url": f"{good.url}/ok"}]},
            "bad_feed": {**src, "probes": [{"type": "http", "url": f"{bad.url}/ok"}]},
        },
    )
    cmd = f"{BUSTA} --config {path} sources health --watch --cycles 40; echo EXIT=$?; sleep 60"
    try:
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", tmux, "-x", "200", "-y", "40", cmd],
            check=True, timeout=10, env={"TERM": "xterm-256color", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip

        def both_shown() -> bool:
            text = _pane(tmux)
            rows = {
                line.split()[1]: line
                for line in text.splitlines()
                if "_feed" in line and line.split()[0] in "│┃|"
            }
            return (
                "watching" in text
                and " down " in rows.get("bad_feed", "")
                and " up " in rows.get("good_feed", "")
            )  # fmt: skip

        assert wait_for(both_shown, timeout=20), _pane(tmux)
        assert "bad_feed: down: http:" in _pane(tmux)
        # the table redraws in place: one title on the screen, not one per refresh
        assert _pane(tmux).count("source health at") == 1
        store = open_store(load_config(str(path)).store_url)
        seen = len(probe_history(store, "good_feed"))
        assert wait_for(lambda: len(probe_history(store, "good_feed")) > seen, timeout=5)
        subprocess.run(["tmux", "send-keys", "-t", tmux, "C-c"], check=True, timeout=10)
        assert wait_for(lambda: "EXIT=0" in _pane(tmux), timeout=15), _pane(tmux)
        runs = len(probe_history(store, "good_feed"))
        assert runs < 40  # Ctrl-C stopped it, not --cycles
    finally:
        good.stop()
        bad.stop()
