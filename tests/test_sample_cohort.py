"""The shipped synthetic cohort, end to end: every row accounted for as designed, every
messy cell reported at its cell, and every patient assessed as the cohort was designed
(sample_data/expected_*.csv are written by the generator from its own construction,
independently of markers)."""

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from markers.pipeline import analyse

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"]


def expected(name):
    with open(SAMPLE / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def analysis():
    return analyse(FILES, today=dt.date(2026, 11, 25))


def test_row_accounting_per_sheet_matches_the_design(analysis):
    rows = analysis.dataset.rows
    got = {}
    for (file, sheet), group in rows.groupby(["file", "sheet"]):
        counts = group["status"].value_counts()
        got[(file, sheet)] = [len(group), counts.get("kept", 0), counts.get("rejected", 0), counts.get("skipped", 0)]
    want = {(r["file"], r["sheet"]): [int(r[k]) for k in ("read", "kept", "rejected", "skipped")]
            for r in expected("expected_counts.csv")}
    assert got == want


def test_every_designed_issue_is_reported_at_its_cell(analysis):
    issues = analysis.dataset.issues
    got = sorted(zip(issues["code"], issues["sheet"], issues["cell"], strict=True))
    want = sorted((r["code"], r["sheet"], r["cell"]) for r in expected("expected_issues.csv"))
    assert got == want


def _flag(value):
    return None if pd.isna(value) else bool(value)


def test_assessment_gives_each_designed_outcome(analysis):
    table = analysis.assessment.set_index(["patient_id", "analyte"])
    for r in expected("expected_outcomes.csv"):
        row = table.loc[(r["patient_id"], r["analyte"])]
        for column in ("informative", "normalized", "persistent", "reelevation"):
            want = {"true": True, "false": False, "": None}[r[column]]
            assert _flag(row[column]) == want, (r["patient_id"], r["analyte"], column)


@pytest.mark.slow
def test_assessment_is_the_same_with_mmol_per_mol_output():
    mass = analyse(FILES, today=dt.date(2026, 11, 25)).assessment
    molar = analyse(FILES, unit="mmol/mol", today=dt.date(2026, 11, 25)).assessment
    for column in ("informative", "normalized", "persistent", "reelevation", "normalized_date"):
        assert mass[column].astype(object).where(mass[column].notna(), None).tolist() == \
            molar[column].astype(object).where(molar[column].notna(), None).tolist()
    pd.testing.assert_series_equal(mass["baseline_x_uln"], molar["baseline_x_uln"], rtol=1e-9)


def test_courses_workbook_gives_each_designed_outcome_and_panel_status():
    # sample_data/README.md, "The courses workbook": outcomes worked out by hand from docs/clinical-rules.md
    analysis = analyse([SAMPLE / "courses_workbook.xlsx"], today=dt.date(2026, 11, 25))
    table = analysis.assessment.set_index(["patient_id", "analyte"])
    for r in expected("expected_courses.csv"):
        row = table.loc[(r["patient_id"], r["analyte"])]
        for column in ("informative", "normalized", "persistent", "reelevation"):
            want = {"true": True, "false": False, "": None}[r[column]]
            assert _flag(row[column]) == want, (r["patient_id"], r["analyte"], column)
    issues = analysis.dataset.issues
    assert sorted(zip(issues["code"], issues["sheet"], issues["cell"], strict=True)) == sorted(
        (r["code"], r["sheet"], r["cell"]) for r in expected("expected_courses_issues.csv"))
    panel = analysis.patient_status.set_index("patient_id")
    # NB-016: normal late baseline -> unknown; NB-019: positive at CR by the limit step alone, persistence unknown
    assert panel.loc["NB-016", "informative"] is pd.NA
    assert panel.loc["NB-019", "status_complete_remission"] == "positive"
    assert panel.loc["NB-019", "persistent"] is pd.NA
    # NB-018: the single 3.5x rise on day 520 (start 2021-11-19 + 520 days = 2023-04-23) is unconfirmed
    assert panel.loc["NB-018", "unconfirmed_rise_date"] == pd.Timestamp("2023-04-23")
    # NB-014: upfront resection, informative through both markers
    assert panel.loc["NB-014", "informative_markers"] == "VMA, HVA"
