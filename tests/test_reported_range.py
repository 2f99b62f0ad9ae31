"""The reporting lab's own range: kept per result as ``reported_uln`` and chosen with ``reference_set="reported"``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from format_fixtures import write_hl7

from markers.analysis.flags import REPORTED_RANGE, flag
from markers.analysis.reference import load_reference_limits
from markers.analysis.reported import grade_disagreements
from markers.ingest.parse import upper_limit
from markers.pipeline import analyse


@pytest.mark.parametrize(("text", "high"), [("0-12", 12.0), ("0 - 27.0", 27.0), ("(0–27)", 27.0), ("<= 13", 13.0),
                                            ("<13", 13.0), ("up to 4,5 mg/g", 4.5), ("3-15 mg/g creat", 15.0)])
def test_upper_limit_of_a_written_range(text, high):
    assert upper_limit(text) == high


@pytest.mark.parametrize("text", ["negative", "", None, "see comment"])
def test_no_upper_limit(text):
    assert np.isnan(upper_limit(text))


def _frame():
    # the ARUP 3018863 VMA limit for a child born 2020-03-01, sampled 2021-06-01 is 27 mg/g
    # (the flag() docstring's own example); the lab printed "0-10" beside 24 mg/g
    return pd.DataFrame({"analyte": ["VMA", "VMA"], "value": [24.0, 24.0], "unit": "mg/g creatinine", "censor": "",
                         "date_of_birth": pd.to_datetime(["2020-03-01"] * 2),
                         "sample_date": pd.to_datetime(["2021-06-01"] * 2),
                         "reported_uln": [10.0, np.nan]})


def test_prefer_reported_grades_against_the_labs_range_and_falls_back():
    limits = load_reference_limits(reference_set="ARUP-3018863")
    by_set = flag(_frame(), limits=limits)
    by_lab = flag(_frame(), limits=limits, prefer_reported=True)
    assert by_set["grade"].tolist() == ["normal", "normal"]  # 24 / 27 = 0.89
    assert by_lab["grade"].tolist() == ["moderate", "normal"]  # 24 / 10 = 2.4; second: no range, 24 / 27
    assert by_lab["uln"].tolist() == [10.0, 27.0]
    assert by_lab["reference_set"].tolist() == [REPORTED_RANGE, "ARUP-3018863"]
    assert grade_disagreements(_frame(), limits=limits) == (1, 1)


def test_hl7_ranges_become_reported_uln_and_can_be_chosen(tmp_path):
    path = write_hl7(tmp_path / "results.hl7")
    with (pytest.warns(UserWarning, match="3 results graded against the reporting lab's own range; 0 without one"),
          pytest.warns(UserWarning, match=r"2 patient\(s\) have neither a diagnosis date nor a treatment event")):
        analysis = analyse(path, reference_set="reported", today=dt.date(2026, 1, 1))
    m = analysis.measurements.sort_values(["patient_id", "analyte"])
    # OBX-7 "0-20" (HVA), "0-12" (VMA), "0-12" (VMA of P-202), all in mg/g creatinine as the results
    assert m["reported_uln"].tolist() == [20.0, 12.0, 12.0]
    # 15.2 / 12 = 1.27 -> mild; "<2.0" with ULN 20 -> normal; 8.1 / 12 = 0.675 -> normal
    assert m["grade"].tolist() == ["normal", "mild", "normal"]
    assert analysis.reference_set == "reported range (else ARUP-3018863+extended-UIowa-ARUP)"
