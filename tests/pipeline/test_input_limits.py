"""Hostile landing files against the readers: ``ingest.limits`` enforced in bounded memory,
encodings decoded or rejected by name, absurd values that silver turns into failed checks.

Every hostile file is generated in tmp_path. No GX here (the CLI side is
tests/cli/test_input_problems.py).
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from busta_quality.errors import ConfigError, InputError, InputRejected
from busta_quality.orchestration.ingest import read_input
from busta_quality.pipeline.football_data import read_football_data
from busta_quality.pipeline.football_data.silver import build_silver as football_silver
from busta_quality.pipeline.kinds import DatasetSpec, SourceKind
from busta_quality.pipeline.landing import read_landing
from busta_quality.pipeline.odds_api import read_odds_api
from busta_quality.pipeline.odds_api.silver import build_silver as odds_silver
from busta_quality.pipeline.sample import generate_season_csv
from busta_quality.settings import InputLimits, load_config

NOW = datetime(2026, 1, 2, tzinfo=UTC)
MIB = 1024 * 1024
REPO = Path(__file__).resolve().parents[2]


def _read(path: Path, limits: InputLimits | None = None) -> pd.DataFrame:
    return read_football_data(path, source="fd", run_id="r1", ingested_at=NOW, limits=limits)


def _rejected(path: Path, limits: InputLimits | None = None) -> dict[str, Any]:
    with pytest.raises(InputRejected) as err:
        _read(path, limits)
    return err.value.to_dict()


@pytest.fixture
def season(tmp_path: Path) -> Path:
    """A small clean season whose referee names are not ASCII (so decoding shows)."""
    p = generate_season_csv(tmp_path / "season.csv", seed=3, teams=4)
    lines = p.read_text(encoding="utf-8").splitlines()
    col = lines[0].split(",").index("Referee")
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split(",")
        fields[col] = "Zoë Müller"
        out.append(",".join(fields))
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    return p


# limits ----------------------------------------------------------------------------------
def test_a_file_over_max_file_bytes_is_rejected_by_its_size(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    p.write_bytes(b"Div,Date\n" + b"E0,01/01/20\n" * 100)
    err = _rejected(p, InputLimits(max_file_bytes=1000))
    assert err["code"] == "input_rejected" and err["problem"] == "over_limit"
    assert (err["limit"], err["limit_value"], err["actual"]) == (
        "max_file_bytes",
        1000,
        p.stat().st_size,
    )
    assert err["path"] == str(p) and "max_file_bytes = 1,000" in err["message"]


def test_a_field_over_max_field_chars_names_line_and_size(tmp_path: Path, season: Path) -> None:
    lines = season.read_text(encoding="utf-8").splitlines()
    fields = lines[2].split(",")
    fields[3] = "X" * 140_000  # over the default 131,072 (the csv module's own limit too)
    lines[2] = ",".join(fields)
    season.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _rejected(season)
    assert err["limit"] == "max_field_chars" and err["limit_value"] == 131_072
    assert (err["line"], err["actual"]) == (3, 140_000)
    # a raised limit reads the file (busta's limit, not the csv module's, decides)
    frame = _read(season, InputLimits(max_field_chars=200_000))
    assert frame["HomeTeam"].str.len().max() == 140_000


def test_columns_over_max_columns_in_the_header_or_a_row(tmp_path: Path) -> None:
    p = tmp_path / "wide.csv"
    p.write_text("A," * 20 + "B\n1,2\n", encoding="utf-8")
    err = _rejected(p, InputLimits(max_columns=10))
    assert (err["limit"], err["line"], err["actual"]) == ("max_columns", 1, 21)
    p.write_text("Div,Date\nE0,01/01/20\n" + "x," * 30 + "\n", encoding="utf-8")
    err = _rejected(p, InputLimits(max_columns=10))
    assert (err["limit"], err["line"], err["actual"]) == ("max_columns", 3, 31)


def test_rows_times_columns_over_max_cells(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text("Div,Date\n" + "E0,01/01/20\n" * 50, encoding="utf-8")
    err = _rejected(p, InputLimits(max_cells=100))
    # 50 rows x (2 columns + 6 profile + 5 lineage)
    assert (err["limit"], err["limit_value"], err["actual"]) == ("max_cells", 100, 650)


def test_a_long_line_is_found_streaming_with_its_line_number(tmp_path: Path) -> None:
    p = tmp_path / "line.csv"
    p.write_bytes(b"Div,Date\nE0,1\n" + b"," * 5000 + b"\nE0,2\n")
    err = _rejected(p, InputLimits(max_line_bytes=4096))
    assert (err["limit"], err["line"], err["actual"]) == ("max_line_bytes", 3, 5000)
    # the same measure across chunk boundaries (CHUNK is 1 MiB)
    p.write_bytes(b"a\n" * 600_000 + b"b" * 1_500_000 + b"\n")
    with pytest.raises(InputRejected) as exc:
        read_landing(p, InputLimits(max_line_bytes=MIB))
    assert (exc.value.line, exc.value.actual) == (600_001, 1_500_000)


_MEMORY_PROBE = textwrap.dedent(
    """
    import json, resource, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from busta_quality.errors import InputRejected
    from busta_quality.pipeline.football_data import read_football_data
    from busta_quality.settings import InputLimits

    def vm_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

    headroom = int(sys.argv[3]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm_bytes() + headroom, resource.RLIM_INFINITY))
    limits = InputLimits(**json.loads(sys.argv[2]))
    try:
        read_football_data(Path(sys.argv[1]), source="fd", run_id="r", ingested_at=datetime.now(UTC), limits=limits)
    except InputRejected as exc:
        print(json.dumps(exc.to_dict()))
    """
)


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({}, ("max_file_bytes", None, 30 * MIB + 1)),
        # the file is let through by size: the 30 MB line is measured chunk by chunk
        ({"max_file_bytes": 64 * MIB}, ("max_line_bytes", 1, 30 * MIB)),
    ],
    ids=["default-limits", "file-limit-raised"],
)
def test_a_30_mb_header_of_commas_is_rejected_in_bounded_memory(
    tmp_path: Path, limits: dict[str, int], expected: tuple[str, int | None, int]
) -> None:
    """Before the limits this file took more than 6 GB; here the reader runs with 200 MB of
    address space beyond what its imports mapped, so a regression fails (MemoryError)
    instead of eating the machine."""
    p = tmp_path / "header.csv"
    with p.open("wb") as fh:
        for _ in range(30):
            fh.write(b"," * MIB)
        fh.write(b"\n")
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(p), json.dumps(limits), "200"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    err = json.loads(done.stdout)
    assert (err["limit"], err.get("line"), err["actual"]) == expected


# encodings -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("encoding", "bom", "decoding"),
    [
        ("utf-8", codecs.BOM_UTF8, "utf-8"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16"),
    ],
)
def test_a_byte_order_mark_is_decoded(
    tmp_path: Path, season: Path, encoding: str, bom: bytes, decoding: str
) -> None:
    text = season.read_text(encoding="utf-8").replace("\n", "\r\n")
    p = tmp_path / f"{encoding}.csv"
    p.write_bytes(bom + text.encode(encoding))
    plain = _read(season)
    frame = _read(p)
    assert list(frame.columns) == list(plain.columns)  # the mark is not part of "Div"
    data = [c for c in plain.columns if not c.startswith("_")]
    pd.testing.assert_frame_equal(frame[data], plain[data])
    assert set(frame["Referee"]) == {"Zoë Müller"}
    assert set(frame["_decoding"]) == {decoding}


def test_the_bronze_suite_accepts_what_is_decoded() -> None:
    suite = json.loads((REPO / "expectations/bronze/football_data.json").read_text())
    (check,) = [e for e in suite["expectations"] if e["kwargs"].get("column") == "_decoding"]
    assert set(check["kwargs"]["value_set"]) == {"utf-8", "utf-16"}  # cp1252 stays a warning


@pytest.mark.parametrize(
    ("data", "problem", "line", "offset", "match"),
    [
        # odd number of bytes after the mark: the last one is half a character
        (codecs.BOM_UTF16_LE + "a,b\nc,d\n".encode("utf-16-le") + b"x", "undecodable", 3, 18, "UTF-16-LE"),
        # a lone high surrogate on line 2
        (codecs.BOM_UTF16_BE + "a,b\n".encode("utf-16-be") + b"\xd8\x00\x00a", "undecodable", 2, 10, "UTF-16-BE"),
        (codecs.BOM_UTF32_LE + "a,b\n".encode("utf-32-le"), "undecodable", 1, 0, "UTF-32-LE"),
        # UTF-16 without a mark: NUL bytes, named with where the first one is
        ("Div,Date\n".encode("utf-16-le"), "not_text", 1, 1, "UTF-16 without a byte-order mark"),
    ],
    ids=["utf16-truncated", "utf16-lone-surrogate", "utf32", "utf16-no-bom"],
)  # fmt: skip
def test_undecodable_text_is_rejected_naming_encoding_offset_and_line(
    tmp_path: Path, data: bytes, problem: str, line: int, offset: int, match: str
) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    err = _rejected(p)
    assert (err["problem"], err["line"], err["offset"]) == (problem, line, offset)
    assert match in err["message"]


def test_a_pipe_is_rejected_without_waiting_for_a_writer(tmp_path: Path) -> None:
    p = tmp_path / "pipe.csv"
    os.mkfifo(p)
    result: list[BaseException | None] = []

    def read() -> None:
        try:
            _read(p)
            result.append(None)
        except BaseException as exc:
            result.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader before failing
        with open(p, "wb"):
            pass
        pytest.fail("reading a named pipe blocked")
    assert isinstance(result[0], InputRejected) and result[0].problem == "not_a_regular_file"


def test_an_unreadable_directory_on_the_way_is_unreadable_not_missing(tmp_path: Path) -> None:
    from busta_quality.pipeline.landing import check_readable

    with pytest.raises(InputError) as err:
        check_readable(tmp_path / "season.csv" / "x.csv")  # a file used as a directory
    assert err.value.problem == "not_found" and err.value.exit_code == 2


# odds_api --------------------------------------------------------------------------------
def _odds(path: Path, limits: InputLimits | None = None) -> pd.DataFrame:
    return read_odds_api(path, source="oa", run_id="r1", ingested_at=NOW, limits=limits)


def _events(n: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "id": f"e{i}",
            "sport_key": "soccer_epl",
            "commence_time": "2024-08-17T14:00:00Z",
            "home_team": "Arsenal",
            "away_team": "Chelsea",
            "bookmakers": [
                {
                    "key": "b1",
                    "title": "Book",
                    "last_update": "2024-08-16T10:00:00Z",
                    "markets": [
                        {
                            "key": "h2h",
                            "outcomes": [
                                {"name": "Arsenal", "price": 2.0},
                                {"name": "Chelsea", "price": 3.5},
                                {"name": "Draw", "price": 3.2},
                            ],
                        }
                    ],
                }
            ],
        }
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("text", "problem", "limits"),
    [
        ("[" * 200_000 + "]" * 200_000, "malformed", {}),  # deeper than the parser recurses
        ('[{"x": ' + "9" * 5000 + "}]", "malformed", {}),  # more digits than int() converts
        (json.dumps(_events(3)), "over_limit", {"max_cells": 100}),  # 9 rows x 19 columns
        (json.dumps([{**_events(1)[0], "home_team": "A" * 300}]), "over_limit", {"max_field_chars": 200}),
        (json.dumps(_events(1)), "over_limit", {"max_file_bytes": 100}),
    ],
    ids=["deep-nesting", "huge-integer", "cells", "field", "file"],
)  # fmt: skip
def test_odds_api_problems_are_rejections(
    tmp_path: Path, text: str, problem: str, limits: dict[str, int]
) -> None:
    p = tmp_path / "odds.json"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputRejected) as err:
        _odds(p, InputLimits(**limits))
    assert err.value.problem == problem and err.value.path == str(p)


def test_odds_api_one_long_line_is_not_a_line_limit(tmp_path: Path) -> None:
    """A saved response is often one line of JSON: max_line_bytes does not apply."""
    p = tmp_path / "odds.json"
    p.write_text(json.dumps(_events(40)), encoding="utf-8")
    assert len(_odds(p, InputLimits(max_line_bytes=1000))) == 120


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_odds_api_decodes_a_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "odds.json"
    p.write_text(json.dumps(_events(2)), encoding=encoding)
    assert list(_odds(p)["event_id"].unique()) == ["e0", "e1"]


def test_odds_api_not_utf8_names_byte_and_line(tmp_path: Path) -> None:
    p = tmp_path / "odds.json"
    p.write_bytes(b'[\n{"id": "caf\xe9"}]')
    with pytest.raises(InputRejected) as err:
        _odds(p)
    assert (err.value.problem, err.value.offset, err.value.line) == ("undecodable", 13, 2)


# a source kind whose reader knows nothing of limits --------------------------------------
def _kind(read: Any, *, line_oriented: bool = True) -> SourceKind:
    return SourceKind(
        name="acme",
        description="acme scores",
        suffixes=(".csv",),
        read=read,
        build_silver=lambda bronze, *, league, references=None: {},
        datasets={
            "bronze": {"acme": DatasetSpec("bronze.acme", ("id",))},
            "silver": {},
            "gold": {},
        },
        line_oriented=line_oriented,
    )


def _read_input(kind: SourceKind, path: Path, limits: InputLimits) -> pd.DataFrame:
    return read_input(kind, path, source="acme", run_id="r1", ingested_at=NOW, limits=limits)


def test_a_reader_without_limits_is_protected_by_a_check_first(tmp_path: Path) -> None:
    calls: list[Path] = []

    def read(path: Path, *, source: str, run_id: str, ingested_at: datetime) -> pd.DataFrame:
        calls.append(path)
        return pd.read_csv(path, dtype="str")

    p = tmp_path / "a.csv"
    p.write_bytes(b"id,x\n" + b"1," + b"y" * 5000 + b"\n")
    with pytest.raises(InputRejected) as err:
        _read_input(_kind(read), p, InputLimits(max_line_bytes=1000))
    assert (err.value.limit, err.value.line) == ("max_line_bytes", 2) and calls == []
    # not line-oriented: only the size counts; the frame is still held to max_cells
    assert len(_read_input(_kind(read, line_oriented=False), p, InputLimits(max_line_bytes=1000)))
    with pytest.raises(InputRejected) as err:
        _read_input(_kind(read, line_oriented=False), p, InputLimits(max_cells=1))
    assert (err.value.limit, err.value.actual) == ("max_cells", 2)


@pytest.mark.parametrize(
    "data",
    [b'id,x\n1,2,3,4\n"', b"PAR1\x00\x01garbage"],
    ids=["broken-csv", "corrupt-parquet"],
)
def test_whatever_a_reader_raises_rejects_the_file(tmp_path: Path, data: bytes) -> None:
    def read(path: Path, *, source: str, run_id: str, ingested_at: datetime) -> pd.DataFrame:
        if data.startswith(b"PAR1"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype="str")

    p = tmp_path / "a.csv"
    p.write_bytes(data)
    with pytest.raises(InputRejected) as err:
        _read_input(_kind(read, line_oriented=False), p, InputLimits())
    assert err.value.problem == "reader_failed" and err.value.exit_code == 1
    assert "the acme reader failed" in err.value.message


# absurd values in silver -----------------------------------------------------------------
def test_absurd_values_become_unparsed_not_errors(season: Path) -> None:
    lines = season.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    edits = [
        {"FTHG": str(10**30)},
        {"Date": "01/01/99999"},
        {"Date": "31/12/1677"},
        {"Date": "12/04/2262", "Time": "23:59"},
        {"HTHG": "-9223372036854775809"},
        {"B365H": "1e400"},
    ]
    for i, edit in enumerate(edits, start=1):
        fields = lines[i].split(",")
        for column, value in edit.items():
            fields[header.index(column)] = value
        lines[i] = ",".join(fields)
    season.write_text("\n".join(lines) + "\n", encoding="utf-8")
    matches = football_silver(_read(season), league="E0")["matches"]
    unparsed = list(matches["_unparsed"].head(6))
    assert unparsed[:5] == ["FTHG", "Date", "Date", "Date", "HTHG"]
    assert matches["home_goals"].isna().iloc[0] and matches["kickoff"].isna().iloc[1:4].all()


def test_absurd_odds_api_values_become_unparsed(tmp_path: Path) -> None:
    events = _events(3)
    events[0]["commence_time"] = "9999-01-01T00:00:00Z"
    events[1]["bookmakers"][0]["last_update"] = "0001-01-01T00:00:00Z"
    events[2]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = 10**400
    p = tmp_path / "odds.json"
    p.write_text(json.dumps(events), encoding="utf-8")
    silver = odds_silver(_odds(p), league="EPL")
    m = silver["matches"]
    assert m["kickoff"].isna().tolist() == [True, False, False]
    assert m["_unparsed"].tolist()[0] == "commence_time" and m["_unparsed"].tolist()[2] == (
        "outcome_price"
    )
    assert silver["odds"]["captured_at"].isna().sum() == 3


# the config ------------------------------------------------------------------------------
def test_ingest_limits_are_strict_config(tmp_path: Path) -> None:
    cfg = tmp_path / "busta.yml"
    cfg.write_text("ingest:\n  limits:\n    max_line_bytes: 2048\n", encoding="utf-8")
    limits = load_config(cfg).ingest.limits
    assert limits.max_line_bytes == 2048 and limits.max_file_bytes == 16 * MIB
    assert (limits.max_field_chars, limits.max_columns, limits.max_cells) == (
        131_072,
        1000,
        10_000_000,
    )
    for bad in ("max_lines: 3", "max_cells: 0", "max_columns: true", "max_file_bytes: 1.5"):
        cfg.write_text(f"ingest:\n  limits:\n    {bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(cfg)
        assert "ingest.limits." in err.value.message and ":3:" in err.value.message


def test_the_line_meter_agrees_with_splitting_the_whole_file() -> None:
    """Random files fed in random chunk sizes: the first line over the limit and its length
    are those of ``data.split(b"\\n")`` (3,000 cases, a fixed seed)."""
    import random

    from busta_quality.pipeline.landing import _LineMeter

    rng = random.Random(7)
    for _ in range(3000):
        data = bytes(rng.choice(b"ab\n\n") for _ in range(rng.randint(0, 60)))
        limit = rng.randint(0, 6)
        meter = _LineMeter(limit)
        pos = 0
        while pos < len(data) and not meter.done:
            step = rng.randint(1, 7)
            meter.feed(data[pos : pos + step])
            pos += step
        meter.finish()
        lines = data.split(b"\n")
        first = next(((i, len(ln)) for i, ln in enumerate(lines, 1) if len(ln) > limit), None)
        assert ((meter.bad_line, meter.bad_length) if meter.over else None) == first, data
