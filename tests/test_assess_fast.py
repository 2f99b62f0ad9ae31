"""The vectorised assessment gives exactly the table of the plain per-course implementation.

``markers.analysis.assess.assess`` works on all courses at once (numpy over sorted group
boundaries); ``markers.analysis.assess_reference.assess_per_course`` walks one course at a time
with the small rule functions written as the rules read. On random cohorts (several patients and
analytes, limit steps, censored and indeterminate results, exclusions, surgery and milestones,
dated and date-free patients, varied rules) the two tables are equal, column by column and type
by type: speed never changes an answer.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.analysis.assess import assess
from markers.analysis.assess_reference import assess_per_course
from markers.analysis.rules import AssessmentRules
from markers.analysis.segments import Runs, Segments, sorted_text_codes

DX = pd.Timestamp("2024-01-01")
EVENT_CODES = ("therapy_start", "surgery", "end_of_induction", "complete_remission", "end_of_therapy")

samples = st.tuples(
    st.integers(-45, 420),                                   # day since diagnosis
    st.sampled_from([True, False, False, None]),             # elevated (None: indeterminate)
    st.sampled_from(["", "", "", "", "<", ">"]),             # censor
    st.sampled_from([27.0, 27.0, 18.0, 40.0]),               # ULN (a step changes it)
    st.floats(0.0, 4.0, allow_nan=False),                    # value / ULN
    st.booleans(),                                           # excluded from the fit (rarely used)
)
courses = st.lists(samples, min_size=1, max_size=8, unique_by=lambda s: s[0]).map(sorted)
patient = st.fixed_dictionaries({
    "courses": st.dictionaries(st.sampled_from(["VMA", "HVA", "DA"]), courses, min_size=1, max_size=3),
    "events": st.dictionaries(st.sampled_from(EVENT_CODES), st.integers(-10, 380), max_size=5),
    "diagnosis": st.booleans(),
    "dated": st.sampled_from([True, True, True, False]),
    "molar": st.booleans(),
})
rules = st.builds(
    AssessmentRules,
    normalized_consecutive=st.integers(1, 3),
    reelevation_consecutive=st.integers(1, 3),
    reelevation_single_x_uln=st.sampled_from([None, 3.0]),
    kinetics_end=st.sampled_from(["first_normal", "before_first_normal"]),
    persistence_milestones=st.sampled_from([("complete_remission",), ("end_of_induction", "complete_remission"),
                                            ("surgery", "end_of_therapy")]),
)


def _cohort(patients: list[dict], excluding: bool):
    rows, events, diagnoses = [], [], []
    for n, p in enumerate(patients):
        pid = f"P{n:02d}"
        for analyte, course in p["courses"].items():
            unit = "mmol/mol creatinine" if p["molar"] and analyte != "DA" else "mg/g creatinine"
            for day, elevated, censor, uln, ratio, excluded in course:
                rows.append({
                    "patient_id": pid, "analyte": analyte, "value": round(ratio * uln, 3), "unit": unit,
                    "censor": censor, "uln": uln, "x_uln": round(ratio * uln, 3) / uln, "elevated": elevated,
                    "sample_date": DX + pd.Timedelta(days=day) if p["dated"] else pd.NaT,
                    "days_since_diagnosis": np.nan if p["dated"] else float(day),
                    "exclude_from_kinetics": "yes" if excluding and excluded else "",
                })
        for code, day in p["events"].items():
            events.append({"patient_id": pid, "event": code,
                           "event_date": DX + pd.Timedelta(days=day) if p["dated"] else pd.NaT,
                           "event_day": float(day)})
        if p["diagnosis"] and p["dated"]:
            diagnoses.append({"patient_id": pid, "diagnosis_date": DX})
    measurements = pd.DataFrame(rows)
    measurements["elevated"] = pd.array(measurements["elevated"], dtype="boolean")
    measurements["sample_date"] = measurements["sample_date"].astype("datetime64[ns]")
    therapy = pd.DataFrame(events, columns=["patient_id", "event", "event_date", "event_day"])
    therapy["event_date"] = therapy["event_date"].astype("datetime64[ns]")
    people = pd.DataFrame(diagnoses, columns=["patient_id", "diagnosis_date"])
    people["diagnosis_date"] = people["diagnosis_date"].astype("datetime64[ns]")
    return measurements, therapy, people


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(patients=st.lists(patient, min_size=1, max_size=5), rules=rules, excluding=st.booleans())
def test_vectorised_assessment_equals_the_per_course_reference(patients, rules, excluding):
    measurements, therapy, people = _cohort(patients, excluding)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the assumed-baseline notice
        fast = assess(measurements, therapy=therapy, patients=people, rules=rules)
    plain = assess_per_course(measurements, therapy=therapy, patients=people, rules=rules)
    pd.testing.assert_frame_equal(fast, plain)


@settings(max_examples=40, deadline=None)
@given(patients=st.lists(patient, min_size=1, max_size=5))
def test_categorical_text_holds_the_same_words(patients):
    measurements, therapy, people = _cohort(patients, excluding=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the assumed-baseline notice
        text = assess(measurements, therapy=therapy, patients=people)
        coded = assess(measurements, therapy=therapy, patients=people, categorical_text=True)
    words = [c for c in text.columns if text[c].dtype == "str" and c not in ("patient_id", "analyte")]
    assert "summary" in words and "last_status" in words
    assert all(isinstance(coded[c].dtype, pd.CategoricalDtype) for c in words)
    back = coded.astype({c: "str" for c in words})
    pd.testing.assert_frame_equal(back, text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["P1", "P10", "P2", "p1", "Ü7", "é", "10", "9", ""]), min_size=2, max_size=30))
def test_sorted_ids_get_the_codes_of_factorize_from_their_runs(ids):
    values = pd.Series(ids, dtype="str")
    ordered = values.sort_values(kind="stable", ignore_index=True)  # Arrow's order: UTF-8 bytes
    codes, uniques = sorted_text_codes(ordered)
    expected_codes, expected_uniques = pd.factorize(ordered, sort=True)
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.equals(expected_uniques)
    if not values.equals(ordered):  # not in order: hashed as before
        assert sorted_text_codes(values) is None
    assert sorted_text_codes(pd.concat([ordered, pd.Series([None], dtype="str")], ignore_index=True)) is None


def test_runs_inside_groups_stop_at_group_boundaries():
    # groups [0, 3) and [3, 6); true rows 1, 2 | 3, 5: runs (1-2), (3-3), (5-5), never 2-3 across groups
    seg = Segments(np.array([0, 3]), np.array([3, 6]))
    runs = Runs(np.array([False, True, True, True, False, True]), seg)
    assert runs.start.tolist() == [1, 3, 5]
    assert runs.end.tolist() == [2, 3, 5]
    assert runs.group.tolist() == [0, 1, 1]
    assert runs.first(runs.length >= 2).tolist() == [1, -1]
    assert runs.last(runs.length >= 1).tolist() == [1, 5]


def test_segments_first_last_and_minimum_per_group():
    seg = Segments(np.array([0, 2, 5]), np.array([2, 5, 6]))
    mask = np.array([False, False, True, False, True, False])
    values = np.array([9.0, 1.0, 4.0, 2.0, 4.0, 7.0])
    assert seg.first(mask).tolist() == [-1, 2, -1]
    assert seg.last_row(mask).tolist() == [-1, 4, -1]
    assert seg.minimum(values, mask).tolist() == [np.inf, 4.0, np.inf]


def test_patients_of_the_courses_from_the_sort_codes():
    # the courses' patients are read from the runs of the sort's patient codes, not by hashing each
    # course's ID: IDs in text order, one entry per patient, dated or not as its samples are
    from markers.analysis.assess import _course_patients
    from markers.analysis.assess_data import boundaries, patient_runs, sorted_courses

    m = pd.DataFrame({
        "patient_id": ["P2", "P10", "P2", "P1", "P10", "P2"],
        "analyte": ["VMA", "HVA", "HVA", "VMA", "VMA", "VMA"],
        "sample_date": pd.to_datetime(["2024-01-03", None, "2024-01-01", "2024-02-01", None, "2024-01-02"]),
        "day": [2, 5, 0, 31, 3, 1],
        "value": [1.0] * 6, "unit": ["mg/g creatinine"] * 6, "censor": [""] * 6, "x_uln": [0.5] * 6,
        "elevated": pd.array([False] * 6, dtype="boolean"),
    })
    data = sorted_courses(m)
    # P1 VMA | P10 VMA (day 3), P10 HVA (day 5) | P2 VMA (days 1, 2), P2 HVA
    assert data["patient_id"].tolist() == ["P1", "P10", "P10", "P2", "P2", "P2"]
    seg = Segments(*boundaries(data))
    assert seg.starts.tolist() == [0, 1, 2, 3, 5]
    ids, dated = patient_runs(data)
    assert ids.tolist() == ["P1", "P10", "P2"] and dated.tolist() == [True, False, True]
    patient, names = _course_patients(data, seg)
    assert patient.tolist() == [0, 1, 1, 2, 2] and names.tolist() == ["P1", "P10", "P2"]


def test_course_order_by_one_key_for_whole_days_as_by_lexsort():
    # whole days join the patient/analyte key in one stable sort; times of day (fractions) and
    # missing days keep the two-key sort: the order is the same either way, ties in row order
    from markers.analysis.assess_data import _course_order

    patient = np.array([1, 0, 1, 0, 0, 1])
    analyte = pd.Series(["HVA", "VMA", "VMA", "VMA", "HVA", "VMA"])
    rows = np.arange(6)
    whole = np.array([3.0, 5.0, 2.0, 5.0, -1.0, 2.0])
    # patient 0: VMA (day 5, rows 1 then 3), HVA (row 4); patient 1: VMA (day 2, rows 2 then 5), HVA (row 0)
    assert _course_order(patient, analyte, whole, rows).tolist() == [1, 3, 4, 2, 5, 0]
    timed = np.array([3.0, 5.5, 2.0, 5.25, -1.0, 2.0])
    assert _course_order(patient, analyte, timed, rows).tolist() == [3, 1, 4, 2, 5, 0]
    missing = np.array([3.0, np.nan, 2.0, 5.0, -1.0, 2.0])
    assert _course_order(patient, analyte, missing, rows).tolist() == [3, 1, 4, 2, 5, 0]
