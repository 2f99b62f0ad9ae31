"""Round trips: what markers writes as FHIR, ADaM ADLB and Parquet/Feather, markers reads back to the same tidy table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.ingest.reader import read
from markers.pipeline import write_analysis_table
from markers.readers.formats.sdtm import sas_date

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"]
RESULT = ["patient_id", "sample_date", "analyte", "value", "censor", "censor_inclusive", "unit"]
PERSON = ["sex", "date_of_birth", "age_days"]
KEY = ["patient_id", "sample_date", "analyte", "value", "censor"]


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame[columns].sort_values(KEY).reset_index(drop=True)


def _write(out: Path, *options: str) -> None:
    result = CliRunner().invoke(cli, ["normalize", *map(str, FILES), "-o", str(out), *options],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    """The sample data's analysis, written once as the typed table (its measurements are what is compared)."""
    return write_analysis_table(FILES, tmp_path_factory.mktemp("original") / "m.csv")


@pytest.mark.parametrize("name", ["x.fhir.json", "x.ndjson"])
def test_fhir_reads_back_to_the_same_tidy_table(tmp_path, analysis, name):
    _write(tmp_path / name)
    back = read(tmp_path / name)
    expected = analysis.dataset.measurements
    columns = RESULT + PERSON
    pd.testing.assert_frame_equal(_sorted(back.measurements, columns), _sorted(expected, columns))
    assert back.issues.empty  # the Provenance resource is skipped, not an issue
    # the days-since-diagnosis extension comes back as the day of the timeline
    days = analysis.measurements[KEY + ["day"]].sort_values(KEY).reset_index(drop=True)["day"]
    got = back.measurements.sort_values(KEY).reset_index(drop=True)["days_since_diagnosis"]
    pd.testing.assert_series_equal(got, days, check_names=False, check_dtype=False)
    # the Observation's referenceRange.high is markers' upper limit: it comes back as the reported limit
    ulns = analysis.measurements.sort_values(KEY).reset_index(drop=True)["uln"]
    reported = back.measurements.sort_values(KEY).reset_index(drop=True)["reported_uln"]
    pd.testing.assert_series_equal(reported, ulns, check_names=False)


@pytest.mark.slow
def test_fhir_identifiers_name_every_source_cell(tmp_path, analysis):
    _write(tmp_path / "x.ndjson")
    resources = [json.loads(line) for line in (tmp_path / "x.ndjson").read_text(encoding="utf-8").splitlines()]
    cells = [r["identifier"][0]["value"] for r in resources if r["resourceType"] == "Observation"]
    m = analysis.dataset.measurements
    expected = m["source_file"] + "!" + m["source_sheet"].fillna("") + "!" + m["source_cell"]
    assert sorted(cells) == sorted(expected)


def test_pseudonymized_fhir_reads_back_on_days_without_dates(tmp_path, analysis):
    """No dates nor birth dates: the results come back with their day since diagnosis, and no age."""
    _write(tmp_path / "shared.ndjson", "--pseudonymize", str(tmp_path / "k.key"))
    back = read(tmp_path / "shared.ndjson")
    m, original = back.measurements, analysis.measurements
    assert len(m) == len(original) and back.n_rejected == 0
    assert m["sample_date"].isna().all() and m["date_of_birth"].isna().all() and m["age_days"].isna().all()
    assert m["patient_id"].str.match(r"^P-[0-9a-f]{12}$").all()
    assert m["patient_id"].nunique() == original["patient_id"].nunique()
    # every result, with its day: the same multiset of (analyte, value, censor, day)
    what = ["analyte", "value", "censor", "day"]
    got = m.rename(columns={"days_since_diagnosis": "day"})[what].astype(str).sort_values(what)
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  original[what].astype(str).sort_values(what).reset_index(drop=True))
    # without an age the limits cannot be chosen: one no-age warning per patient
    assert back.issues["code"].tolist() == ["no-age"] * original["patient_id"].nunique()


@pytest.mark.parametrize("ext", ["csv", "xpt"])
def test_adlb_reads_back_to_the_same_results(tmp_path, analysis, ext):
    """An ADLB holds the results, not the demographics (that is ADSL's job): sex, birth date and age come back empty."""
    _write(tmp_path / f"adlb.{ext}", "--shape", "adam")
    back = read(tmp_path / f"adlb.{ext}")
    m = back.measurements
    pd.testing.assert_frame_equal(_sorted(m, RESULT), _sorted(analysis.dataset.measurements, RESULT))
    assert (m["censor"] == "<").sum() == (analysis.dataset.measurements["censor"] == "<").sum() > 0
    assert m["date_of_birth"].isna().all() and m["age_days"].isna().all()
    assert back.issues["code"].tolist() == ["no-age"] * analysis.measurements["patient_id"].nunique()


def test_pseudonymized_adlb_reads_back_on_days(tmp_path, analysis):
    _write(tmp_path / "adlb.csv", "--shape", "adam", "--pseudonymize", str(tmp_path / "k.key"))
    m = read(tmp_path / "adlb.csv").measurements
    assert len(m) == len(analysis.measurements) and m["sample_date"].isna().all()
    what = ["analyte", "value", "censor", "day"]
    got = m.rename(columns={"days_since_diagnosis": "day"})[what].astype(str).sort_values(what)
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  analysis.measurements[what].astype(str).sort_values(what).reset_index(drop=True))


@pytest.mark.parametrize("ext", ["parquet", "feather"])
def test_typed_tables_read_back_to_the_same_tidy_table(tmp_path, analysis, ext):
    _write(tmp_path / f"m.{ext}")
    back = read(tmp_path / f"m.{ext}")
    columns = RESULT + PERSON
    pd.testing.assert_frame_equal(_sorted(back.measurements, columns), _sorted(analysis.dataset.measurements, columns))
    assert back.issues.empty


def test_a_hand_made_adlb_by_the_adam_conventions(tmp_path):
    """ADaM: AVAL numeric, AVALC for the censored result, ADY 1 = the reference day (no day 0)."""
    path = tmp_path / "adlb.csv"
    path.write_text("USUBJID,PARAMCD,PARAM,AVAL,AVALC,AVALU,ADY,LBLOINC\n"
                    "S1,VMACR,Vanillylmandelic acid/Creatinine (mg/g),12.5,,mg/g,1,3124-5\n"
                    "S1,VMACR,Vanillylmandelic acid/Creatinine (mg/g),,<=0.5,mg/g,31,3124-5\n"
                    "S1,HVACR,Homovanillic acid/Creatinine (mg/g),7,,mg/g,-1,11146-8\n", encoding="utf-8")
    m = read(path).measurements.sort_values("source_row")
    got = m[["analyte", "value", "censor", "censor_inclusive", "days_since_diagnosis"]].astype(str).values.tolist()
    assert got == [["VMA", "12.5", "", "False", "0"], ["VMA", "0.5", "<", "True", "30"], ["HVA", "7.0", "", "False", "-1"]]
    assert m["sample_date"].isna().all()
    assert m["source_cell"].tolist()[0] == "row 2 USUBJID S1 PARAMCD VMACR"  # line 2 of the file


def test_a_tidy_table_with_censor_columns(tmp_path):
    """markers' own tidy columns: censor "<" with censor_inclusive true is "<=" (a closed limit)."""
    path = tmp_path / "tidy.csv"
    path.write_text("patient_id,sample_date,analyte,value,unit,censor,censor_inclusive\n"
                    "P1,2024-01-02,VMA,0.5,mg/g creatinine,<,True\n"
                    "P1,2024-01-03,VMA,0.5,mg/g creatinine,<,False\n"
                    "P1,2024-01-04,VMA,3,mg/g creatinine,,False\n"
                    "P1,2024-01-05,HVA,300,mg/g creatinine,>,\n", encoding="utf-8")
    m = read(path).measurements.sort_values("sample_date")
    got = m[["analyte", "value", "censor", "censor_inclusive"]].astype(str).values.tolist()
    assert got == [["VMA", "0.5", "<", "True"], ["VMA", "0.5", "<", "False"], ["VMA", "3.0", "", "False"],
                   ["HVA", "300.0", ">", "False"]]


def test_sas_dates():
    # SAS counts days from 1960-01-01: 1960 to 2022 holds 62 years of which 16 leap years (1960 ... 2020)
    assert sas_date("0") == "1960-01-01"
    assert sas_date(str(62 * 365 + 16 + 24)) == "2022-01-25"
    assert sas_date("-1") == "1959-12-31"
    assert sas_date("2022-01-25") == "2022-01-25" and sas_date("1.5") == "1.5"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options"), [("x.ndjson", []), ("adlb.csv", ["--shape", "adam"])])
def test_round_trip_in_mmol_per_mol(tmp_path, name, options):
    _write(tmp_path / name, "--unit", "mmol/mol", *options)
    back = read(tmp_path / name, unit="mmol/mol").measurements
    expected = read(FILES, unit="mmol/mol").measurements
    assert set(back["unit"]) == {"mmol/mol creatinine"}
    pd.testing.assert_frame_equal(_sorted(back, RESULT), _sorted(expected, RESULT))


def test_a_hand_made_fhir_observation_with_the_day_extension(tmp_path):
    """An Observation without effectiveDateTime but with markers' day extension is a date-free result."""
    observations = [{"resourceType": "Observation", "id": f"o{i}", "status": "final",
                     "code": {"coding": [{"system": "http://loinc.org", "code": "3124-5"}]},
                     "subject": {"reference": "Patient/p1"},
                     "extension": [{"url": "urn:markers:fhir:extension:days-since-diagnosis", "valueInteger": day}],
                     "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "mg/g"}}
                    for i, (day, value) in enumerate([(0, 30.0), (-3, 41.5), (28, 9.0)], start=1)]
    path = tmp_path / "d.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in observations), encoding="utf-8")
    m = read(path).measurements.sort_values("source_row")
    assert m["days_since_diagnosis"].tolist() == [0, -3, 28]
    assert m["value"].tolist() == [30.0, 41.5, 9.0]
    assert m["sample_date"].isna().all() and set(m["patient_id"]) == {"p1"}


def test_a_censor_column_of_digits_never_joins_its_result(tmp_path):
    """A 0/1 "censor" column (an event indicator, not a comparator): 1 and 5.2 must not be read as 15.2."""
    path = tmp_path / "indicator.csv"
    path.write_text("patient_id,sample_date,analyte,value,unit,censor\n"
                    "P1,2024-01-02,VMA,5.2,mg/g creatinine,1\n"
                    "P1,2024-01-03,VMA,5.2,mg/g creatinine,0\n", encoding="utf-8")
    data = read(path)
    assert data.measurements.empty
    assert data.issues[["code", "cell", "value"]].values.tolist() == [
        ["non-numeric-result", "D2", "[1] 5.2"], ["non-numeric-result", "D3", "[0] 5.2"]]
