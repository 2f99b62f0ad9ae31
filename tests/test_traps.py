"""Smaller traps met reading real exports: a separate comparator column, local unit columns, several ID
columns, total metanephrines, the sample-date hint."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from markers.errors import MissingColumnError
from markers.ingest.mapping import analyte_from_text, map_columns
from markers.ingest.reader import read

TODAY = dt.date(2026, 1, 1)


def _csv(tmp_path, text, name="lab.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_separate_comparator_column_is_joined_to_its_result(tmp_path):
    path = _csv(tmp_path, "Patient ID,Sample date,Test,Comparator,Result,Local Unit\n"
                          "P1,2024-03-05,VMA,<,0.5,mg/g creat\n"
                          "P1,2024-03-05,HVA,below,2,mg/g creat\n"
                          "P1,2024-03-06,VMA,>=,40,mg/g creat\n"
                          "P1,2024-03-06,HVA,,7.5,mg/g creat\n")
    m = read(path, today=TODAY).measurements
    got = m[["sample_date", "analyte", "value", "censor", "censor_inclusive", "source_value"]].astype(str).values.tolist()
    assert got == [["2024-03-05", "HVA", "2.0", "<", "False", "<2"],
                   ["2024-03-05", "VMA", "0.5", "<", "False", "<0.5"],
                   ["2024-03-06", "HVA", "7.5", "", "False", "7.5"],
                   ["2024-03-06", "VMA", "40.0", ">", "True", ">=40"]]


@pytest.mark.parametrize("header", ["Local Unit", "Einheit", "Lab unit", "Reported unit"])
def test_unit_column_spellings(header):
    roles = map_columns(pd.Series({0: "Patient ID", 1: "Test", 2: "Result", 3: header})).roles
    assert roles[3] == "unit"


@pytest.mark.parametrize(("headers", "chosen"), [
    (["STUDYID", "USUBJID", "SUBJID"], "USUBJID"),
    (["Study ID", "MRN", "record_id"], "record_id"),
    (["MRN", "Patient ID"], "Patient ID"),
    (["Study ID", "MRN"], "MRN"),
])
def test_the_per_person_id_column_wins(headers, chosen):
    column_map = map_columns(pd.Series(dict(enumerate([*headers, "VMA (mg/g)"]))))
    position = column_map.column("patient_id")
    assert column_map.headers[position] == chosen


def test_studyid_never_makes_all_rows_one_patient(tmp_path):
    path = _csv(tmp_path, "STUDYID,SUBJID,Sample date,VMA (mg/g creat)\n"
                          "NBL01,001,2024-03-05,10\nNBL01,002,2024-03-05,12\nNBL01,003,2024-03-05,14\n")
    m = read(path, today=TODAY).measurements
    assert m["patient_id"].tolist() == ["001", "002", "003"]


@pytest.mark.parametrize("text", ["Total metanephrines", "Metanephrines, total", "Metanephrines (urine)",
                                  "Gesamt-Metanephrine", "Total catecholamines"])
def test_totals_are_not_their_single_analytes(text):
    assert analyte_from_text(text) is None


def test_single_metanephrine_still_recognised():
    assert analyte_from_text("Metanephrine") == "MN"
    assert analyte_from_text("VMA/Creat Ur") == "VMA"


def test_missing_sample_date_hint_names_sample_date(tmp_path):
    path = _csv(tmp_path, "Patient ID,VMA (mg/g creat)\nP1,10\n")
    with pytest.raises(MissingColumnError, match='"My header" = "sample_date"'):
        read(path, today=TODAY)


def test_a_run_without_measurements_fails_loud_and_says_what_it_saw(tmp_path):
    from click.testing import CliRunner

    from markers.cli import cli

    path = _csv(tmp_path, "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM\nNBL01,AE,NBL01-001,1,Nausea\n")
    result = CliRunner().invoke(cli, ["normalize", str(path), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no measurements found in lab.csv. Seen: lab.csv: ")
    assert "no header row recognised (first row 'STUDYID', 'DOMAIN', 'USUBJID', 'AESEQ', 'AETERM')" in result.output
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("first_row", [
    "VMA,Vanillylmandelic acid,Vanillylmandelate,mg/g creat,0-27",
    "HVA,Homovanillic acid,Homovanillate,12.5,2024-03-05",
])
def test_a_first_row_of_data_is_never_taken_for_a_header(first_row):
    from markers.ingest.header_row import find_header

    cells = pd.DataFrame([first_row.split(","), ["HVA", "Homovanillic acid", "Homovanillate", "mg/g creat", "0-42"]],
                         index=[1, 2], dtype=object)
    assert find_header(cells) is None


def test_a_header_with_units_in_brackets_is_still_a_header():
    from markers.ingest.header_row import find_header

    cells = pd.DataFrame([["Patient ID", "Sample date", "VMA (mg/g creat)"], ["P1", "2024-03-05", "12"]],
                         index=[1, 2], dtype=object)
    assert find_header(cells)[0] == 1
