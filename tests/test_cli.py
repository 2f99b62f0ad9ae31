"""The CLI: exact output, exit codes and Error: lines (click's CliRunner)."""

import datetime as dt
import json

import pandas as pd
import pytest
from click.testing import CliRunner
from workbooks import write_workbook

from markers.cli import cli
from markers.ingest.reader import read
from markers.report.summary import validation_dict


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def clean(tmp_path):
    return write_workbook(
        tmp_path / "clean.xlsx",
        {"Samples": [["Patient ID", "Date of birth", "Sample date", "VMA (mg/g creat)", "HVA (mg/g creat)"],
                     ["P1", dt.datetime(2022, 1, 1), dt.datetime(2024, 1, 10), 54.0, 84.0],
                     ["P1", dt.datetime(2022, 1, 1), dt.datetime(2024, 3, 10), 10.0, 20.0]]},
    )


@pytest.fixture
def messy(tmp_path):
    return write_workbook(
        tmp_path / "messy.xlsx",
        {"Samples": [["Patient ID", "Date of birth", "Sample date", "VMA (mg/g creat)", "HVA (mg/g creat)"],
                     ["P1", dt.datetime(2022, 1, 1), dt.datetime(2024, 1, 10), 54.0, 84.0],
                     ["P1", dt.datetime(2022, 1, 1), dt.datetime(2024, 2, 10), "QNS", "QNS"]]},
    )


def test_validate_clean_exits_0_with_exact_summary(runner, clean):
    result = runner.invoke(cli, ["validate", str(clean)], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output == (
        "clean.xlsx: 3 rows read = 2 kept + 0 rejected + 1 skipped\n"
        "4 measurements of 1 patients; 0 errors, 0 warnings\n"
    )


def test_validate_rejected_rows_exit_1_and_group_by_code(runner, messy):
    result = runner.invoke(cli, ["validate", str(messy)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output == (
        "messy.xlsx: 3 rows read = 1 kept + 1 rejected + 1 skipped\n"
        "2 measurements of 1 patients; 2 errors, 0 warnings\n"
        "\n"
        "error non-numeric-result (2): Result is text, not a number\n"
        "  messy.xlsx: Samples!D3, Samples!E3\n"
        "  hint: A result such as 'Cancelled' or 'QNS' has no value; nothing to do if that is right.\n"
    )


def test_validate_json_equals_library_result(runner, messy):
    """Parity: the CLI's --json is exactly the library's validation_dict."""
    result = runner.invoke(cli, ["validate", str(messy), "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    assert json.loads(result.output) == json.loads(json.dumps(validation_dict(read(messy))))
    payload = json.loads(result.output)
    assert payload["totals"]["rejected"] == 1
    assert [i["cell"] for i in payload["issues"]] == ["D3", "E3"]


def test_validate_rejects_file(runner, messy, tmp_path):
    out = tmp_path / "rejects.csv"
    result = runner.invoke(cli, ["validate", str(messy), "--rejects", str(out)], catch_exceptions=False)
    assert result.exit_code == 1
    table = pd.read_csv(out)
    assert table["code"].tolist() == ["non-numeric-result", "non-numeric-result"]
    assert table["cell"].tolist() == ["D3", "E3"]


def test_missing_file_is_one_error_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["validate", "nope.xlsx"])
    assert result.exit_code == 1
    assert result.output == "Error: nope.xlsx: file not found (looked for nope.xlsx); check the path and the spelling.\n"


def test_unknown_unit_error_line(runner, tmp_path):
    path = write_workbook(
        tmp_path / "u.xlsx",
        {"Results": [["Patient ID", "Sample date", "Test", "Result", "Unit"],
                     ["A", dt.datetime(2024, 1, 2), "VMA", 3, "furlongs"]]},
    )
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: u.xlsx Results!E2 (column 'Unit'): unknown unit 'furlongs'. Accepted: mg/g creatinine")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output


def test_bad_option_is_a_usage_error(runner, clean):
    result = runner.invoke(cli, ["validate", str(clean), "--unit", "furlongs"])
    assert result.exit_code == 2
    assert "Invalid value for '--unit'" in result.output


@pytest.mark.slow
def test_normalize_writes_csv_and_summary_to_stderr(runner, clean, tmp_path):
    out = tmp_path / "tidy.csv"
    result = runner.invoke(cli, ["normalize", str(clean), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    table = pd.read_csv(out, dtype={"patient_id": str})
    assert table[["patient_id", "sample_date", "analyte", "value"]].values.tolist() == [
        ["P1", "2024-01-10", "HVA", 84.0],
        ["P1", "2024-01-10", "VMA", 54.0],
        ["P1", "2024-03-10", "HVA", 20.0],
        ["P1", "2024-03-10", "VMA", 10.0],
    ]
    assert "clean.xlsx: 3 rows read = 2 kept + 0 rejected + 1 skipped" in result.stderr
    assert (tmp_path / "tidy.csv.provenance.json").exists()
    # normalize does not assess, so it says nothing about baselines
    assert "baseline" not in result.stderr
    # the library's notice reaches the user as a Warning: line, not a Python warning with a path.
    # Updated for issue 13: the notice names the assumed-baseline fallback and comes before "Wrote".
    result = runner.invoke(cli, ["assess", str(clean), "-o", str(tmp_path / "a.csv")], catch_exceptions=False)
    notice = ("Warning: 1 patient(s) have neither a diagnosis date nor a treatment event (P1): their first sample "
              "is taken as an assumed baseline (column baseline_assumed), so a normal first sample leaves "
              "informativeness unknown. Add a diagnosis date (patients or measurements sheet) or therapy events.\n")
    assert notice in result.stderr
    assert result.stderr.index(notice) < result.stderr.index("Wrote ")
    assert "UserWarning" not in result.stderr


def test_normalize_refuses_to_overwrite_its_input(runner, clean):
    result = runner.invoke(cli, ["normalize", str(clean), "-o", str(clean)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "overwrite" in result.output


def test_references_prints_the_active_table_with_sources(runner):
    result = runner.invoke(cli, ["references", "--reference-set", "Mayo-HVA-current"], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    # Mayo's current HVA limits (domain facts §1b, S4): <1 y 35.0, 1 y 30.0, 2-4 y 25.0, 5-9 y 15.0, 10-14 y 9.0
    table = [line.split() for line in lines[1:6]]
    assert [row[1] for row in table] == ["HVA"] * 5
    assert [float(row[-4]) for row in table] == [35.0, 30.0, 25.0, 15.0, 9.0]
    assert "Sources:" in lines
    assert any("S4" in line and "Mayo" in line for line in lines[lines.index("Sources:"):])


def test_references_unknown_set_is_one_error_line(runner):
    result = runner.invoke(cli, ["references", "--reference-set", "NOPE"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: unknown reference set 'NOPE'")
    assert result.output.count("\n") == 1


def test_assess_writes_one_row_per_patient_and_analyte(runner, clean, tmp_path):
    out = tmp_path / "summary.xlsx"
    result = runner.invoke(cli, ["assess", str(clean), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    table = pd.read_excel(out, sheet_name="assessment", engine="openpyxl")
    assert table[["patient_id", "analyte"]].values.tolist() == [["P1", "VMA"], ["P1", "HVA"]]
    # P1 is 2 years old (born 2022-01-01): ARUP 0-2 y ULN VMA 27, HVA 42 mg/g; the first sample
    # (54, 84) is 2.0x ULN for both. Updated for issue 13: with no diagnosis or therapy date the first
    # sample is an assumed baseline (labelled), elevated, so both markers are informative.
    assert table["baseline_assumed"].tolist() == [True, True]
    assert table["informative"].tolist() == [True, True]
