"""Ingestion: real workbooks and CSVs in, tidy tables and accounted rows out.

Expected values are worked out by hand in comments (molar masses from
data/analytes.csv: VMA 198.174, HVA 182.175, creatinine 113.120 g/mol).
"""

import datetime as dt

import pandas as pd
import pytest
from workbooks import write_workbook

from markers.errors import AmbiguousDateError, MissingColumnError, UnknownUnitError
from markers.ingest.reader import read

TODAY = dt.date(2026, 11, 25)


def accounting_holds(data):
    counts = data.counts()
    assert (counts["read"] == counts["kept"] + counts["rejected"] + counts["skipped"]).all()
    return counts


@pytest.fixture
def study(tmp_path):
    path = write_workbook(
        tmp_path / "study.xlsx",
        {
            "Samples": [
                ["NB study — synthetic"],
                [],
                ["Study ID", "Sample date", "VMA (mg/g creat)", "HVA (mmol/mol creat)", "Creatinine (mmol/L)", "Comment"],
                ["NB-001", dt.datetime(2024, 3, 1), 80.5, 50.0, 5.0, "diagnosis"],
                ["0042", dt.datetime(2024, 3, 2), "<0.5", "QNS", 0.9, None],
                [None, dt.datetime(2024, 3, 2), 3, 4, 3, None],
                ["NB-001", dt.datetime(2024, 3, 1), 80.5, 50.0, 5.0, "diagnosis"],
                ["NB-001", dt.datetime(2024, 4, 1), "12,5", "45.2 H", 6.0, None],
            ],
            "Patients": [
                ["Study ID", "Sex", "Date of birth", "Date of diagnosis"],
                ["NB-001", "M", dt.datetime(2022, 1, 1), dt.datetime(2024, 2, 28)],
                ["0042", "female", dt.datetime(2020, 5, 5), dt.datetime(2024, 2, 28)],
            ],
            "Treatment": [
                ["Study ID", "Event", "Date"],
                ["NB-001", "Start of induction chemotherapy", dt.datetime(2024, 3, 3)],
                ["NB-001", "Surgery (resection)", dt.datetime(2024, 6, 3)],
            ],
        },
    )
    return path


def test_wide_workbook_measurements(study):
    data = read(study, today=TODAY)
    m = data.measurements.set_index(["patient_id", "sample_date", "analyte"])
    # HVA 50 mmol/mol -> mg/g: 50 * 182.175 / 113.120 = 80.5225...
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "HVA"), "value"] == pytest.approx(50 * 182.175 / 113.120)
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "VMA"), "value"] == 80.5
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "VMA"), "source_cell"] == "C4"
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "VMA"), "source_sheet"] == "Samples"
    # "12,5" typed as text in a workbook is a decimal comma; "45.2 H" carries a lab flag
    assert m.loc[("NB-001", pd.Timestamp("2024-04-01"), "VMA"), "value"] == 12.5
    assert m.loc[("NB-001", pd.Timestamp("2024-04-01"), "HVA"), "value"] == pytest.approx(45.2 * 182.175 / 113.120)
    # censored results keep their censoring mark and the limit as value
    censored = m.loc[("0042", pd.Timestamp("2024-03-02"), "VMA")]
    assert (censored["censor"], censored["value"], censored["source_value"]) == ("<", 0.5, "<0.5")
    # IDs are text: 0042 stays 0042; sex normalised
    assert censored["sex"] == "F"
    # age from the patients sheet: 2020-05-05 -> 2024-03-02 = 1397 days
    assert censored["age_days"] == (dt.date(2024, 3, 2) - dt.date(2020, 5, 5)).days == 1397
    assert len(data.measurements) == 5  # 2 + 1 + (duplicate row collapsed) + 2


def test_wide_workbook_issues_and_accounting(study):
    data = read(study, today=TODAY)
    issues = data.issues
    got = sorted(zip(issues["code"], issues["sheet"], issues["cell"], strict=True))
    assert got == sorted(
        [
            ("missing-patient-id", "Samples", "A6"),
            ("non-numeric-result", "Samples", "D5"),
            ("dilute-urine", "Samples", "C5"),
            ("duplicate-result", "Samples", "C7"),
            ("duplicate-result", "Samples", "D7"),
        ]
    )
    rows = data.rows.set_index(["sheet", "row"])
    assert rows.loc[("Samples", 1), "reason"] == "title"
    assert rows.loc[("Samples", 2), "reason"] == "blank"
    assert rows.loc[("Samples", 3), "reason"] == "header"
    assert rows.loc[("Samples", 5), "status"] == "kept"  # VMA kept although HVA was rejected
    assert rows.loc[("Samples", 6), "status"] == "rejected"
    assert rows.loc[("Samples", 7), ["status", "reason"]].tolist() == ["skipped", "duplicate-result"]
    counts = accounting_holds(data).set_index("file")
    # Samples: 8 rows (3 skipped above data, 1 duplicate skipped, 3 kept, 1 rejected)
    # Patients: 1 header + 2 kept; Treatment: 1 header + 2 kept -> 14 read, 7 kept, 1 rejected, 6 skipped
    assert counts.loc["study.xlsx"].tolist() == [14, 7, 1, 6]


def test_patients_and_therapy_tables(study):
    data = read(study, today=TODAY)
    patients = data.patients.set_index("patient_id")
    assert patients.loc["NB-001", "date_of_birth"] == pd.Timestamp("2022-01-01")
    assert patients.loc["NB-001", "age_at_diagnosis_days"] == (dt.date(2024, 2, 28) - dt.date(2022, 1, 1)).days
    assert data.therapy["event"].tolist() == ["therapy_start", "surgery"]
    assert data.therapy["event_label"].tolist() == ["Start of induction chemotherapy", "Surgery (resection)"]


def test_mmol_per_mol_output(study):
    data = read(study, unit="mmol/mol", today=TODAY)
    m = data.measurements.set_index(["patient_id", "sample_date", "analyte"])
    # VMA 80.5 mg/g -> 80.5 * 113.120 / 198.174 mmol/mol; HVA given in mmol/mol stays 50
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "VMA"), "value"] == pytest.approx(80.5 * 113.120 / 198.174)
    assert m.loc[("NB-001", pd.Timestamp("2024-03-01"), "HVA"), "value"] == pytest.approx(50.0)
    assert set(data.measurements["unit"]) == {"mmol/mol creatinine"}


@pytest.fixture
def lis_export(tmp_path):
    """A long LIS export: title lines, LOINC codes, flag and reference-range columns, a footer."""
    return write_workbook(
        tmp_path / "lis.xlsx",
        {
            "Report": [
                ["Children's Hospital Laboratory — cumulative report"],
                ["Printed 2024-05-01"],
                [],
                ["MRN", "DOB", "Collected", "Test", "LOINC", "Result", "Units", "Flag", "Reference range"],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 1), "VMA/Creatinine", "3124-5", "45.2", "mg/g Cr", "H", "0-27"],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 1), "HVA/Creatinine", "11146-8", "<1.0", "mg/g Cr", "", "0-42"],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 8), "Vanillylmandelic acid", "", "10", "mg/L", "", ""],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 8), "Creatinine, urine", "2161-8", "50", "mg/dL", "", ""],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 9), "VMA 24 h", "3122-9", "4.1", "mg/24 h", "", ""],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 9), "Homovanillic acid", "", "Cancelled", "mg/g Cr", "", ""],
                ["12345", dt.datetime(2021, 6, 1), dt.datetime(2024, 3, 9), "Serotonin", "", "12", "mg/g Cr", "", ""],
                [],
                ["End of report"],
            ]
        },
    )


def test_long_lis_export(lis_export):
    data = read(lis_export, today=TODAY)
    m = data.measurements.set_index(["sample_date", "analyte"])
    assert m.loc[(pd.Timestamp("2024-03-01"), "VMA"), "value"] == 45.2
    assert m.loc[(pd.Timestamp("2024-03-01"), "HVA"), ["censor", "value"]].tolist() == ["<", 1.0]
    # VMA 10 mg/L with creatinine 50 mg/dL (0.50 g/L) -> 20 mg/g
    assert m.loc[(pd.Timestamp("2024-03-08"), "VMA"), "value"] == pytest.approx(20.0)
    assert m.loc[(pd.Timestamp("2024-03-08"), "VMA"), "creatinine_mmol_l"] == pytest.approx(500 / 113.120)
    assert len(data.measurements) == 3
    codes = dict(zip(data.issues["cell"], data.issues["code"], strict=True))
    assert codes == {"G9": "not-per-creatinine", "F10": "non-numeric-result", "D11": "unknown-analyte"} | {
        k: v for k, v in codes.items() if v == "no-age"
    }
    rows = data.rows.set_index("row")
    assert rows.loc[8, ["status", "reason"]].tolist() == ["kept", "creatinine"]
    assert rows.loc[13, "reason"] == "footer"
    assert rows.loc[[1, 2], "reason"].tolist() == ["title", "title"]
    counts = accounting_holds(data)
    # 13 rows: kept 5..8 (4), rejected 9..11 (3), skipped 1-4, 12, 13 (6)
    assert counts.iloc[0][["read", "kept", "rejected", "skipped"]].tolist() == [13, 4, 3, 6]
    # the date of birth on the rows gives the age: 2021-06-01 -> 2024-03-01 = 1004 days
    assert m.loc[(pd.Timestamp("2024-03-01"), "VMA"), "age_days"] == 1004
    assert data.patients["patient_id"].tolist() == ["12345"]


def test_european_csv_cp1252(tmp_path):
    path = tmp_path / "export.csv"
    text = (
        "Labor XY — Befundexport\r\n"
        "Patient ID;Birth date;Collection date;Test;LOINC;Result;Unit;Flag;Reference range\r\n"
        "NB-007;01.02.2019;13.03.2024;Vanillylmandelic acid;14948-4;8,4;µmol/mmol creat;H;<7,4\r\n"
        "NB-007;01.02.2019;13.03.2024;Homovanillic acid;22708-2;<0,5;µmol/mmol creat;;<13,7\r\n"
        "\r\nEnd of report\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    data = read(path, today=TODAY)
    m = data.measurements.set_index("analyte")
    # 8.4 µmol/mmol VMA -> 8.4 * 198.174 / 113.120 mg/g
    assert m.loc["VMA", "value"] == pytest.approx(8.4 * 198.174 / 113.120)
    assert m.loc["VMA", "source_unit"] == "µmol/mmol creat"
    assert m.loc["HVA", ["censor", "value"]].tolist() == ["<", pytest.approx(0.5 * 182.175 / 113.120)]
    assert m.loc["VMA", "sample_date"] == pd.Timestamp("2024-03-13")
    assert m.loc["VMA", "source_cell"] == "F3"
    assert m.loc["VMA", "source_sheet"] == ""
    counts = accounting_holds(data)
    assert counts.iloc[0][["read", "kept", "rejected", "skipped"]].tolist() == [6, 2, 0, 4]


def test_unknown_unit_stops_with_cell_and_spellings(tmp_path):
    path = write_workbook(
        tmp_path / "u.xlsx",
        {"Results": [["Patient ID", "Sample date", "Test", "Result", "Unit"],
                     ["A", dt.datetime(2024, 1, 2), "VMA", 3, "furlongs"]]},
    )
    with pytest.raises(UnknownUnitError) as err:
        read(path, today=TODAY)
    message = str(err.value)
    assert message.startswith("u.xlsx Results!E2 (column 'Unit'): unknown unit 'furlongs'. Accepted: mg/g creatinine")
    assert "[units]" in message


def test_unit_alias_from_config(tmp_path):
    path = write_workbook(
        tmp_path / "u.xlsx",
        {"Results": [["Pat.-Nr.", "Abnahme", "Test", "Result", "Unit"],
                     ["A", dt.datetime(2024, 1, 2), "VMS", 3, "mg/g Krea"]]},
    )
    config = tmp_path / "markers.toml"
    config.write_text(
        '[columns]\n"Pat.-Nr." = "patient_id"\n"Abnahme" = "sample_date"\n'
        '[analytes]\n"VMS" = "VMA"\n[units]\n"mg/g Krea" = "mg/g creatinine"\n',
        encoding="utf-8",
    )
    data = read(path, config=config, today=TODAY)
    assert data.measurements[["patient_id", "analyte", "value"]].values.tolist() == [["A", "VMA", 3.0]]


def test_missing_date_column_is_a_clear_error(tmp_path):
    path = write_workbook(tmp_path / "m.xlsx", {"Data": [["Patient ID", "VMA (mg/g)", "HVA (mg/g)"], ["A", 3, 4]]})
    with pytest.raises(MissingColumnError) as err:
        read(path, today=TODAY)
    assert str(err.value).startswith("m.xlsx sheet 'Data': no sample date column was found")


def test_ambiguous_dates_stop_and_day_first_resolves(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("Patient ID,Sample date,VMA (mg/g creat)\nA,05/03/2024,10\nA,06/04/2024,11\n", encoding="utf-8")
    with pytest.raises(AmbiguousDateError):
        read(path, today=TODAY)
    day_first = read(path, day_first=True, today=TODAY).measurements["sample_date"].tolist()
    month_first = read(path, day_first=False, today=TODAY).measurements["sample_date"].tolist()
    assert day_first == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-04-06")]
    assert month_first == [pd.Timestamp("2024-05-03"), pd.Timestamp("2024-06-04")]


def test_date_order_inferred_from_a_deciding_value(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("Patient ID,Sample date,VMA (mg/g creat)\nA,05/03/2024,10\nA,25/03/2024,11\n", encoding="utf-8")
    dates = read(path, today=TODAY).measurements["sample_date"].tolist()
    assert dates == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-25")]


def test_sample_before_birth_and_in_future_are_rejected(tmp_path):
    path = write_workbook(
        tmp_path / "b.xlsx",
        {"Samples": [["Patient ID", "Date of birth", "Sample date", "VMA (mg/g creat)"],
                     ["A", dt.datetime(2020, 1, 1), dt.datetime(2019, 12, 31), 10],
                     ["A", dt.datetime(2020, 1, 1), dt.datetime(2027, 1, 1), 10],
                     ["A", dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1), 10]]},
    )
    data = read(path, today=TODAY)
    assert dict(zip(data.issues["cell"], data.issues["code"], strict=True)) == {
        "C2": "sample-before-birth", "C3": "sample-in-future"}
    assert data.measurements["age_days"].tolist() == [0]  # sampled on the day of birth: age 0


def test_conflicting_duplicates_are_kept_and_flagged(tmp_path):
    path = write_workbook(
        tmp_path / "c.xlsx",
        {"Samples": [["Patient ID", "Sample date", "VMA (mg/g creat)"],
                     ["A", dt.datetime(2024, 1, 1), 10],
                     ["A", dt.datetime(2024, 1, 1), 12]]},
    )
    data = read(path, today=TODAY)
    assert data.measurements["value"].tolist() == [10.0, 12.0]
    conflict = data.issues[data.issues["code"] == "conflicting-duplicate"]
    assert conflict["cell"].tolist() == ["C2", "C3"]
    assert (conflict["severity"] == "warning").all()


def test_several_files_at_once(study, lis_export):
    data = read([study, lis_export], today=TODAY)
    assert set(data.measurements["source_file"]) == {"study.xlsx", "lis.xlsx"}
    assert data.files["file"].tolist() == ["study.xlsx", "lis.xlsx"]
    assert data.files["sha256"].str.len().tolist() == [64, 64]
    accounting_holds(data)


def test_a_boolean_and_a_one_in_one_column_keep_their_own_text(tmp_path):
    """Distinct-value shortcuts must not merge True with 1.0 (they hash alike)."""
    path = write_workbook(
        tmp_path / "b.xlsx",
        {"Samples": [["Patient ID", "Sample date", "Test", "Result", "Unit"],
                     ["A", dt.datetime(2024, 1, 2), "VMA", True, "mg/g creat"],
                     ["A", dt.datetime(2024, 1, 1), "VMA", 1.0, "mg/g creat"]]},
    )
    data = read(path, today=TODAY)
    # cells are read as Excel shows them: the number 1.0 as "1", the boolean as "true"
    assert data.measurements["source_value"].tolist() == ["1"]
    rejected = data.issues[data.issues["code"] == "non-numeric-result"]
    assert rejected[["cell", "value"]].values.tolist() == [["D2", "true"]]


def test_cell_text_keeps_true_and_one_apart():
    from markers.readers.cells import cell_ids, cell_text

    cells = pd.Series([True, 1.0, " x ", None, 0.0, False], dtype=object)
    assert cell_text(cells).tolist() == ["True", "1.0", "x", "", "0.0", "False"]
    assert cell_ids(pd.Series([1.0, True, "0042", 42.0], dtype=object)).tolist() == ["1", "True", "0042", "42"]


def test_measurements_come_in_patient_order_and_scattered_duplicates_are_found(tmp_path):
    """Rows in any order come out by patient, date, analyte; duplicates far apart in the sheet still meet."""
    path = write_workbook(
        tmp_path / "shuffled.xlsx",
        {"Samples": [["Patient ID", "Sample date", "Test", "Result", "Unit"],
                     ["B", dt.datetime(2024, 1, 5), "VMA", 7, "mg/g creat"],     # row 2
                     ["A", dt.datetime(2024, 2, 1), "VMA", 3, "mg/g creat"],     # row 3
                     ["A", dt.datetime(2024, 1, 1), "VMA", 10, "mg/g creat"],    # row 4
                     ["B", dt.datetime(2024, 1, 5), "HVA", 9, "mg/g creat"],     # row 5
                     ["A", dt.datetime(2024, 1, 1), "HVA", 4, "mg/g creat"],     # row 6
                     ["A", dt.datetime(2024, 1, 1), "VMA", 10, "mg/g creat"],    # row 7: exact duplicate of row 4
                     ["B", dt.datetime(2024, 1, 5), "VMA", 8, "mg/g creat"]]},   # row 8: conflicts with row 2
    )
    data = read(path, today=TODAY)
    m = data.measurements
    # patient A before B; by date; HVA before VMA on the same day; row 7 collapsed into row 4
    assert list(zip(m["patient_id"], m["sample_date"].dt.strftime("%m-%d"), m["analyte"], m["source_row"],
                    strict=True)) == [
        ("A", "01-01", "HVA", 6), ("A", "01-01", "VMA", 4), ("A", "02-01", "VMA", 3),
        ("B", "01-05", "HVA", 5), ("B", "01-05", "VMA", 2), ("B", "01-05", "VMA", 8)]
    assert list(m.index) == list(range(6))
    # warnings in sheet order, as the sheet reads; no date of birth: one no-age warning per
    # patient, at that patient's first row in the sheet (B on row 2, A on row 3)
    assert list(zip(data.issues["cell"], data.issues["code"], strict=True)) == [
        ("D7", "duplicate-result"), ("D2", "conflicting-duplicate"), ("D8", "conflicting-duplicate"),
        ("D2", "no-age"), ("D3", "no-age")]
    rows = data.rows.set_index("row")
    assert (rows.loc[7, "status"], rows.loc[7, "reason"]) == ("skipped", "duplicate-result")
    accounting_holds(data)
