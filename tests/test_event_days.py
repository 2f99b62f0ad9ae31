"""Date-free therapy and disease events read with their day since diagnosis (``event_day``).

Fixtures by hand, in the Pediatric Cancer Data Commons layout, where every time point is the subject's
age in days (``age_at_disease_phase``) and the diagnosis is the disease phase "Initial Diagnosis".
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from markers.ingest.reader import read

TODAY = dt.date(2026, 1, 1)
RESULTS = ("subject_id,age_at_collection_days,days_from_diagnosis,lab_test,result,unit\n"
           "C1,400,0,VMA,60,mg/g creat\n")


def _read(tmp_path, events: str):
    (tmp_path / "results.csv").write_text(RESULTS, encoding="utf-8")
    (tmp_path / "events.csv").write_text(events, encoding="utf-8")
    return read([tmp_path / "results.csv", tmp_path / "events.csv"], today=TODAY)


def test_ages_at_the_events_minus_the_age_at_diagnosis(tmp_path):
    data = _read(tmp_path, "subject_id,disease_phase,age_at_disease_phase\n"
                           "C1,Initial Diagnosis,400\nC1,Start of induction,404\nC1,Surgery,490\nC1,Relapse,1130\n")
    t = data.therapy
    # 404 - 400 = 4, 490 - 400 = 90, 1130 - 400 = 730
    assert t[["event", "event_day"]].values.tolist() == [
        ["diagnosis", 0], ["therapy_start", 4], ["surgery", 90], ["relapse", 730]]
    assert t["event_date"].isna().all() and t["source_cell"].tolist() == ["B2", "B3", "B4", "B5"]
    assert data.issues.empty


def test_days_since_diagnosis_are_taken_as_written(tmp_path):
    data = _read(tmp_path, "Patient ID,Event,Days since diagnosis\nC1,Surgery,95\nC1,Complete remission,210\n")
    assert data.therapy[["event", "event_day"]].values.tolist() == [["surgery", 95], ["complete_remission", 210]]


def test_an_age_at_diagnosis_column_is_used_where_given(tmp_path):
    data = _read(tmp_path, "subject_id,disease_phase,age_at_course_start,age at diagnosis (days)\n"
                           "C1,Start of induction,1505,1500\n")
    assert data.therapy["event_day"].tolist() == [5]


def test_rows_without_a_day_are_rejected_at_their_cell(tmp_path):
    data = _read(tmp_path, "subject_id,disease_phase,age_at_disease_phase\n"
                           "C1,Initial Diagnosis,400\nC1,Relapse,\nC2,Surgery,100\n")
    assert data.therapy[["patient_id", "event", "event_day"]].values.tolist() == [["C1", "diagnosis", 0]]
    issues = data.issues[["code", "cell", "message"]].values.tolist()
    assert issues == [
        ["invalid-event", "C3", "Event without an age in days"],
        ["invalid-event", "C4", "Event age given, but no age at diagnosis for the patient (an 'Initial Diagnosis' "
                                "row or column)"]]
    rows = data.rows[data.rows["file"] == "events.csv"]
    assert rows["status"].value_counts().to_dict() == {"skipped": 1, "kept": 1, "rejected": 2}


def test_a_dated_therapy_table_keeps_no_event_day(tmp_path):
    (tmp_path / "t.csv").write_text("Patient ID,Sample date,VMA (mg/g creat)\nP1,2024-03-05,10\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("Patient ID,Event,Event date\nP1,Surgery,2024-04-01\n", encoding="utf-8")
    t = read([tmp_path / "t.csv", tmp_path / "e.csv"], today=TODAY).therapy
    assert "event_day" not in t.columns
    assert t["event_date"].tolist() == [pd.Timestamp("2024-04-01")]
