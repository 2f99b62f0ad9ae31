"""Codes, units, interferences and dates read for the assessment (issue 13, points 1 and 8)."""

import datetime as dt

from workbooks import write_workbook

from markers.ingest.reader import read

TODAY = dt.date(2026, 11, 25)
D = dt.datetime
DOB = D(2022, 1, 1)


def test_24_hour_concentration_code_with_creatinine_warns_24_hour(tmp_path):
    # 26706-2 is VMA [Mass/volume] in 24 hour Urine (domain facts §3, S33): with a creatinine it
    # becomes a ratio, but from a 24-hour collection, so the 24h-ratio warning applies.
    sheet = [["Patient ID", "Date of birth", "Sample date", "Test", "LOINC", "Result", "Unit",
              "Creatinine (mg/dL)"], ["A", DOB, D(2024, 1, 1), "VMA", "26706-2", 10, "mg/L", 50]]
    data = read(write_workbook(tmp_path / "c.xlsx", {"Samples": sheet}), today=TODAY)
    assert "24h-ratio" in set(data.issues["code"])
    # VMA 10 mg/L over creatinine 50 mg/dL = 0.50 g/L gives 20 mg/g (domain facts §2 worked example)
    assert data.measurements["value"].tolist() == [20.0]


def test_matching_loinc_and_unit_raise_nothing(tmp_path):
    sheet = [["Patient ID", "Date of birth", "Sample date", "Test", "LOINC", "Result", "Unit"],
             ["A", DOB, D(2024, 1, 1), "VMA", "3124-5", 10, "mg/g creat"]]
    data = read(write_workbook(tmp_path / "ok.xlsx", {"Samples": sheet}), today=TODAY)
    assert "loinc-unit-mismatch" not in set(data.issues["code"])


def test_interfering_substance_names_its_source_and_a_plain_comment_does_not_warn(tmp_path):
    sheet = [["Patient ID", "Date of birth", "Sample date", "VMA (mg/g creat)", "Comment"],
             ["A", DOB, D(2024, 1, 1), 5, "labetalol since March"],
             ["A", DOB, D(2024, 2, 1), 5, "good sample"]]
    data = read(write_workbook(tmp_path / "i.xlsx", {"Samples": sheet}), today=TODAY)
    found = data.issues[data.issues["code"] == "interfering-substance"]
    assert found["cell"].tolist() == ["E2"]
    assert "labetalol" in found["message"].iloc[0] and "[S18]" in found["message"].iloc[0]
    assert len(data.measurements) == 2  # a warning, the result is kept


def test_diagnosis_and_birth_dates_from_the_measurement_sheet(tmp_path):
    sheet = [["Patient ID", "Date of birth", "Diagnosis date", "Sample date", "VMA (mg/g creat)"],
             ["A", DOB, D(2024, 1, 3), D(2024, 1, 1), 81],
             ["A", DOB, D(2024, 1, 3), D(2024, 3, 1), 10]]
    data = read(write_workbook(tmp_path / "d.xlsx", {"Samples": sheet}), today=TODAY)
    patient = data.patients.set_index("patient_id").loc["A"]
    assert patient["diagnosis_date"] == D(2024, 1, 3)
    assert patient["date_of_birth"] == DOB
    assert patient["age_at_diagnosis_days"] == 732  # 2022-01-01 to 2024-01-03: 365 + 365 + 2
