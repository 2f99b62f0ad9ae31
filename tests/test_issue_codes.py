"""Each issue code, provoked by the smallest sheet that shows it, at the cell it names."""

import datetime as dt

import pytest
from workbooks import write_workbook

from markers.ingest.issues import ISSUE_TYPES
from markers.ingest.reader import read

TODAY = dt.date(2026, 11, 25)
D = dt.datetime


WIDE = ["Patient ID", "Date of birth", "Sample date", "VMA (mg/g creat)"]
LONG = ["Patient ID", "Date of birth", "Sample date", "Test", "Result", "Unit"]
DOB = D(2020, 1, 1)

CASES = {
    "missing-patient-id": {"Samples": [WIDE, [None, DOB, D(2024, 1, 1), 5]]},
    "missing-date": {"Samples": [WIDE, ["A", DOB, None, 5]]},
    "invalid-date": {"Samples": [WIDE, ["A", DOB, "31.02.2024", 5]]},
    "sample-before-birth": {"Samples": [WIDE, ["A", DOB, D(2019, 1, 1), 5]]},
    "sample-in-future": {"Samples": [WIDE, ["A", DOB, D(2027, 1, 1), 5]]},
    "missing-result": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "VMA", None, "mg/g"]]},
    "non-numeric-result": {"Samples": [WIDE, ["A", DOB, D(2024, 1, 1), "Cancelled"]]},
    "ambiguous-number": {"Samples": [WIDE, ["A", DOB, D(2024, 1, 1), "1,234"]]},
    "negative-result": {"Samples": [WIDE, ["A", DOB, D(2024, 1, 1), -3]]},
    "unknown-analyte": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "Serotonin", 5, "mg/g"]]},
    "not-per-creatinine": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "VMA", 5, "mg/24 h"]]},
    "missing-unit": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "VMA", 5, None]]},
    "missing-creatinine": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "VMA", 5, "mg/L"]]},
    "invalid-creatinine": {"Samples": [LONG, ["A", DOB, D(2024, 1, 1), "Creatinine", 5, "mg/g creat"]]},
    "invalid-patient": {"Patients": [["Patient ID", "Sex", "Date of birth"], [None, "M", DOB]]},
    "invalid-event": {"Therapy": [["Patient ID", "Event", "Date"], ["A", "Surgery", None]]},
    "dilute-urine": {"Samples": [WIDE + ["Creatinine (mmol/L)"], ["A", DOB, D(2024, 1, 1), 5, 0.5]]},
    "duplicate-result": {"Samples": [WIDE, ["A", DOB, D(2024, 1, 1), 5], ["A", DOB, D(2024, 1, 1), 5]]},
    "conflicting-duplicate": {"Samples": [WIDE, ["A", DOB, D(2024, 1, 1), 5], ["A", DOB, D(2024, 1, 1), 6]]},
    "no-age": {"Samples": [["Patient ID", "Sample date", "VMA (mg/g creat)"], ["A", D(2024, 1, 1), 5]]},
    "unknown-patient": {
        "Samples": [WIDE, ["B", DOB, D(2024, 1, 1), 5]],
        "Patients": [["Patient ID", "Sex", "Date of birth"], ["A", "M", DOB]],
    },
    "conflicting-patient": {"Patients": [["Patient ID", "Sex", "Date of birth"], ["A", "M", DOB], ["A", "F", DOB]]},
    "24h-ratio": {"Samples": [["Patient ID", "Date of birth", "Sample date", "Test", "LOINC", "Result", "Unit"],
                              ["A", DOB, D(2024, 1, 1), "VMA", "30571-4", 5, "mg/g creat"]]},
    # 14948-4 is VMA/creatinine [Molar ratio] (domain facts §3, S34), with a mass-ratio unit
    "loinc-unit-mismatch": {"Samples": [["Patient ID", "Date of birth", "Sample date", "Test", "LOINC", "Result", "Unit"],
                                        ["A", DOB, D(2024, 1, 1), "VMA", "14948-4", 5, "mg/g creat"]]},
    # L-DOPA falsely increases HVA (Mayo HVA test page [S4])
    "interfering-substance": {"Samples": [WIDE + ["Medication"], ["A", DOB, D(2024, 1, 1), 5, "L-DOPA 50 mg"]]},
    "unrecognised-sheet": {"Notes": [["remember to call the lab"], ["and the ward"]]},
    "unrecognised-event": {"Therapy": [["Patient ID", "Event", "Date"], ["A", "Birthday party", D(2024, 1, 1)]]},
    "invalid-outcome": {"Patients": [["Patient ID", "Date of birth", "EFS (days)"], ["A", DOB, "about a year"]]},
}

# raised by the outcome analysis, not by reading (provoked in tests/test_outcomes.py)
OUTCOME_CODES = {"missing-follow-up", "missing-diagnosis-date", "inconsistent-outcome"}
# provoked by a hand-written xlsx in tests/test_formula_cells.py (openpyxl always writes a value)
FILE_CODES = {"formula-without-value"}

# where each issue is reported (sheet!cell)
WHERE = {
    "missing-patient-id": "Samples!A2", "missing-date": "Samples!C2", "invalid-date": "Samples!C2",
    "sample-before-birth": "Samples!C2", "sample-in-future": "Samples!C2", "missing-result": "Samples!E2",
    "non-numeric-result": "Samples!D2", "ambiguous-number": "Samples!D2", "negative-result": "Samples!D2",
    "unknown-analyte": "Samples!D2", "not-per-creatinine": "Samples!F2", "missing-unit": "Samples!F2",
    "missing-creatinine": "Samples!E2", "invalid-creatinine": "Samples!E2", "invalid-patient": "Patients!A2",
    "invalid-event": "Therapy!C2", "dilute-urine": "Samples!D2", "duplicate-result": "Samples!D3",
    "conflicting-duplicate": "Samples!D2", "no-age": "Samples!C2", "unknown-patient": "Samples!D2",
    "conflicting-patient": "Patients!A3", "24h-ratio": "Samples!D2", "loinc-unit-mismatch": "Samples!G2",
    "interfering-substance": "Samples!E2", "unrecognised-sheet": "Notes!1",
    "unrecognised-event": "Therapy!B2", "invalid-outcome": "Patients!C2",
}


def test_every_code_has_a_case():
    assert set(CASES) | OUTCOME_CODES | FILE_CODES == set(ISSUE_TYPES)
    assert set(CASES) == set(WHERE)


@pytest.mark.parametrize("code", sorted(CASES))
def test_issue_code(tmp_path, code):
    data = read(write_workbook(tmp_path / "case.xlsx", CASES[code]), today=TODAY)
    found = data.issues[data.issues["code"] == code]
    assert len(found) >= 1, data.issues[["code", "cell"]]
    first = found.iloc[0]
    assert f"{first['sheet']}!{first['cell']}" == WHERE[code]
    assert first["severity"] == ISSUE_TYPES[code].severity
    assert first["file"] == "case.xlsx"
    counts = data.counts()
    assert (counts["read"] == counts["kept"] + counts["rejected"] + counts["skipped"]).all()
    if ISSUE_TYPES[code].severity == "error" and code not in ("invalid-event",):
        rows = data.rows.set_index(["sheet", "row"])
        assert rows.loc[(first["sheet"], int(first["row"])), "status"] == "rejected"


def test_age_from_an_age_column(tmp_path):
    path = write_workbook(tmp_path / "age.xlsx", {"Samples": [["Patient ID", "Sample date", "Age (months)",
                                                               "VMA (mg/g creat)"], ["A", D(2024, 1, 1), 14, 5]]})
    data = read(path, today=TODAY)
    # 14 months × 30.4375 days = 426.125 -> 426 completed days
    assert data.measurements["age_days"].tolist() == [426]
    assert "no-age" not in set(data.issues["code"])
