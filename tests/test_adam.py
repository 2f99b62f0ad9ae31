"""CDISC ADaM-shaped tables: ADLB from the measurements, ADTTE from an outcomes table."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.write.adam import ADLB_VARIABLES, ADTTE_VARIABLES, adlb, adtte

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]


def measurements() -> pd.DataFrame:
    """Five flagged results, one of each case ADLB has to tell apart."""
    return pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P2"],
        "sample_date": pd.to_datetime(["2024-01-10", "2023-12-29", "2024-01-01", "2024-02-01", "2024-02-02"]),
        "analyte": ["VMA", "VMA", "HVA", "NMN", "HVA"],
        "value": [54.0, 0.5, 20.0, 1.0, 3.0],
        "unit": ["mg/g creatinine", "mg/g creatinine", "mmol/mol creatinine", "mmol/mol creatinine",
                 "mmol/mol creatinine"],
        "censor": ["", "<", "", "", ">"],
        "censor_inclusive": [False, False, False, False, True],
        "uln": [27.0, 9.0, 10.0, float("nan"), 10.0],
        "x_uln": [2.0, 0.5 / 9.0, 2.0, float("nan"), 0.3],
        "elevated": pd.array([True, False, True, pd.NA, pd.NA], dtype="boolean"),
        "day": pd.array([9, -3, 0, 31, pd.NA], dtype="Int64"),
        "phase": ["induction", "pre-treatment", "induction", "", ""],
    })


def test_adlb_variables_and_values():
    out = adlb(measurements())
    assert list(out.columns) == list(ADLB_VARIABLES)
    rows = {(r.USUBJID, r.PARAMCD, r.ADY if not pd.isna(r.ADY) else None): r for r in out.itertuples()}
    vma = rows[("P1", "VMACR", 10)]  # ADaM has no day 0: day 9 after the anchor is ADY 10
    assert (vma.AVAL, vma.AVALC, vma.AVALU, vma.ANRHI, vma.R2ANRHI, vma.ANRIND) == (54.0, "", "mg/g", 27.0, 2.0, "HIGH")
    assert vma.PARAM == "Vanillylmandelic acid/Creatinine (mg/g)"
    assert vma.LBLOINC == "3124-5"  # domain facts §3, [S33]
    assert vma.ADT == pd.Timestamp("2024-01-10") and vma.AVISIT == "Induction"
    censored = rows[("P1", "VMACR", -3)]  # before the anchor: ADY = day
    assert math.isnan(censored.AVAL) and censored.AVALC == "<0.5" and math.isnan(censored.R2ANRHI)
    assert censored.ANRIND == "NORMAL" and censored.AVISIT == "Pre-treatment"
    hva = rows[("P1", "HVACRM", 1)]  # the anchor day itself is ADY 1
    assert hva.LBLOINC == "22708-2" and hva.AVALU == "mmol/mol"  # HVA molar ratio [S34]
    nmn = rows[("P2", "NMNCRM", 32)]
    assert nmn.LBLOINC == "" and nmn.ANRIND == "" and math.isnan(nmn.ANRHI)  # no LOINC code known for NMN/creatinine
    above = rows[("P2", "HVACRM", None)]
    assert above.AVALC == ">=3" and above.ANRIND == ""
    assert out.attrs["labels"]["R2ANRHI"] == "Ratio to Analysis Range Upper Limit"
    assert all(len(label) <= 40 for label, _ in ADLB_VARIABLES.values())  # SAS v5 label limit
    assert all(len(name) <= 8 for name in ADLB_VARIABLES)


def test_adlb_sorted_by_subject_parameter_day():
    out = adlb(measurements())
    assert out[["USUBJID", "PARAMCD"]].values.tolist() == [
        ["P1", "HVACRM"], ["P1", "VMACR"], ["P1", "VMACR"], ["P2", "HVACRM"], ["P2", "NMNCRM"]]
    assert out["ADY"].tolist()[1:3] == [-3, 10]


def test_adlb_without_dates_has_no_adt():
    frame = measurements().drop(columns="sample_date")
    frame["sample_day"] = frame["day"]
    assert "ADT" not in adlb(frame).columns


def outcomes() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": ["P1", "P1", "P2", "P3"],
        "endpoint": ["EFS", "OS", "efs", "EFS"],
        "landmark": ["end_of_induction"] * 4,
        "group": ["normalized", "normalized", "persistent", ""],
        "included": [True, True, True, False],
        "reason": ["", "", "", "event before the landmark"],
        "time_days": [400.0, 730.0, 120.0, float("nan")],
        "event": [True, False, True, pd.NA],
        "start_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01", "2024-02-01"]),
    })


def test_adtte_from_an_outcomes_table():
    out = adtte(outcomes())
    assert list(out.columns) == list(ADTTE_VARIABLES)
    assert out["PARAMCD"].tolist() == ["EFS", "OS", "EFS", "EFS"]
    assert out["CNSR"].tolist()[:3] == [0, 1, 0]  # ADaM: 0 = event, 1 = censored
    assert pd.isna(out["CNSR"][3])
    # 2024-01-01 + 400 days: 366 days of 2024 (a leap year) bring 2025-01-01, 34 more 2025-02-04
    assert out["ADT"][0] == pd.Timestamp("2025-02-04")
    assert out["EVNTDESC"].tolist() == ["Event", "Censored", "Event", ""]
    assert out["ANL01FL"].tolist() == ["Y", "Y", "Y", ""]
    assert out["ANL01RSN"].tolist() == ["", "", "", "event before the landmark"]
    assert out["LANDMARK"][0] == "end_of_induction" and out["LMGRP"][2] == "persistent"
    assert out["PARAM"][1] == "Overall survival (days)"


def test_adtte_without_dates_and_bad_input():
    out = adtte(outcomes().drop(columns="start_date"))
    assert "STARTDT" not in out.columns and "ADT" not in out.columns
    with pytest.raises(ValueError, match="endpoint\\(s\\) PFS have no ADTTE parameter"):
        adtte(outcomes().assign(endpoint="PFS"))
    with pytest.raises(ValueError, match="lacks the column\\(s\\) event"):
        adtte(outcomes().drop(columns="event"))


@pytest.mark.slow
def test_cli_writes_adlb_as_sas_transport(tmp_path):
    out = tmp_path / "adlb.xpt"
    result = CliRunner().invoke(cli, ["normalize", *FILES, "--shape", "adam", "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    back = pd.read_sas(out, format="xport", encoding="utf-8")
    assert list(back.columns) == list(ADLB_VARIABLES)
    assert set(back["PARAMCD"]) == {"VMACR", "HVACR"}
    censored = back[back["AVALC"] != ""]
    assert len(censored) > 0 and censored["AVAL"].isna().all()


@pytest.mark.slow
def test_cli_refuses_adam_shape_of_the_assessment(tmp_path):
    result = CliRunner().invoke(cli, ["assess", *FILES, "--shape", "adam", "-o", str(tmp_path / "a.csv")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: --shape adam output is made from the measurements (one row per result), not the assessment "
        "table; use `markers normalize` for a.csv")
    assert list(tmp_path.iterdir()) == []
