"""Tests of markers.ingest.parse (results and dates modules): result cells and date cells, vectorised."""

from __future__ import annotations

import csv
import datetime as dt
import math
import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import markers.ingest.date_parts as date_parts_module
from markers.errors import AmbiguousDateError, MarkersError
from markers.ingest.parse import (
    RESULT_STATUS,
    infer_day_first,
    parse_dates,
    parse_results,
)

NAN = float("nan")


def one_result(cell: object, **options: object) -> dict:
    """Parse a single cell and return its output row as a dict."""
    return parse_results(pd.Series([cell], dtype=object), **options).iloc[0].to_dict()


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# -- results: one rule per row -----------------------------------------------------------
# (cell, value, censor, inclusive, flag, status)
RESULT_CASES = [
    # numbers pass through
    (45, 45.0, "", False, "", "ok"),
    (45.2, 45.2, "", False, "", "ok"),
    (np.float64(3.5), 3.5, "", False, "", "ok"),
    (0, 0.0, "", False, "", "ok"),
    # numeric text
    ("45.2", 45.2, "", False, "", "ok"),
    (" 45.2 ", 45.2, "", False, "", "ok"),
    ("\u00a045.2\u00a0", 45.2, "", False, "", "ok"),  # non-breaking spaces from a web export
    ("1e3", 1000.0, "", False, "", "ok"),
    ("2.5E-2", 0.025, "", False, "", "ok"),
    (".5", 0.5, "", False, "", "ok"),
    ("+4", 4.0, "", False, "", "ok"),
    # decimal comma in a workbook (decimal_comma=None): 12,5 = 12.5
    ("12,5", 12.5, "", False, "", "ok"),
    ("0,123", 0.123, "", False, "", "ok"),  # a leading 0 is never a thousands group
    ("1,234", NAN, "", False, "", "ambiguous"),  # 1.234 or 1234?
    ("1.234,5", 1234.5, "", False, "", "ok"),  # dot groups, comma decimal: 1234 + 0.5
    ("1,234.5", 1234.5, "", False, "", "ok"),  # comma groups, dot decimal
    ("1.234.567", 1234567.0, "", False, "", "ok"),  # dots can only be groups here
    ("1.2,3", NAN, "", False, "", "ambiguous"),  # not a valid grouping
    # comparators: kept as censor (+ inclusive), value = the limit
    ("<0.5", 0.5, "<", False, "", "ok"),
    ("< 0.5", 0.5, "<", False, "", "ok"),
    ("<0,5", 0.5, "<", False, "", "ok"),
    ("<=0.5", 0.5, "<", True, "", "ok"),
    ("< = 0.5", 0.5, "<", True, "", "ok"),
    ("=<0.5", 0.5, "<", True, "", "ok"),
    ("≤0.5", 0.5, "<", True, "", "ok"),
    (">100", 100.0, ">", False, "", "ok"),
    ("> 100", 100.0, ">", False, "", "ok"),
    (">=100", 100.0, ">", True, "", "ok"),
    ("≥ 100", 100.0, ">", True, "", "ok"),
    # trailing lab flags
    ("45.2 H", 45.2, "", False, "H", "ok"),
    ("45.2H", 45.2, "", False, "H", "ok"),
    ("45.2 *", 45.2, "", False, "*", "ok"),
    ("3.1 L", 3.1, "", False, "L", "ok"),
    ("45.2 (H)", 45.2, "", False, "H", "ok"),
    ("45.2 HH", 45.2, "", False, "HH", "ok"),
    ("3.1 LL", 3.1, "", False, "LL", "ok"),
    ("45.2 h", 45.2, "", False, "H", "ok"),
    ("> 100 H", 100.0, ">", False, "H", "ok"),
    # negatives: rejected by the caller, so no value
    (-3, NAN, "", False, "", "negative"),
    (-0.5, NAN, "", False, "", "negative"),
    ("-3", NAN, "", False, "", "negative"),
    ("\u22123", NAN, "", False, "", "negative"),  # U+2212 MINUS SIGN
    ("<-1", NAN, "<", False, "", "negative"),
    ("-0", 0.0, "", False, "", "ok"),  # minus zero is zero, not negative
    # text results
    ("Cancelled", NAN, "", False, "", "text"),
    ("QNS", NAN, "", False, "", "text"),
    ("n/a", NAN, "", False, "", "text"),
    ("NA", NAN, "", False, "", "text"),
    ("see comment", NAN, "", False, "", "text"),
    ("not done", NAN, "", False, "", "text"),
    ("hemolysed", NAN, "", False, "", "text"),
    ("-", NAN, "", False, "", "text"),
    ("?", NAN, "", False, "", "text"),
    ("HH", NAN, "", False, "", "text"),  # a flag with no number
    ("<LOD", NAN, "", False, "", "text"),
    ("45.2 mg/g", NAN, "", False, "", "text"),  # units belong in the unit column
    ("5.", NAN, "", False, "", "text"),
    ("1e999", NAN, "", False, "", "text"),  # overflows to infinity
    (float("inf"), NAN, "", False, "", "text"),
    (True, NAN, "", False, "", "text"),
    (False, NAN, "", False, "", "text"),
    (dt.date(2024, 3, 5), NAN, "", False, "", "text"),
    # empty
    ("", NAN, "", False, "", "missing"),
    ("   ", NAN, "", False, "", "missing"),
    (None, NAN, "", False, "", "missing"),
    (NAN, NAN, "", False, "", "missing"),
]


@pytest.mark.parametrize(("cell", "value", "censor", "inclusive", "flag", "status"), RESULT_CASES)
def test_parse_results_rules(cell, value, censor, inclusive, flag, status):
    row = one_result(cell)
    assert same_float(row["value"], value), row
    assert row["censor"] == censor
    assert row["censor_inclusive"] is inclusive or row["censor_inclusive"] == inclusive
    assert row["lab_flag"] == flag
    assert row["status"] == status
    assert row["status"] in RESULT_STATUS


# (cell, decimal_comma, value, status)
SEPARATOR_CASES = [
    ("1,234", None, NAN, "ambiguous"),
    ("1,234", True, 1.234, "ok"),
    ("1,234", False, 1234.0, "ok"),
    ("1.234,5", True, 1234.5, "ok"),
    ("1.234,5", False, NAN, "ambiguous"),  # a comma decimal in a dot-decimal file
    ("1,234.5", False, 1234.5, "ok"),
    ("1,234.5", True, NAN, "ambiguous"),
    ("12,5", True, 12.5, "ok"),
    ("12,5", False, 12.5, "ok"),  # cannot be a thousands group (one digit after)
    ("1.234", None, 1.234, "ok"),  # a dot is a decimal point unless the file says otherwise
    ("1.234", True, 1234.0, "ok"),  # comma-decimal file: the dot groups thousands
    ("1.234", False, 1.234, "ok"),
    ("45.2", True, 45.2, "ok"),  # one digit after: cannot be a group
    ("1.234.567", True, 1234567.0, "ok"),
    ("1.234.567", False, NAN, "ambiguous"),
    ("1,234,567", False, 1234567.0, "ok"),
    ("1,234,567", True, NAN, "ambiguous"),
    ("<0,5", True, 0.5, "ok"),
]


@pytest.mark.parametrize(("cell", "decimal_comma", "value", "status"), SEPARATOR_CASES)
def test_parse_results_separators(cell, decimal_comma, value, status):
    row = one_result(cell, decimal_comma=decimal_comma)
    assert same_float(row["value"], value), row
    assert row["status"] == status


def test_parse_results_text_is_the_cell_as_written():
    out = parse_results(pd.Series([" 45.2 ", 45, 45.0, 12.5, None, "QNS", True], dtype=object))
    assert out["text"].tolist() == [" 45.2 ", "45", "45", "12.5", "", "QNS", "True"]


def test_parse_results_columns_and_dtypes():
    out = parse_results(pd.Series(["<0.5", "12"], dtype=object))
    assert list(out.columns) == ["value", "censor", "censor_inclusive", "lab_flag", "status", "text"]
    assert out["value"].dtype == np.float64
    assert out["censor_inclusive"].dtype == bool


def test_parse_results_keeps_a_non_default_index():
    index = pd.RangeIndex(14, 20)
    values = pd.Series(["1", "<2", None, "x", 5, "-1"], index=index, dtype=object)
    out = parse_results(values)
    assert out.index.equals(index)
    assert out.loc[15, "value"] == 2.0 and out.loc[15, "censor"] == "<"
    assert out.loc[19, "status"] == "negative"


def test_parse_results_duplicated_index_is_positional():
    values = pd.Series(["1", "2", "QNS"], index=[7, 7, 3], dtype=object)
    out = parse_results(values)
    assert out.index.tolist() == [7, 7, 3]
    assert same_float(out["value"].iloc[0], 1.0)
    assert same_float(out["value"].iloc[1], 2.0)
    assert out["status"].tolist() == ["ok", "ok", "text"]


def test_parse_results_does_not_mutate_input():
    values = pd.Series([" 1,5 ", "<2"], dtype=object)
    before = values.copy()
    parse_results(values, decimal_comma=True)
    pd.testing.assert_series_equal(values, before)


def test_parse_results_float_and_string_dtype_columns():
    floats = parse_results(pd.Series([1.5, np.nan, -2.0]))
    assert floats["status"].tolist() == ["ok", "missing", "negative"]
    strings = parse_results(pd.Series(["1.5", None, "<3"], dtype="str"))
    assert strings["value"].tolist()[0] == 1.5
    assert strings["status"].tolist() == ["ok", "missing", "ok"]
    assert strings["censor"].tolist() == ["", "", "<"]


def test_parse_results_empty_series():
    out = parse_results(pd.Series([], dtype=object))
    assert len(out) == 0
    assert "status" in out.columns


# -- property tests -------------------------------------------------------------------------

# (as written, censor, inclusive)
COMPARATORS = [
    ("<", "<", False),
    ("<=", "<", True),
    ("≤", "<", True),
    (">", ">", False),
    (">=", ">", True),
    ("≥", ">", True),
]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    comparator=st.sampled_from(COMPARATORS),
    space=st.sampled_from(["", " "]),
)
def test_property_comparator_round_trip(x, comparator, space):
    written, censor, inclusive = comparator
    # repr() is the shortest text that reads back as exactly x (may use an exponent).
    row = one_result(f"{written}{space}{x!r}")
    assert row["status"] == "ok"
    assert row["censor"] == censor
    assert bool(row["censor_inclusive"]) is inclusive
    assert row["value"] == x


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    x=st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    decimals=st.integers(min_value=1, max_value=6),
)
def test_property_decimal_comma_round_trip(x, decimals):
    dotted = f"{x:.{decimals}f}"
    row = one_result(dotted.replace(".", ","), decimal_comma=True)
    assert row["status"] == "ok"
    assert row["value"] == float(dotted)


# -- dates ------------------------------------------------------------------------------------


def one_date(cell: object, **options: object) -> tuple[object, str]:
    out = parse_dates(pd.Series([cell], dtype=object), **options)
    return out["date"].iloc[0], out["status"].iloc[0]


@pytest.fixture
def today_2026_11_25(monkeypatch):
    """Pin 'today' so the two-digit-year pivot is deterministic."""
    monkeypatch.setattr(date_parts_module, "_today", lambda: dt.date(2026, 11, 25))


def test_excel_serial_epoch_by_hand():
    # Day 0 = 1899-12-30. Serial 2 = 1900-01-01. 1900..2022 are 123 years with
    # 30 leap days (1904..2020; 1900 is not a leap year): 123 * 365 + 30 = 44925,
    # so 2023-01-01 = 2 + 44925 = 44927; + 31 (Jan) + 28 (Feb) = 44986 = 1 March;
    # + 14 = 45000 = 15 March 2023.
    assert dt.date(1899, 12, 30) + dt.timedelta(days=45000) == dt.date(2023, 3, 15)
    assert dt.date(1899, 12, 30) + dt.timedelta(days=1) == dt.date(1899, 12, 31)


DATE_CASES = [
    # date cells pass through, time dropped
    (dt.datetime(2024, 3, 5, 14, 30), "2024-03-05", "ok"),
    (dt.date(2024, 3, 5), "2024-03-05", "ok"),
    (pd.Timestamp("2024-03-05 23:59:59"), "2024-03-05", "ok"),
    (np.datetime64("2024-03-05T10:00"), "2024-03-05", "ok"),
    # Excel serials (see test_excel_serial_epoch_by_hand)
    (45000, "2023-03-15", "ok"),
    (45000.75, "2023-03-15", "ok"),  # .75 = 18:00, dropped
    (1, "1899-12-31", "ok"),
    ("45000", "2023-03-15", "ok"),
    (" 45000 ", "2023-03-15", "ok"),
    (0, None, "invalid"),
    (-5, None, "invalid"),
    (2958466, None, "invalid"),  # past Excel's last day
    (2958465, None, "invalid"),  # 9999-12-31: beyond datetime64[ns] (2262-04-11)
    # ISO
    ("2024-03-05", "2024-03-05", "ok"),
    ("2024-3-5", "2024-03-05", "ok"),
    ("2024-03-05 14:30", "2024-03-05", "ok"),
    ("2024-03-05T14:30:00", "2024-03-05", "ok"),
    ("2024-03-05T14:30:00Z", "2024-03-05", "ok"),
    ("2024/03/05", "2024-03-05", "ok"),
    ("20240305", "2024-03-05", "ok"),
    # a date cell as the workbook readers write it: the date, time of day dropped
    ("2024-03-05 00:00:00", "2024-03-05", "ok"),
    ("2024-03-05 23:59:59.500", "2024-03-05", "ok"),
    ("2024-02-29 08:00:00", "2024-02-29", "ok"),  # 2024 is a leap year
    ("2023-02-29 08:00:00", None, "invalid"),  # 2023 is not
    # dotted: always day-first
    ("05.03.2024", "2024-03-05", "ok"),
    ("5.3.2024", "2024-03-05", "ok"),
    ("05.03.2024 14:30", "2024-03-05", "ok"),
    ("29.02.2024", "2024-02-29", "ok"),  # 2024 is a leap year
    # month names
    ("5 Mar 2024", "2024-03-05", "ok"),
    ("05-MAR-2024", "2024-03-05", "ok"),
    ("March 5, 2024", "2024-03-05", "ok"),
    ("5. März 2024", "2024-03-05", "ok"),
    # invalid
    ("yesterday", None, "invalid"),
    ("31.02.2024", None, "invalid"),
    ("29.02.2023", None, "invalid"),  # 2023 is not a leap year
    ("2024-13-01", None, "invalid"),
    ("2024-02-30", None, "invalid"),
    ("05.03", None, "invalid"),  # no year
    ("5 Foo 2024", None, "invalid"),
    (True, None, "invalid"),
    (dt.time(10, 0), None, "invalid"),
    ("0001-01-01", None, "invalid"),
    # missing
    ("", None, "missing"),
    ("  ", None, "missing"),
    (None, None, "missing"),
    (NAN, None, "missing"),
    (pd.NaT, None, "missing"),
]


@pytest.mark.parametrize(("cell", "expected", "status"), DATE_CASES)
def test_parse_dates_rules(cell, expected, status):
    date, got_status = one_date(cell)
    assert got_status == status
    if expected is None:
        assert pd.isna(date)
    else:
        assert date == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("05.03.26", "2026-03-05"),  # 2026 is this year: not in the future
        ("05.12.26", "2026-12-05"),  # the year decides, so a future date stays visible
        ("05.03.27", "1927-03-05"),  # 2027 would be in the future
        ("05.03.99", "1999-03-05"),
        ("05.03.00", "2000-03-05"),
        ("05-MAR-24", "2024-03-05"),
        ("25/03/24", "2024-03-25"),
    ],
)
def test_two_digit_years(today_2026_11_25, cell, expected):
    date, status = one_date(cell)
    assert status == "ok"
    assert date == pd.Timestamp(expected)


def test_parse_dates_dtype_and_midnight():
    out = parse_dates(pd.Series([dt.datetime(2024, 3, 5, 14, 30), "2024-03-05 23:59"], dtype=object))
    assert out["date"].dtype == "datetime64[ns]"
    assert (out["date"] == out["date"].dt.normalize()).all()
    assert list(out.columns) == ["date", "status"]


@pytest.mark.parametrize("first", range(5))
def test_parse_dates_reads_each_spelling_whichever_comes_first(first):
    # the common spellings are tried starting with the first cell's: every order gives the same dates
    cells = ["2024-03-05 14:30:00", "5.3.2024", "2024-3-5", "2024-03-05", "31.02.2024"]
    rotated = cells[first:] + cells[:first]
    out = parse_dates(pd.Series(rotated, dtype=object))
    expected = {"31.02.2024": None}  # no such day
    assert [None if pd.isna(d) else str(d.date()) for d in out["date"]] == [
        expected.get(cell, "2024-03-05") for cell in rotated]
    assert out["status"].tolist() == ["invalid" if cell in expected else "ok" for cell in rotated]


def test_parse_dates_keeps_a_non_default_index():
    index = pd.RangeIndex(14, 18)
    values = pd.Series(["05.03.2024", None, 45000, "nonsense"], index=index, dtype=object)
    out = parse_dates(values)
    assert out.index.equals(index)
    assert out.loc[14, "date"] == pd.Timestamp("2024-03-05")
    assert out.loc[16, "date"] == pd.Timestamp("2023-03-15")
    assert out["status"].tolist() == ["ok", "missing", "ok", "invalid"]


def test_parse_dates_datetime64_column():
    values = pd.Series(pd.to_datetime(["2024-03-05 10:00", None]), index=[3, 4])
    out = parse_dates(values)
    assert out["status"].tolist() == ["ok", "missing"]
    assert out.loc[3, "date"] == pd.Timestamp("2024-03-05")


# -- day/month order ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["05/03/2024", "13/01/2024"], [dt.date(2024, 3, 5), dt.date(2024, 1, 13)]),  # 13 is a day
        (["05/03/2024", "01/13/2024"], [dt.date(2024, 5, 3), dt.date(2024, 1, 13)]),  # 13 is a day
        (["5/3/2024", "25/12/2023"], [dt.date(2024, 3, 5), dt.date(2023, 12, 25)]),
        (["05-03-2024", "31-01-2024"], [dt.date(2024, 3, 5), dt.date(2024, 1, 31)]),
        # dotted dates do not vote; the slash date decides by itself
        (["01.02.2024", "02/13/2024"], [dt.date(2024, 2, 1), dt.date(2024, 2, 13)]),
    ],
)
def test_day_month_order_inferred(cells, expected):
    out = parse_dates(pd.Series(cells, dtype=object))
    assert out["status"].tolist() == ["ok"] * len(cells)
    assert out["date"].tolist() == [pd.Timestamp(d) for d in expected]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["05/03/2024", "13/01/2024"], True),
        (["05/03/2024", "01/13/2024"], False),
        (["05/03/2024", "01/02/2024"], None),
        (["05.03.2024", "2024-03-05", 45000], None),  # nothing to infer
        (["45/03/2024", "05/03/2024"], None),  # 45 is no day: not evidence
    ],
)
def test_infer_day_first(cells, expected):
    assert infer_day_first(pd.Series(cells, dtype=object)) is expected


def test_all_ambiguous_raises_naming_where():
    where = "study.xlsx Samples, column 'Sample date'"
    values = pd.Series(["05/03/2024", "01/02/2024", None], dtype=object)
    with pytest.raises(AmbiguousDateError) as caught:
        parse_dates(values, where=where)
    message = str(caught.value)
    assert message.startswith(f"{where}: every date is ambiguous between day-first and month-first")
    assert "'05/03/2024'" in message
    assert "rerun with --day-first or --month-first" in message
    assert "day_first in the config file's [dates] table" in message
    assert isinstance(caught.value, MarkersError)


def test_mixed_orders_raise_with_both_examples():
    where = "export.csv, column 'Date'"
    values = pd.Series(["13/01/2024", "01/13/2024", "05/03/2024"], dtype=object)
    for call in (lambda: parse_dates(values, where=where), lambda: infer_day_first(values, where=where)):
        with pytest.raises(AmbiguousDateError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(
            f"{where}: dates such as '13/01/2024' and '01/13/2024' mix day-first and month-first"
        )


@pytest.mark.parametrize(
    ("day_first", "expected"), [(True, dt.date(2024, 3, 5)), (False, dt.date(2024, 5, 3))]
)
def test_given_order_used_when_undecided(day_first, expected):
    date, status = one_date("05/03/2024", day_first=day_first)
    assert status == "ok"
    assert date == pd.Timestamp(expected)


def test_given_order_is_never_swapped():
    values = pd.Series(["05/03/2024", "13/01/2024"], dtype=object)
    with pytest.warns(UserWarning, match="13/01/2024"):
        out = parse_dates(values, day_first=False, where="f.csv")
    # month-first: 05/03 = 3 May; 13/01 has no month 13 -> invalid, not 13 January
    assert out["status"].tolist() == ["ok", "invalid"]
    assert out["date"].iloc[0] == pd.Timestamp("2024-05-03")
    assert pd.isna(out["date"].iloc[1])


def test_given_order_resolves_a_mixed_column():
    values = pd.Series(["13/01/2024", "01/13/2024"], dtype=object)
    with pytest.warns(UserWarning):
        out = parse_dates(values, day_first=True)
    assert out["status"].tolist() == ["ok", "invalid"]
    assert out["date"].iloc[0] == pd.Timestamp("2024-01-13")


def test_given_order_agreeing_with_data_is_silent():
    values = pd.Series(["05/03/2024", "13/01/2024"], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = parse_dates(values, day_first=True)
    assert out["date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-01-13")]


def test_dotted_dates_ignore_month_first():
    # dots are day-first whatever the option for slash dates says
    date, status = one_date("05.03.2024", day_first=False)
    assert (date, status) == (pd.Timestamp("2024-03-05"), "ok")


# -- date properties --------------------------------------------------------------------------

NS_DATES = st.dates(min_value=dt.date(1678, 1, 1), max_value=dt.date(2262, 4, 10))


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(day=NS_DATES, padded=st.booleans())
def test_property_dotted_round_trip(day, padded):
    text = f"{day:%d.%m.%Y}" if padded else f"{day.day}.{day.month}.{day.year:04d}"
    date, status = one_date(text)
    assert status == "ok"
    assert date == pd.Timestamp(day)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(NS_DATES, min_size=1, max_size=8),
    decider=st.dates(min_value=dt.date(1900, 1, 13), max_value=dt.date(2100, 12, 31)).filter(
        lambda d: d.day >= 13
    ),
    day_first=st.booleans(),
    separator=st.sampled_from(["/", "-"]),
)
def test_property_inference_never_swaps_a_decidable_column(days, decider, day_first, separator):
    # `decider` has a day of 13 or more, so the column can be read one way only.
    column = [*days, decider]
    if day_first:
        cells = [f"{d.day:02d}{separator}{d.month:02d}{separator}{d.year:04d}" for d in column]
    else:
        cells = [f"{d.month:02d}{separator}{d.day:02d}{separator}{d.year:04d}" for d in column]
    values = pd.Series(cells, dtype=object)
    assert infer_day_first(values) is day_first
    out = parse_dates(values)
    assert out["status"].tolist() == ["ok"] * len(column)
    assert out["date"].tolist() == [pd.Timestamp(d) for d in column]


# -- real files ---------------------------------------------------------------------------------


def test_cells_from_an_xlsx_written_by_openpyxl(tmp_path):
    path = tmp_path / "lab.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Sample date", "VMA"])
    sheet.append([dt.datetime(2024, 3, 5, 9, 15), 12.5])
    sheet.append(["06.03.2024", "<0,5"])
    sheet.append([45000, "QNS"])
    sheet.append([None, "45.2 H"])
    book.save(path)

    rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(min_row=2, values_only=True))
    index = pd.RangeIndex(2, 2 + len(rows))  # 1-based sheet row numbers, as readers give them
    dates = parse_dates(pd.Series([r[0] for r in rows], index=index, dtype=object))
    results = parse_results(pd.Series([r[1] for r in rows], index=index, dtype=object))

    assert dates["date"].tolist()[:3] == [
        pd.Timestamp("2024-03-05"),
        pd.Timestamp("2024-03-06"),
        pd.Timestamp("2023-03-15"),
    ]
    assert dates["status"].tolist() == ["ok", "ok", "ok", "missing"]
    assert results.loc[2, "value"] == 12.5
    assert (results.loc[3, "value"], results.loc[3, "censor"]) == (0.5, "<")
    assert results.loc[4, "status"] == "text"
    assert (results.loc[5, "value"], results.loc[5, "lab_flag"]) == (45.2, "H")


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_cells_from_a_decimal_comma_csv(tmp_path, encoding):
    path = tmp_path / "export.csv"
    text = "Datum;VMA (µg/mg)\n05.03.2024;1.234,5\n06.03.2024;< 0,5\n07.03.2024;n. b.\n"
    path.write_text(text, encoding=encoding)
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))[1:]
    dates = parse_dates(pd.Series([r[0] for r in rows], dtype=object))
    results = parse_results(pd.Series([r[1] for r in rows], dtype=object), decimal_comma=True)
    assert dates["date"].tolist() == [pd.Timestamp(f"2024-03-0{d}") for d in (5, 6, 7)]
    assert same_float(results["value"].iloc[0], 1234.5)
    assert results["censor"].tolist() == ["", "<", ""]
    assert results["status"].tolist() == ["ok", "ok", "text"]


# -- long columns: each distinct cell is parsed once -------------------------------------------


def test_long_result_column_parses_distinct_cells_once_with_the_same_output():
    # 400 cells, above the size where distinct cells are parsed once and broadcast back
    cells = ["<0.5", 45.2, "45.2 H", "QNS", None, float("nan"), "12,5", 7.0] * 50
    values = pd.Series(cells, index=pd.RangeIndex(100, 500), dtype=object)
    out = parse_results(values)
    assert list(out.index) == list(range(100, 500))
    first = out.iloc[:8]
    assert first["value"].tolist()[:3] == [0.5, 45.2, 45.2]
    assert first["censor"].tolist() == ["<", "", "", "", "", "", "", ""]
    assert first["lab_flag"].tolist() == ["", "", "H", "", "", "", "", ""]
    assert first["status"].tolist() == ["ok", "ok", "ok", "text", "missing", "missing", "ok", "ok"]
    assert first["text"].tolist() == ["<0.5", "45.2", "45.2 H", "QNS", "", "", "12,5", "7"]
    # every block of 8 is the same as the first: 50 x "ok" for "<0.5"
    assert (out["status"] == "ok").sum() == 5 * 50
    from markers.ingest.results import _parse_result_cells

    pd.testing.assert_frame_equal(out, _parse_result_cells(values, decimal_comma=None))


def test_long_column_with_booleans_is_parsed_cell_by_cell():
    # True == 1 == 1.0 as hash keys, but a boolean is not a result: it must stay "text"
    values = pd.Series([1.0, True, 0.0, False] * 100, dtype=object)
    out = parse_results(values)
    assert out["status"].iloc[:4].tolist() == ["ok", "text", "ok", "text"]
    assert out["text"].iloc[:4].tolist() == ["1", "True", "0", "False"]


def test_long_date_column_counts_cells_not_spellings_in_its_warning():
    # 300 cells: 150 x "13/01/2024" (cannot be month-first) and 150 x "01/02/2024"
    values = pd.Series(["13/01/2024", "01/02/2024"] * 150, dtype=object)
    with pytest.warns(UserWarning, match=r"150 date\(s\) such as '13/01/2024'"):
        out = parse_dates(values, day_first=False, where="lab.csv, column 'Date'")
    assert out["status"].value_counts().to_dict() == {"invalid": 150, "ok": 150}
    # month-first: 01/02/2024 is 2 January 2024
    assert out["date"].iloc[1] == pd.Timestamp("2024-01-02")
