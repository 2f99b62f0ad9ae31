"""`markers outcomes`: the CLI writes what the library returns (parity), in each format."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.pipeline import outcomes

COHORT = str(Path(__file__).parent.parent / "sample_data" / "outcomes_cohort.xlsx")


@pytest.fixture(scope="module")
def api():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return outcomes([COHORT])


@pytest.fixture(scope="module")
def cli_json(tmp_path_factory):
    target = tmp_path_factory.mktemp("out") / "outcomes.json"
    result = CliRunner().invoke(cli, ["outcomes", COHORT, "-o", str(target)], catch_exceptions=False)
    return result, json.loads(target.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_cli_reports_what_it_wrote(cli_json):
    result, _ = cli_json
    assert result.exit_code == 0
    # the generator enters no last follow-up for NB-098..NB-100: NB-098 died (both endpoints known),
    # NB-099 progressed (OS unknown), NB-100 had no event (both unknown): 2 issues
    assert "Warning: outcome data: 2 missing-follow-up" in result.stderr
    assert ": 100 patients, 6 comparisons, 2 outcome issue(s)\n" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("table", ["patients", "curves", "tests", "estimates"])
def test_cli_json_equals_api(api, cli_json, table):
    _, payload = cli_json
    written = pd.DataFrame(payload[table])
    expected = getattr(api, table).reset_index(drop=True)
    assert list(written.columns) == list(expected.columns)
    # JSON null is <NA> in the nullable boolean "event" column
    written = written.astype({c: "boolean" for c in expected.columns if str(expected[c].dtype) == "boolean"})
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)


def test_json_holds_the_three_lists_and_provenance(cli_json):
    _, payload = cli_json
    assert {"patients", "curves", "tests"} <= set(payload)
    assert payload["provenance"]["inputs"][0]["file"] == "outcomes_cohort.xlsx"
    assert {r["endpoint"] for r in payload["tests"]} == {"EFS", "OS"}
    assert {r["group"] for r in payload["curves"]} == {"all", "positive", "negative", "unknown"}


@pytest.mark.slow
def test_xlsx_has_one_sheet_per_table(tmp_path, api):
    target = tmp_path / "outcomes.xlsx"
    result = CliRunner().invoke(cli, ["outcomes", COHORT, "-o", str(target)], catch_exceptions=False)
    assert result.exit_code == 0
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames == ["patients", "curves", "tests", "estimates", "provenance"]
    tests = pd.read_excel(target, sheet_name="tests")
    assert tests["logrank_chi2"].tolist() == pytest.approx(api.tests["logrank_chi2"].tolist(), nan_ok=True)


@pytest.mark.slow
def test_csv_is_the_tests_table(tmp_path, api):
    target = tmp_path / "tests.csv"
    result = CliRunner().invoke(cli, ["outcomes", COHORT, "-o", str(target), "--landmark", "complete_remission"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    written = pd.read_csv(target)
    assert written[["endpoint", "landmark"]].values.tolist() == [
        ["EFS", "diagnosis"], ["OS", "diagnosis"], ["EFS", "complete_remission"], ["OS", "complete_remission"]]
    expected = api.tests[api.tests["landmark"] == "complete_remission"]
    assert written["hazard_ratio"].iloc[2:].tolist() == pytest.approx(expected["hazard_ratio"].tolist())


def test_unknown_landmark_is_one_error_line(tmp_path):
    result = CliRunner().invoke(cli, ["outcomes", COHORT, "-o", str(tmp_path / "x.json"), "--landmark", "remision"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: AssessmentRules milestones: 'remision' not event code(s); use codes from: diagnosis,")


@pytest.mark.slow
def test_pseudonymized_patients_table(tmp_path, api):
    target = tmp_path / "outcomes.json"
    key = tmp_path / "key.txt"
    result = CliRunner().invoke(cli, ["outcomes", COHORT, "-o", str(target), "--pseudonymize", str(key)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    payload = json.loads(target.read_text(encoding="utf-8"))
    ids = {r["patient_id"] for r in payload["patients"]}
    assert len(ids) == 100 and all(re.fullmatch(r"P-[0-9a-f]{12}", i) for i in ids)
    assert "NB-0" not in target.read_text(encoding="utf-8")
    assert "outcomes_cohort" not in target.read_text(encoding="utf-8")  # provenance names no input file
    # the statistics do not depend on the names
    written = [float("nan") if r["logrank_chi2"] is None else r["logrank_chi2"] for r in payload["tests"]]
    assert written == pytest.approx(api.tests["logrank_chi2"].tolist(), nan_ok=True)


def test_output_equal_to_an_input_is_refused_before_any_work(tmp_path):
    source = tmp_path / "cohort.xlsx"
    source.write_bytes(Path(COHORT).read_bytes())
    result = CliRunner().invoke(cli, ["outcomes", str(source), "-o", str(source)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "cohort.xlsx" in result.output
    assert source.read_bytes() == Path(COHORT).read_bytes()
