"""Config that cannot work does not validate: typos, duplicates, wrong types, windows that
never start or never end. Every problem is reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from busta_quality.errors import ConfigError
from busta_quality.service.config import load
from busta_quality.settings.schedule import parse_cron


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "busta.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            "alerting:\n  rules:\n    - name: low\n      when: quality_scor < 0.9\n",
            4,
            "alerting.rules.0.when: unknown signal 'quality_scor'; did you mean 'quality_score'?",
        ),
        (
            "alerting:\n  rules:\n    - name: slow\n      when: response_time > 5s\n"
            "      resolve_when: respons_time < 3s\n",
            5,
            "did you mean 'response_time'?",
        ),
        ("gx:\n  data_docs:\n    retention: true\n", 3, "must be a number, not true"),
        ("alerting:\n  delivery:\n    max_attempts: false\n", 3, "must be a number, not false"),
        (
            "alerting:\n  maintenance:\n    - {name: x, cron: '0 3 30 2 *', duration: 1h}\n",
            3,
            "never fires",
        ),
        (
            "alerting:\n  maintenance:\n    - {name: x, cron: '*/30 * * * *', duration: 1h}\n",
            3,
            "longer than its period (cron '*/30 * * * *' starts every 30m)",
        ),
        (
            "alerting:\n  maintenance:\n    - {name: '', cron: '0 2 * * sun', duration: 1h}\n",
            3,
            "name: String should have at least 1 character",
        ),
    ],
)
def test_config_that_cannot_work_is_refused(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    problems = _problems(tmp_path, text)
    assert any(f"busta.yml:{line}: " in p and expected in p for p in problems), problems


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "busta.yml"
    path.write_text("lake:\n  root: ./a\nproject: x\nlake:\n  root: ./b\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "busta.yml:4:1: not valid YAML: duplicate key 'lake' (first given on line 1)" in (
        info.value.message
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "gx:\n  data_docs:\n    retention: true\n"
        "alerting:\n  rules:\n    - name: low\n      when: quality_scor < 0.9\n",
    )
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("cron", "fires", "period_minutes"),
    [
        ("0 2 * * sun", True, 7 * 1440),
        ("*/15 * * * *", True, 15),
        ("0 3 30 2 *", False, None),
        ("0 3 31 4,6,9,11 *", False, None),
        ("0 3 29 2 *", True, None),  # once in the two years looked at
        ("0 3 31 4 mon", True, 7 * 1440),  # day and weekday both given: either matches
        ("0 0 1 1 *", True, 366 * 1440),
        ("30 1,5 * * *", True, 4 * 60),
    ],
)
def test_cron_fires_and_period(cron: str, fires: bool, period_minutes: int | None) -> None:
    c = parse_cron(cron)
    assert c.fires() is fires
    period = c.shortest_period()
    assert (None if period is None else period.total_seconds() / 60) == period_minutes
