"""Flagging against the age-specific ULN: grades, censored results, no reference, units.

Worked setting for most tests: a child born 2020-03-01, sampled 2021-06-01
(15 completed months), ARUP VMA "0-2 y" ULN 27 mg/g [S1], HVA 42 mg/g.
Grade boundaries at 27 (1x), 54 (2x), 81 (3x) mg/g.
VMA in mmol/mol: x mg/g * 113.120 / 198.174.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.analysis.flags import DEFAULT_GRADE_CUTOFFS, GRADE_ORDER, flag
from markers.analysis.reference import load_reference_limits
from markers.errors import ConfigError, MissingColumnError
from markers.ingest.units import convert_ratio
from markers.schema import GRADES, MASS_RATIO, MOLAR_RATIO

M_CREA = 113.120
M_VMA = 198.174

ARUP = load_reference_limits(reference_set="ARUP-3018863")
DEFAULT = load_reference_limits()


def _frame(values, *, analyte="VMA", unit=MASS_RATIO, censor=None, inclusive=None, born="2020-03-01",
           sampled="2021-06-01", sex="M"):
    n = len(values)
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(n)],
            "sample_date": pd.to_datetime([sampled] * n),
            "analyte": [analyte] * n,
            "value": [float(v) for v in values],
            "unit": [unit] * n,
            "censor": censor if censor is not None else [""] * n,
            "censor_inclusive": inclusive if inclusive is not None else [False] * n,
            "sex": [sex] * n,
            "date_of_birth": pd.to_datetime([born] * n),
            "age_days": pd.array([pd.NA] * n, dtype="Int64"),
        }
    )


def test_default_cutoffs():
    assert DEFAULT_GRADE_CUTOFFS == (1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    ("value", "grade", "elevated"),
    [
        (0.0, "normal", False),
        (26.9, "normal", False),
        (27.0, "normal", False),  # exactly 1x ULN is normal
        (27.01, "mild", True),
        (54.0, "mild", True),  # exactly 2x is mild
        (54.01, "moderate", True),
        (80.99, "moderate", True),
        (81.0, "marked", True),  # exactly 3x is marked
        (270.0, "marked", True),
    ],
)
def test_grade_boundaries_mass(value, grade, elevated):
    out = flag(_frame([value]), limits=ARUP)
    assert out["uln"].iloc[0] == 27.0
    assert out["x_uln"].iloc[0] == pytest.approx(value / 27.0)
    assert out["grade"].iloc[0] == grade
    assert bool(out["elevated"].iloc[0]) is elevated
    assert out["reference_set"].iloc[0] == "ARUP-3018863"
    assert out["age_band_label"].iloc[0] == "0-2 y"


@pytest.mark.parametrize(("multiple", "grade"), [(1, "normal"), (2, "mild"), (3, "marked")])
def test_grade_boundaries_survive_conversion_to_mmol_per_mol(multiple, grade):
    """27, 54, 81 mg/g converted to mmol/mol sit on 1x, 2x, 3x of the converted ULN (15.41 mmol/mol)."""
    via_units = convert_ratio(27.0 * multiple, analyte="VMA", from_unit=MASS_RATIO, to_unit=MOLAR_RATIO)
    # the same number by hand, in another order of operations (round-off differs in the last bit)
    by_hand = 27.0 * multiple * M_CREA / M_VMA
    out = flag(_frame([via_units, by_hand], unit=MOLAR_RATIO), limits=ARUP)
    assert out["uln"].tolist() == pytest.approx([27 * M_CREA / M_VMA] * 2)
    assert out["grade"].tolist() == [grade, grade]


def test_output_columns_and_dtypes():
    out = flag(_frame([10.0, 60.0]), limits=ARUP)
    assert str(out["elevated"].dtype) == "boolean"
    assert out["uln"].dtype == np.float64
    assert out["x_uln"].dtype == np.float64
    assert set(out["grade"]) <= set(GRADES)
    assert out["grade"].tolist() == ["normal", "moderate"]  # 60 / 27 = 2.22
    assert out["elevated"].tolist() == [False, True]


# -- censored results -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("censor", "inclusive", "value", "grade", "elevated", "x_uln"),
    [
        ("<", False, 10.0, "normal", False, 10 / 27),  # <10: below an ULN of 27
        ("<", False, 27.0, "normal", False, 1.0),  # <27: below the ULN
        ("<", True, 27.0, "normal", False, 1.0),  # <=27: at most the ULN, which is normal
        ("<", False, 30.0, "indeterminate", pd.NA, 30 / 27),  # <30: could be 28 or 5
        (">", False, 30.0, "mild", True, 30 / 27),  # >30: above 1.11x
        (">", False, 27.0, "mild", True, 1.0),  # >27: above the ULN, at least mild
        (">", True, 27.0, "indeterminate", pd.NA, 1.0),  # >=27: may equal the ULN (normal)
        (">", False, 54.0, "moderate", True, 2.0),  # >54: above 2x, so at least moderate
        (">", True, 54.0, "mild", True, 2.0),  # >=54: may be exactly 2x (mild)
        (">", False, 100.0, "marked", True, 100 / 27),  # >100: above 3.7x
        (">", True, 81.0, "marked", True, 3.0),  # >=81: at least 3x
        (">", False, 20.0, "indeterminate", pd.NA, 20 / 27),  # >20: could be 21 or 200
    ],
)
def test_censored(censor, inclusive, value, grade, elevated, x_uln):
    out = flag(_frame([value], censor=[censor], inclusive=[inclusive]), limits=ARUP)
    assert out["grade"].iloc[0] == grade
    assert out["x_uln"].iloc[0] == pytest.approx(x_uln)
    if elevated is pd.NA:
        assert out["elevated"].iloc[0] is pd.NA
    else:
        assert bool(out["elevated"].iloc[0]) is elevated


def test_censor_written_with_operator_suffix():
    # "<=" / ">=" in the censor column itself are read like "<"/">" with censor_inclusive
    out = flag(_frame([27.0, 27.0], censor=["<=", ">="], inclusive=[False, False]), limits=ARUP)
    assert out["grade"].tolist() == ["normal", "indeterminate"]


def test_missing_censor_columns_mean_uncensored():
    frame = _frame([27.0, 28.0]).drop(columns=["censor", "censor_inclusive"])
    out = flag(frame, limits=ARUP)
    assert out["grade"].tolist() == ["normal", "mild"]


# -- no reference ---------------------------------------------------------------------------------


def test_no_reference_cases_never_crash_or_guess():
    mayo = load_reference_limits(reference_set="Mayo-VH-legacy")
    frame = pd.concat(
        [
            _frame([100.0], analyte="NMN"),  # no NMN limit at all
            _frame([100.0], born="2000-01-01", sampled="2021-06-01"),  # 21 y: Mayo legacy has no limit >= 15 y
            _frame([100.0]).assign(date_of_birth=pd.NaT),  # age unknown
            _frame([100.0], censor=["<"]).assign(date_of_birth=pd.NaT),  # censored and age unknown
        ],
        ignore_index=True,
    )
    out = flag(frame, limits=mayo)
    assert out["grade"].tolist() == ["no_reference"] * 4
    assert out["elevated"].isna().all()
    assert out["uln"].isna().all()
    assert out["x_uln"].isna().all()
    assert out["reference_set"].tolist() == [""] * 4


def test_age_days_used_when_no_date_of_birth():
    frame = _frame([30.0, 30.0]).assign(date_of_birth=pd.NaT, age_days=pd.array([1095, 1096], dtype="Int64"))
    out = flag(frame, limits=ARUP)
    # 1095 d -> 35 months: ULN 27, 30/27 = 1.11 mild; 1096 d -> 36 months: ULN 13, 30/13 = 2.31 moderate
    assert out["uln"].tolist() == [27.0, 13.0]
    assert out["grade"].tolist() == ["mild", "moderate"]


def test_age_days_filled_from_dates():
    out = flag(_frame([10.0]), limits=ARUP)
    # 2020-03-01 -> 2021-06-01: 306 days to 2021-01-01 (2020 is leap: 366 - 60) + 151 = 457 days
    assert out["age_days"].tolist() == [457]


def test_unknown_unit_gives_no_reference_with_a_warning():
    frame = _frame([10.0, 10.0]).assign(unit=["mg/L", MASS_RATIO])
    with pytest.warns(UserWarning, match="mg/L"):
        out = flag(frame, limits=ARUP)
    assert out["grade"].tolist() == ["no_reference", "normal"]


def test_mixed_units_and_analytes_in_one_table():
    vma_mmol = 54.0 * M_CREA / M_VMA  # 2x ULN in mmol/mol -> mild
    frame = pd.concat(
        [
            _frame([vma_mmol], unit=MOLAR_RATIO),
            _frame([43.0], analyte="HVA"),  # 43 / 42 -> mild
            _frame([1.0], analyte="DA"),  # 1.0 mg/g vs UIowa 1-3 y 1220 µg/g = 1.22 mg/g -> normal
            _frame([3.7], analyte="DA"),  # 3.7 / 1.22 = 3.03 -> marked
        ],
        ignore_index=True,
    )
    out = flag(frame, limits=DEFAULT)
    assert out["grade"].tolist() == ["mild", "mild", "normal", "marked"]
    assert out["reference_set"].tolist() == ["ARUP-3018863", "ARUP-3018863", "extended-UIowa-ARUP", "extended-UIowa-ARUP"]


def test_input_not_mutated_and_index_kept():
    frame = _frame([10.0, 60.0, 90.0]).set_axis(["a", "b", "c"])
    before = frame.copy()
    out = flag(frame, limits=ARUP)
    pd.testing.assert_frame_equal(frame, before)
    assert out.index.tolist() == ["a", "b", "c"]
    assert out["grade"].tolist() == ["normal", "moderate", "marked"]
    assert out["patient_id"].tolist() == ["P0", "P1", "P2"]


def test_empty_measurements():
    out = flag(_frame([]), limits=ARUP)
    assert len(out) == 0
    assert {"uln", "x_uln", "elevated", "grade", "reference_set"} <= set(out.columns)


def test_missing_required_column():
    with pytest.raises(MissingColumnError, match="value"):
        flag(_frame([1.0]).drop(columns=["value"]), limits=ARUP)


# -- grade cut-offs -------------------------------------------------------------------------------


def test_custom_cutoffs():
    # cut-offs 1.5 / 4 / 10 of ULN 27: 40.5 (1.5x) normal, 41 mild, 108 (4x) mild, 109 moderate, 270 marked
    out = flag(_frame([40.5, 41.0, 108.0, 109.0, 270.0]), limits=ARUP, grade_cutoffs=(1.5, 4, 10))
    assert out["grade"].tolist() == ["normal", "mild", "mild", "moderate", "marked"]
    assert out["elevated"].tolist() == [False, True, True, True, True]


@pytest.mark.parametrize("cutoffs", [(1, 2), (2, 1, 3), (0, 1, 2), (1, 2, "x"), (1, 2, float("nan"))])
def test_bad_cutoffs(cutoffs):
    with pytest.raises(ConfigError, match="grade_cutoffs"):
        flag(_frame([1.0]), limits=ARUP, grade_cutoffs=cutoffs)


# -- properties -----------------------------------------------------------------------------------

_values = st.floats(min_value=0.0, max_value=2000.0, allow_nan=False, allow_infinity=False)
_ages = st.sampled_from(["2021-06-01", "2023-02-28", "2023-03-01", "2030-01-01", "2045-01-01"])
_rank = {g: i for i, g in enumerate(GRADE_ORDER)}


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(a=_values, b=_values, sampled=_ages, analyte=st.sampled_from(["VMA", "HVA"]))
def test_higher_value_never_gets_a_lower_grade(a, b, sampled, analyte):
    low, high = sorted([a, b])
    out = flag(_frame([low, high], analyte=analyte, sampled=sampled), limits=ARUP)
    grades = out["grade"].tolist()
    assert _rank[grades[0]] <= _rank[grades[1]]
    if out["elevated"].iloc[0]:
        assert out["elevated"].iloc[1]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(value=_values, sampled=_ages, analyte=st.sampled_from(["VMA", "HVA", "DA", "E", "NE"]),
       censor=st.sampled_from(["", "<", ">"]), inclusive=st.booleans())
def test_mmol_per_mol_and_mg_per_g_give_the_same_grades(value, sampled, analyte, censor, inclusive):
    molar = convert_ratio(value, analyte=analyte, from_unit=MASS_RATIO, to_unit=MOLAR_RATIO)
    mass = flag(_frame([value], analyte=analyte, sampled=sampled, censor=[censor], inclusive=[inclusive]),
                limits=DEFAULT)
    mol = flag(_frame([molar], analyte=analyte, unit=MOLAR_RATIO, sampled=sampled, censor=[censor],
                      inclusive=[inclusive]), limits=DEFAULT)
    assert mass["grade"].tolist() == mol["grade"].tolist()
    assert mass["elevated"].isna().tolist() == mol["elevated"].isna().tolist()
    if not math.isnan(mass["x_uln"].iloc[0]):
        assert mol["x_uln"].iloc[0] == pytest.approx(mass["x_uln"].iloc[0], rel=1e-9)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(value=_values)
def test_greater_than_bound_is_never_graded_below_the_value_it_bounds(value):
    """'>x' is at least the grade of any value just above x: compare with x * (1 + 1e-6)."""
    out = flag(_frame([value, value * (1 + 1e-6) + 1e-9], censor=[">", ""]), limits=ARUP)
    censored, exact = out["grade"].tolist()
    if censored != "indeterminate":
        assert _rank[censored] <= _rank[exact]


def test_docstring_examples_run():
    import doctest

    import markers.analysis.flags

    result = doctest.testmod(markers.analysis.flags)
    assert result.attempted >= 1
    assert result.failed == 0
