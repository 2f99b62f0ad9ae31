"""Limits that behave like the published ones (issue 13, point 5), checked on hand-built samples.

Limits from domain facts §1: ARUP VMA 0-2 y "0-27" mg/g [S1] (27 is normal); Mayo legacy VH VMA
"<27.0" (<1 y) and "<18.0" (1 y) mg/g [S3] (27 is above the limit); Mayo CATCR dopamine 24-59 mo
168-1156 mcg/g [S17]; UIowa dopamine 4-10 y 220-720 µg/g [S16].
"""

import pandas as pd
import pytest

from markers.analysis.assess import assess
from markers.analysis.flags import flag
from markers.analysis.panel import patient_status
from markers.analysis.reference import load_reference_limits

MASS = "mg/g creatinine"


def frame(values, *, analyte="VMA", born="2023-03-10", dates=None, patient="P1"):
    n = len(values)
    dates = dates or ["2024-01-01"] * n
    return pd.DataFrame({
        "patient_id": patient, "analyte": analyte, "value": [float(v) for v in values], "unit": MASS,
        "censor": "", "date_of_birth": pd.to_datetime([born] * n),
        "sample_date": pd.to_datetime(dates),
    })


def test_value_equal_to_an_exclusive_limit_is_elevated():
    # 27.0 at 9 months: Mayo legacy publishes "<27.0", so 27.0 is not below the limit: mild, elevated.
    out = flag(frame([27.0]), limits=load_reference_limits(reference_set="Mayo-VH-legacy"))
    assert out["uln"].iloc[0] == 27.0
    assert out["grade"].iloc[0] == "mild"
    assert bool(out["elevated"].iloc[0]) is True


def test_value_equal_to_an_inclusive_limit_is_normal():
    # ARUP publishes "0-27": 27 is inside the interval.
    out = flag(frame([27.0]), limits=load_reference_limits(reference_set="ARUP-3018863"))
    assert out["grade"].iloc[0] == "normal"


def test_sets_combine_per_analyte_and_age_band():
    # Dopamine at 3 y (36 months): Mayo CATCR 24-59 mo, 1156 mcg/g = 1.156 mg/g.
    # At 6 y (72 months) CATCR has no band: UIowa's 4-10 y (720 µg/g = 0.720 mg/g) fills it,
    # trimmed to the months CATCR leaves uncovered (60-131).
    limits = load_reference_limits(reference_set="extended-Mayo-CATCR+extended-UIowa-ARUP")
    samples = pd.concat([frame([0.5], analyte="DA", born="2021-01-01"),
                         frame([0.5], analyte="DA", born="2018-01-01")], ignore_index=True)
    out = flag(samples, limits=limits)
    assert out["uln"].tolist() == pytest.approx([1.156, 0.720])
    assert out["reference_set"].tolist() == ["extended-Mayo-CATCR", "extended-UIowa-ARUP"]
    assert out["age_band_label"].iloc[1] == "4-10 y (months 60-131)"
    assert out["grade"].tolist() == ["normal", "normal"]  # 0.5 mg/g is below both


def test_24_hour_set_applied_to_spot_samples_warns():
    with pytest.warns(UserWarning, match="24-hour urine collections \\(Mayo-HVA-current\\)"):
        flag(frame([10.0], analyte="HVA"), limits=load_reference_limits(reference_set="Mayo-HVA-current"))


def test_every_shipped_row_states_its_bound_and_collection():
    limits = pd.concat([load_reference_limits(reference_set=name) for name in
                        ("ARUP-3018863", "Mayo-VH-legacy", "Mayo-HVA-current", "extended-SGH")])
    by_set = limits.groupby("set")[["bound", "collection"]].agg(lambda s: ",".join(sorted(set(s))))
    assert by_set.loc["ARUP-3018863"].tolist() == ["inclusive", "spot"]
    assert by_set.loc["Mayo-VH-legacy"].tolist() == ["exclusive", "spot"]
    assert by_set.loc["Mayo-HVA-current"].tolist() == ["exclusive", "24-hour"]
    assert by_set.loc["extended-SGH"].tolist() == ["exclusive", "24-hour"]


def test_infant_with_a_birthday_limit_step_and_flat_values():
    # Born 2023-03-10, diagnosed 2024-01-01 (9 months). Mayo legacy VMA: "<27.0" below 1 y, "<18.0" at 1 y.
    # 81 at diagnosis (3x) -> informative. Then 20 flat: 2024-02-01 and 2024-03-01 normal (20 < 27):
    # normalization confirmed on 2024-02-01. First birthday 2024-03-10: limit 18, so 20 on 2024-04-01
    # and 2024-05-01 flags elevated, though 20 is within the previous limit 27: a limit step, not a rise.
    # Expected: limit_changed only on 2024-04-01; no re-elevation; at CR (2024-05-01) the status is
    # "elevated" (the limit says so) but persistent is not True; the output names the limit step.
    dates = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
    flagged = flag(frame([81, 20, 20, 20, 20], dates=dates),
                   limits=load_reference_limits(reference_set="Mayo-VH-legacy"))
    assert flagged["uln"].tolist() == [27.0, 27.0, 27.0, 18.0, 18.0]
    assert flagged["limit_changed"].tolist() == [False, False, False, True, False]
    assert flagged["elevated"].tolist() == [True, False, False, True, True]
    therapy = pd.DataFrame({"patient_id": ["P1", "P1"], "event": ["therapy_start", "complete_remission"],
                            "event_date": pd.to_datetime(["2024-01-02", "2024-05-01"])})
    patients = pd.DataFrame({"patient_id": ["P1"], "diagnosis_date": pd.to_datetime(["2024-01-01"])})
    row = assess(flagged, therapy=therapy, patients=patients).iloc[0]
    assert bool(row["informative"]) is True
    assert bool(row["normalized"]) is True and row["normalized_date"] == pd.Timestamp("2024-02-01")
    assert bool(row["reelevation"]) is False
    assert pd.isna(row["unconfirmed_rise_date"])
    assert row["status_complete_remission"] == "elevated"
    assert row["persistent"] is pd.NA
    assert row["limit_steps"] == ("2024-04-01: elevated only by a lower limit (18 mg/g creatinine); "
                                  "2024-05-01: elevated only by a lower limit (18 mg/g creatinine)")
    assert "only because the age limit stepped down" in row["summary"]
    panel = patient_status(assess(flagged, therapy=therapy, patients=patients)).iloc[0]
    assert panel["persistent"] is pd.NA and bool(panel["reelevation"]) is False
