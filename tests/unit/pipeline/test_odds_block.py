"""football-data's long odds, parsed as one block, equal the column-at-a-time definition.

``silver._odds`` parses a season's hundred-odd price columns in one pass (a warm ingest spent
a tenth of a second building a frame per column). The definition below is the former
column-at-a-time code; hypothesis generates frames of price-like text (blanks, spaces,
non-numbers, duplicate bookmaker columns, aggregates, unknown columns) and the two must give
the same long frame (values, dtypes, order) and the same unparsed-price masks.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from busta_quality.pipeline.bookmakers import football_data_bookmaker, parse_football_data_1x2
from busta_quality.pipeline.common import ODDS_COLUMNS, TEXT, text
from busta_quality.pipeline.football_data import silver


def odds_by_column(df: pd.DataFrame, ids: pd.Series) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    pieces: list[pd.DataFrame] = []
    unparsed: dict[str, pd.Series] = {}
    for column in df.columns:
        parsed = parse_football_data_1x2(str(column))
        if parsed is None:
            continue
        code, closing, outcome = parsed
        bookmaker = football_data_bookmaker(code)
        if bookmaker is None:
            continue
        values = text(df, column)
        price = pd.to_numeric(values, errors="coerce").astype("float64")
        unparsed[column] = values.notna() & price.isna()
        keep = price.notna()
        if not keep.any():
            continue
        pieces.append(
            pd.DataFrame(
                {
                    "_row": df.index[keep],
                    "match_id": ids[keep],
                    "bookmaker": bookmaker,
                    "market": "h2h",
                    "outcome": outcome,
                    "price": price[keep],
                    "line": "closing" if closing else "opening",
                    "captured_at": pd.NaT,
                }
            )
        )
    if not pieces:
        return pd.DataFrame(columns=["_row", *ODDS_COLUMNS]), unparsed
    long = pd.concat(pieces, ignore_index=True)
    long = long.drop_duplicates(["_row", "bookmaker", "market", "outcome", "line"], keep="first")
    return long, unparsed


#: real bookmaker columns (opening and closing), an aggregate, a market that is not 1X2, and
#: a column that is no price at all
COLUMNS = ["B365H", "B365D", "B365A", "B365CH", "PSH", "PSCA", "MaxH", "AvgCA", "BbAvH",
           "B365>2.5", "Referee", "WHH", "WHCH"]  # fmt: skip
PRICES = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "1.5", " 2.10 ", "3", "x", "1e3", "-1", "nan", "inf", "1,5"]),
    st.floats(min_value=1.0, max_value=50.0).map(lambda f: f"{f:.2f}"),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=len(COLUMNS)))
    n = draw(st.integers(min_value=0, max_value=8))
    data = {c: draw(st.lists(PRICES, min_size=n, max_size=n)) for c in columns}
    # bronze keeps every column as text; a filtered frame's index has gaps
    index = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    return pd.DataFrame(data, index=index, columns=columns, dtype=TEXT)


@settings(max_examples=300, deadline=None)
@given(frames())
def test_block_parse_equals_column_at_a_time(df: pd.DataFrame) -> None:
    ids = pd.Series([f"m{i}" for i in df.index], index=df.index, dtype=TEXT)
    got, got_unparsed = silver._odds(df, ids)
    want, want_unparsed = odds_by_column(df, ids)
    pd.testing.assert_frame_equal(got, want)
    assert list(got_unparsed) == list(want_unparsed)
    for column, mask in want_unparsed.items():
        pd.testing.assert_series_equal(got_unparsed[column], mask, check_names=False)
