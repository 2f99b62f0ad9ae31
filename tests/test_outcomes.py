"""Endpoints, landmarks and the per-patient table, on hand-built patients with hand-worked days."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from workbooks import write_workbook

from markers.analysis.endpoints import endpoint_table
from markers.analysis.outcomes import landmark_cohort, outcomes, outcomes_of_analysis
from markers.ingest.reader import read

D = dt.datetime
TODAY = dt.date(2026, 11, 25)
# patient D below has no follow-up: every analysis of these patients warns about it (checked in
# test_endpoints_from_events and tests/test_plot_survival.py)
pytestmark = pytest.mark.filterwarnings("ignore:outcome data. 1 missing-follow-up:UserWarning")


def _therapy(rows):
    frame = pd.DataFrame(rows, columns=["patient_id", "event", "event_date"])
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame


# Diagnosis 2020-01-01 for all; end of induction 2020-05-01 = day 121 (31+29+31+30, 2020 a leap year).
THERAPY = _therapy([
    # A: EOI day 121, relapse 2021-01-01 = day 366, last follow-up 2022-01-01 = day 731
    ("A", "diagnosis", "2020-01-01"), ("A", "end_of_induction", "2020-05-01"), ("A", "relapse", "2021-01-01"),
    ("A", "last_follow_up", "2022-01-01"),
    # B: relapse on day 60, before EOI; death 2020-09-01 = day 244
    ("B", "diagnosis", "2020-01-01"), ("B", "relapse", "2020-03-01"), ("B", "end_of_induction", "2020-05-01"),
    ("B", "death", "2020-09-01"),
    # C: last seen day 31, never reached EOI
    ("C", "diagnosis", "2020-01-01"), ("C", "last_follow_up", "2020-02-01"),
    # D: reached EOI, then nothing: no follow-up
    ("D", "diagnosis", "2020-01-01"), ("D", "end_of_induction", "2020-05-01"),
    # E: progression on the EOI day itself (day 121), last follow-up day 731
    ("E", "diagnosis", "2020-01-01"), ("E", "end_of_induction", "2020-05-01"), ("E", "progression", "2020-05-01"),
    ("E", "last_follow_up", "2022-01-01"),
    # F: EOI recorded after the last follow-up (day 91 = 2020-04-01): lost before the landmark
    ("F", "diagnosis", "2020-01-01"), ("F", "end_of_induction", "2020-05-01"), ("F", "last_follow_up", "2020-04-01"),
    # G: EOI, second malignancy 2023-01-01 = day 1096, death 2023-07-02 = day 1278
    ("G", "diagnosis", "2020-01-01"), ("G", "end_of_induction", "2020-05-01"),
    ("G", "second_malignancy", "2023-01-01"), ("G", "death", "2023-07-02"),
])
STATUS = pd.DataFrame({"patient_id": list("ABCDEFG"),
                       "status_end_of_induction": ["positive", "negative", "unknown", "negative", "positive",
                                                   "negative", "negative"]})


def test_endpoints_from_events():
    table, issues = endpoint_table(None, THERAPY)
    t = table.set_index("patient_id")
    assert t.loc["A", ["efs_days", "efs_event", "first_event", "os_days", "os_event"]].tolist() == \
        [366.0, True, "relapse", 731.0, False]
    assert t.loc["B", ["efs_days", "efs_event", "os_days", "os_event"]].tolist() == [60.0, True, 244.0, True]
    assert t.loc["C", ["efs_days", "efs_event", "os_days", "os_event"]].tolist() == [31.0, False, 31.0, False]
    assert t.loc["G", ["efs_days", "first_event", "os_days"]].tolist() == [1096.0, "second_malignancy", 1278.0]
    # D: no follow-up is an issue and no time, never a censoring at some last date
    assert math.isnan(t.loc["D", "efs_days"]) and math.isnan(t.loc["D", "os_days"])
    assert issues["code"].tolist() == ["missing-follow-up"]
    assert "Patient D" in issues["message"].iloc[0]


def test_landmark_inclusion_and_exclusion():
    ends, _ = endpoint_table(None, THERAPY)
    days = pd.Series(121.0, index=list("ABDEFG"))
    cohort = landmark_cohort(ends, landmark="end_of_induction", landmark_days=days, status=STATUS)
    efs = cohort[cohort["endpoint"] == "EFS"].set_index("patient_id")
    assert efs["reason"].to_dict() == {
        "A": "", "B": "event before landmark", "C": "landmark not reached", "D": "no outcome",
        "E": "event before landmark", "F": "follow-up ends before landmark", "G": ""}
    assert efs.loc["A", ["included", "group", "time_days", "event"]].tolist() == [True, "positive", 366 - 121, True]
    assert efs.loc["G", ["time_days", "event"]].tolist() == [1096 - 121, True]
    os_ = cohort[cohort["endpoint"] == "OS"].set_index("patient_id")
    # B relapsed before the landmark but is alive at it: in the OS landmark analysis, time from day 121
    assert os_.loc["B", ["included", "time_days", "event"]].tolist() == [True, 244 - 121, True]
    assert os_.loc["A", ["time_days", "event"]].tolist() == [731 - 121, False]
    assert bool(os_.loc["E", "included"]) and os_.loc["E", "time_days"] == 731 - 121
    # excluded rows keep their group but carry no time
    assert efs.loc["B", "group"] == "negative" and pd.isna(efs.loc["B", "time_days"])


@pytest.mark.slow
def test_no_immortal_time_counted():
    # every included time counts from the landmark: no included time exceeds (from diagnosis) − landmark
    result = outcomes(None, THERAPY, status=STATUS, landmarks=["end_of_induction"], min_patients=1, min_events=1)
    lm = result.patients[(result.patients["landmark"] == "end_of_induction") & result.patients["included"]]
    dx = result.patients[result.patients["landmark"] == "diagnosis"].set_index(["patient_id", "endpoint"])
    for row in lm.itertuples():
        assert row.time_days == dx.loc[(row.patient_id, row.endpoint), "time_days"] - 121


def test_diagnosis_landmark_is_the_whole_cohort():
    result = outcomes(None, THERAPY, status=STATUS, landmarks=[])
    dx = result.patients[result.patients["endpoint"] == "EFS"].set_index("patient_id")
    assert set(dx["group"]) == {"all"}
    assert dx["included"].to_dict() == {p: p != "D" for p in "ABCDEFG"}
    assert result.tests["warning"].iloc[0] == "no marker status at diagnosis: overall curve only"


@pytest.mark.slow
def test_tables_have_the_documented_columns():
    result = outcomes(None, THERAPY, status=STATUS)
    assert list(result.patients.columns) == ["patient_id", "endpoint", "landmark", "group", "included", "reason",
                                             "time_days", "event"]
    assert list(result.curves.columns)[:8] == ["endpoint", "landmark", "group", "time_days", "survival", "ci_low",
                                               "ci_high", "at_risk"]
    assert list(result.tests.columns)[:11] == [
        "endpoint", "landmark", "n_positive", "n_negative", "events_positive", "events_negative", "logrank_chi2",
        "logrank_p", "hazard_ratio", "hr_ci_low", "hr_ci_high"]
    assert set(result.tests["endpoint"]) == {"EFS", "OS"}
    assert set(result.tests["landmark"]) == {"diagnosis", "end_of_induction", "complete_remission"}


@pytest.mark.slow
def test_small_groups_are_estimated_but_not_tested():
    result = outcomes(None, THERAPY, status=STATUS, landmarks=["end_of_induction"])
    test = result.tests.set_index(["endpoint", "landmark"]).loc[("EFS", "end_of_induction")]
    # included at EOI for EFS: A (positive, event), G (negative, event)
    assert (test["n_positive"], test["n_negative"], test["events_positive"], test["events_negative"]) == (1, 1, 1, 1)
    assert math.isnan(test["logrank_p"]) and math.isnan(test["hazard_ratio"])
    assert test["warning"].startswith("no test")
    est = result.estimates.set_index(["endpoint", "landmark", "group"]).loc[("EFS", "end_of_induction", "positive")]
    assert est["n"] == 1 and est["warning"].startswith("few patients")


def test_unknown_milestone_is_a_config_error():
    from markers.errors import ConfigError

    with pytest.raises(ConfigError, match="not event code"):
        outcomes(None, THERAPY, status=STATUS, landmarks=["end_of_inducton"])


def _sheet_form():
    """The same patients as THERAPY, written as a clinical table: days from diagnosis and indicators."""
    return pd.DataFrame({
        "patient_id": list("ABCDEFG"),
        "diagnosis_date": pd.to_datetime(["2020-01-01"] * 7),
        "efs_days": [366, 60, 31, None, 121, 91, 1096], "efs_event": [True, True, False, None, True, False, True],
        "os_days": [731, 244, 31, None, 731, 91, 1278], "os_event": [False, True, False, None, False, False, True],
        "first_event": ["relapse", "relapse", "none", "", "progression", "none", "second_malignancy"],
    })


@pytest.mark.slow
def test_both_forms_give_the_same_analysis():
    milestones = THERAPY[THERAPY["event"] == "end_of_induction"]
    from_events = outcomes(None, THERAPY, status=STATUS, landmarks=["end_of_induction"], min_patients=1, min_events=1)
    from_sheet = outcomes(_sheet_form(), milestones, status=STATUS, landmarks=["end_of_induction"], min_patients=1,
                          min_events=1)
    pd.testing.assert_frame_equal(from_events.patients, from_sheet.patients)
    pd.testing.assert_frame_equal(from_events.curves, from_sheet.curves)
    pd.testing.assert_frame_equal(from_events.tests, from_sheet.tests)
    assert from_sheet.issues["code"].tolist() == ["missing-follow-up"]


def test_outcome_columns_read_from_a_patients_sheet(tmp_path):
    path = write_workbook(tmp_path / "trial.xlsx", {
        "Patients": [["Patient ID", "Date of birth", "Date of diagnosis", "EFS (days)", "EFS event", "OS (days)",
                      "Vital status", "First event", "INSS stage", "MYCN status"],
                     ["A", D(2019, 1, 1), D(2020, 1, 1), 366, 1, 731, "alive", "Relapse", "4", "amplified"],
                     ["B", D(2019, 1, 1), D(2020, 1, 1), 400, "no", 400, "dead", "none", "3", "not amplified"],
                     ["C", D(2019, 1, 1), D(2020, 1, 1), "soon", 0, 10, "dead", "", "", ""]],
    })
    data = read(path, today=TODAY)
    p = data.patients.set_index("patient_id")
    assert p.loc["A", ["efs_days", "efs_event", "os_days", "vital_status", "first_event", "stage", "mycn"]].tolist() \
        == [366.0, True, 731.0, "alive", "relapse", "4", "amplified"]
    assert p.loc["B", ["efs_event", "vital_status", "first_event", "mycn"]].tolist() == [False, "dead", "none",
                                                                                          "not amplified"]
    bad = data.issues[data.issues["code"] == "invalid-outcome"]
    assert bad[["sheet", "cell", "value"]].values.tolist() == [["Patients", "D4", "soon"]]
    ends, _ = endpoint_table(data.patients, data.therapy)
    e = ends.set_index("patient_id")
    # OS event from the vital status; EFS of C unreadable: no time
    assert e.loc["A", ["os_days", "os_event"]].tolist() == [731.0, False]
    assert e.loc["B", ["os_days", "os_event"]].tolist() == [400.0, True]
    assert math.isnan(e.loc["C", "efs_days"])


def test_outcome_issue_codes():
    # missing-diagnosis-date and inconsistent-outcome (missing-follow-up: test_endpoints_from_events)
    therapy = _therapy([("X", "relapse", "2021-01-01"), ("Y", "diagnosis", "2020-01-01"),
                        ("Y", "relapse", "2021-01-01"), ("Y", "last_follow_up", "2020-06-01")])
    _, issues = endpoint_table(None, therapy)
    assert issues["code"].tolist() == ["missing-diagnosis-date", "inconsistent-outcome"]
    assert "EFS (366 days) is longer than OS (152 days)" in issues["message"].iloc[1]


@pytest.mark.slow
def test_status_from_the_assessment():
    assessment = pd.DataFrame({
        "patient_id": ["A", "A", "B", "B", "C", "D"],
        "analyte": ["VMA", "HVA"] * 2 + ["VMA", "VMA"],
        "informative": [True, True, True, False, False, True],
        # A: HVA elevated at EOI; B: its informative VMA normal (HVA is not informative); C: not informative;
        # D: no sample near EOI
        "status_end_of_induction": ["normal", "elevated", "normal", "elevated", "elevated", "no sample"],
    })
    ends = THERAPY[THERAPY["patient_id"].isin(list("ABCD"))]
    result = outcomes_of_analysis(assessment, patients=None, therapy=ends, landmarks=["end_of_induction"])
    groups = result.patients[(result.patients["landmark"] == "end_of_induction")
                             & (result.patients["endpoint"] == "OS")].set_index("patient_id")["group"]
    assert groups.to_dict() == {"A": "positive", "B": "negative", "C": "unknown", "D": "unknown"}


@pytest.mark.parametrize("label, code", [
    ("Progression", "progression"), ("PD", "progression"), ("progressive disease", "progression"),
    ("Relapse", "relapse"), ("metastatic relapse", "relapse"), ("SMN", "second_malignancy"),
    ("Second malignant neoplasm", "second_malignancy"), ("Died", "death"), ("deceased", "death"),
    ("Date of death", "death"), ("Last contact", "last_follow_up"), ("last known alive", "last_follow_up"),
])
def test_outcome_event_synonyms(label, code):
    from markers.ingest.events import canonical_event

    assert canonical_event(label) == code
