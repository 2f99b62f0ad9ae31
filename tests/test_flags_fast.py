"""The vectorised steps of flagging and the timeline against plain per-patient references.

Each fast helper is checked on values worked out by hand, then against the plain rule it
replaces on random inputs (hypothesis), so that speed never changes an answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.analysis.grades import grade_above, grade_of_value, snap
from markers.analysis.limit_changes import group_date_order, limit_changed
from markers.analysis.reference import _combinations
from markers.analysis.timeline import whole_days

DAY = 86_400 * 10**9
NAT = np.iinfo(np.int64).min


def test_group_date_order_by_group_then_day_keeping_ties_in_row_order():
    # rows:     0        1        2        3        4
    # group:    2        0        2        0        0
    # day:      5        9        NaT      3        9
    # group 0: row 3 (day 3), then rows 1 and 4 (both day 9, row order kept);
    # group 2: row 2 (no date sorts first), then row 0 (day 5).
    days = np.array([5, 9, 0, 3, 9]) * DAY
    days[2] = NAT
    assert group_date_order(np.array([2, 0, 2, 0, 0]), days).tolist() == [3, 1, 4, 2, 0]


def test_group_date_order_with_a_time_of_day():
    # 12:00 on day 1 comes after 06:00 on day 1 in the same group; the other group first
    days = np.array([DAY + 12 * 3_600 * 10**9, DAY + 6 * 3_600 * 10**9, 7 * DAY])
    assert group_date_order(np.array([1, 1, 0]), days).tolist() == [2, 1, 0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(-40_000, 40_000)), st.integers(0, 23)),
                max_size=40), st.booleans())
def test_group_date_order_is_the_two_key_lexsort(rows, whole_days):
    group = np.array([g for g, _, _ in rows], dtype=np.int64)
    hour = 0 if whole_days else 3_600 * 10**9
    days = np.array([NAT if d is None else d * DAY + h * hour for _, d, h in rows], dtype=np.int64)
    assert group_date_order(group, days).tolist() == np.lexsort((days, group)).tolist()


def _limit_changed_reference(frame: pd.DataFrame) -> list[bool]:
    """Plain rule: per patient and analyte, in date order (ties in row order, undated first), True where
    the ULN differs from the previous sample's (both known)."""
    out = [False] * len(frame)
    keys: dict[tuple[str, str], list[int]] = {}
    for row, (pid, analyte) in enumerate(zip(frame["patient_id"], frame["analyte"], strict=True)):
        keys.setdefault((pid, analyte), []).append(row)
    dates = frame["sample_date"]

    def when(row: int) -> tuple[bool, int, int]:  # undated first, then by date, ties in row order
        dated = pd.notna(dates.iloc[row])
        return dated, dates.iloc[row].value if dated else 0, row

    for rows in keys.values():
        rows = sorted(rows, key=when)
        for before, row in zip(rows, rows[1:], strict=False):
            a, b = frame["uln"].iloc[before], frame["uln"].iloc[row]
            if np.isfinite(a) and np.isfinite(b) and not np.isclose(b, a, rtol=1e-9):
                out[row] = True
    return out


def test_limit_changed_hand_worked():
    # P1 VMA in date order: 27 (Jan), 27 (Feb), 18 (Apr) -> a change on the April sample only.
    # P1 HVA: one sample. P2 VMA: 18 (Mar), then NaN (May): no limit, no change.
    frame = pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P1", "P1", "P2"],
        "analyte": ["VMA", "VMA", "VMA", "HVA", "VMA", "VMA"],
        "uln": [18.0, 27.0, 18.0, 42.0, 27.0, np.nan],
        "sample_date": pd.to_datetime(["2024-04-01", "2024-01-01", "2024-03-01", "2024-01-01", "2024-02-01",
                                       "2024-05-01"]),
    })
    assert limit_changed(frame).tolist() == [True, False, False, False, False, False]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["P1", "P2", "P3"]), st.sampled_from(["VMA", "HVA"]),
                          st.sampled_from([18.0, 27.0, 42.0, np.nan]),
                          st.one_of(st.none(), st.integers(0, 6))), min_size=1, max_size=30))
def test_limit_changed_equals_the_plain_rule(rows):
    frame = pd.DataFrame({
        "patient_id": [r[0] for r in rows], "analyte": [r[1] for r in rows], "uln": [r[2] for r in rows],
        "sample_date": pd.to_datetime([None if r[3] is None else f"2024-01-{r[3] + 1:02d}" for r in rows]),
    })
    assert limit_changed(frame).tolist() == _limit_changed_reference(frame)


CUTS = (1.0, 2.0, 3.0)
IND = 4  # indeterminate


def test_grade_codes_hand_worked():
    # ratio:            1.0  1.5  2.0  2.5  3.0  0.5  inf  nan
    # exact value:      normal (<=1), mild (1, 2], moderate (2, 3), marked >= 3
    # lowest above it:  normal < 1 <= mild < 2 <= moderate < 3 <= marked
    ratio = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 0.5, np.inf, np.nan])
    assert grade_of_value(ratio, CUTS).tolist() == [0, 1, 1, 2, 3, 0, 3, IND]
    assert grade_above(ratio, CUTS).tolist() == [1, 1, 2, 2, 3, 0, 3, IND]


def test_snap_hand_worked():
    # 2.0000000000000004 is within 1e-9 of 2 and becomes 2; 2.001 and 0.999999 are not; NaN and inf stay
    ratio = np.array([2.0000000000000004, 2.001, 0.999999, np.nan, np.inf, 3 - 1e-12])
    assert snap(ratio, CUTS).tolist()[:3] == [2.0, 2.001, 0.999999]
    assert np.isnan(snap(ratio, CUTS)[3]) and snap(ratio, CUTS)[4] == np.inf and snap(ratio, CUTS)[5] == 3.0


def _select_of_value(ratio, cuts):  # the rule as four conditions, first one true wins
    c1, c2, c3 = cuts
    return np.select([ratio <= c1, ratio <= c2, ratio < c3, ratio >= c3], [0, 1, 2, 3], default=IND)


def _select_above(ratio, cuts):
    c1, c2, c3 = cuts
    return np.select([ratio < c1, ratio < c2, ratio < c3, ratio >= c3], [0, 1, 2, 3], default=IND)


def _isclose_snap(ratio, cuts):
    snapped = ratio.copy()
    for cut in cuts:
        snapped = np.where(np.isclose(snapped, cut, rtol=1e-9, atol=0.0), cut, snapped)
    return snapped


ratios = st.lists(st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.0, 1.5, 2 + 4e-16, 3 - 1e-10, np.nan, np.inf, -np.inf]),
                            st.floats(-1, 10, allow_nan=False)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(ratios, st.sampled_from([(1.0, 2.0, 3.0), (0.5, 1.0, 4.0), (1.0, 1.5, 2.0)]))
def test_grade_codes_and_snap_equal_the_plain_rules(values, cuts):
    ratio = np.array(values, dtype=float)
    assert grade_of_value(ratio, cuts).tolist() == _select_of_value(ratio, cuts).tolist()
    assert grade_above(ratio, cuts).tolist() == _select_above(ratio, cuts).tolist()
    np.testing.assert_array_equal(snap(ratio, cuts), _isclose_snap(ratio, cuts))


def test_combinations_hand_worked():
    # keys 7, 3, 7, 0: present keys 0, 3, 7 (codes 0, 1, 2 in key order)
    codes, uniques = _combinations(np.array([7, 3, 7, 0]))
    assert codes.tolist() == [2, 1, 2, 0] and uniques.tolist() == [0, 3, 7]
    # a key range far wider than the rows takes the sorting path, same answer
    codes, uniques = _combinations(np.array([10**9, 5, 10**9]))
    assert codes.tolist() == [1, 0, 1] and uniques.tolist() == [5, 10**9]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 50), st.integers(0, 10**7)), max_size=40))
def test_combinations_equal_np_unique(keys):
    keys = np.array(keys, dtype=np.int64)
    codes, uniques = _combinations(keys)
    expected_uniques, expected_codes = np.unique(keys, return_inverse=True)
    assert uniques.tolist() == expected_uniques.tolist() and codes.tolist() == expected_codes.tolist()


def test_whole_days_hand_worked():
    # 10 days; 6 hours before midnight is day -1 (rounded down); 36 hours is day 1; NaT on either side: <NA>
    later = np.array(["2024-01-11", "2024-01-01T00", "2024-01-02T12", "NaT", "2024-01-01"], dtype="datetime64[ns]")
    earlier = np.array(["2024-01-01", "2024-01-01T06", "2024-01-01", "2024-01-01", "NaT"], dtype="datetime64[ns]")
    assert whole_days(later, earlier).tolist() == [10, -1, 1, pd.NA, pd.NA]


def _days_by_pandas(later, earlier):
    return (pd.Series(later) - pd.Series(earlier)).dt.days.astype("Int64").tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-(2**61), 2**61)),
                          st.one_of(st.none(), st.integers(-(2**61), 2**61))), max_size=30))
def test_whole_days_equal_pandas_timedelta_days(pairs):
    def column(values):
        return np.array([np.iinfo(np.int64).min if v is None else v for v in values], dtype=np.int64).view(
            "datetime64[ns]")

    later, earlier = column([a for a, _ in pairs]), column([b for _, b in pairs])
    assert whole_days(later, earlier).tolist() == _days_by_pandas(later, earlier)


def test_whole_days_of_a_span_beyond_int64_nanoseconds_raise_as_pandas_does():
    later, earlier = np.array(["2261-01-01"], dtype="datetime64[ns]"), np.array(["1678-01-01"], dtype="datetime64[ns]")
    with pytest.raises(OverflowError):
        _days_by_pandas(later, earlier)
    with pytest.raises(OverflowError):
        whole_days(later, earlier)
