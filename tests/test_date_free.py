"""Date-free tables (age at sample, days since diagnosis; no calendar dates), as data-commons exports give them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from markers.errors import InputFormatError
from markers.ingest.reader import read
from markers.pipeline import analyse, write_report

TODAY = dt.date(2026, 1, 1)
DATE_FREE = ("subject_id,sex,age_at_collection_days,days_from_diagnosis,lab_test,result,unit\n"
             "C1,F,400,0,VMA,60,mg/g creat\n"
             "C1,F,430,30,VMA,20,mg/g creat\n"
             "C2,M,2000,,HVA,<5,mg/g creat\n"
             "C3,M,,,VMA,9,mg/g creat\n")


def _write(tmp_path, text, name="commons.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_date_free_table_reads_with_ages_and_days(tmp_path):
    data = read(_write(tmp_path, DATE_FREE), today=TODAY)
    m = data.measurements
    got = m[["patient_id", "analyte", "value", "censor", "age_days"]].astype(str).values.tolist()
    assert got == [["C1", "VMA", "60.0", "", "400"], ["C1", "VMA", "20.0", "", "430"], ["C2", "HVA", "5.0", "<", "2000"]]
    days = m["days_since_diagnosis"]
    assert days.iloc[:2].tolist() == [0, 30] and pd.isna(days.iloc[2])
    assert m["sample_date"].isna().all()
    # C3 has neither an age nor a day: rejected, located at its age cell (column C, line 5)
    assert data.issues[["code", "cell"]].values.tolist() == [["missing-date", "C5"]]


def test_flags_use_the_age_and_the_timeline_the_days(tmp_path):
    with pytest.warns(UserWarning, match="3 results without calendar dates"):
        analysis = analyse(_write(tmp_path, DATE_FREE), today=TODAY)
    m = analysis.measurements
    # ARUP 3018863 band 0-2 y (400 and 430 days): VMA ULN 27 mg/g -> 60/27 = 2.22 moderate, 20/27 normal;
    # 2000 days = 5.5 y, band 3-5 y: HVA ULN 22 -> "<5" is below it: normal
    assert m["uln"].tolist() == [27.0, 27.0, 22.0]
    assert m["grade"].tolist() == ["moderate", "normal", "normal"]
    assert m["day"].astype(object).where(m["day"].notna(), None).tolist() == [0, 30, None]


def test_dates_follow_from_age_when_the_birth_date_is_known(tmp_path):
    text = "Patient ID,Date of birth,Age at sample (days),VMA (mg/g creat)\nP1,2020-01-01,366,12\n"
    m = read(_write(tmp_path, text), today=TODAY).measurements
    # 2020 is a leap year: 366 days after 2020-01-01 is 2021-01-01
    assert m["sample_date"].tolist() == [pd.Timestamp("2021-01-01")]
    assert m["age_days"].tolist() == [366]


def test_mixed_dated_and_date_free_sources_are_refused(tmp_path):
    dated = _write(tmp_path, "Patient ID,Sample date,VMA (mg/g creat)\nP9,2024-03-05,10\n", name="dated.csv")
    free = _write(tmp_path, DATE_FREE)
    with pytest.raises(InputFormatError, match="commons.csv gives results without calendar dates .* dated.csv"):
        read([dated, free], today=TODAY)


def test_the_report_of_a_date_free_table_is_written(tmp_path):
    # once refused ("the report needs sample dates"): now drawn on days since diagnosis
    with pytest.warns(UserWarning, match="3 results without calendar dates"):
        _, pages = write_report(_write(tmp_path, DATE_FREE), tmp_path / "r.pdf", today=TODAY)
    # cover, cohort summary, patient-level status, 3 cohort figures (spaghetti, normalization, swimmer),
    # C1 and C2 (C2 has an age but no day: drawn from its first sample), appendix
    assert pages == 9
