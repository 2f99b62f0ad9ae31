"""The clinical rules of the assessment on hand-built courses (see docs/clinical-rules.md).

Every expected value is worked out by hand in the comment beside it from the rule and the
published limit: VMA ULN 27 mg/g (ARUP 0-2 y, "0-27" [S1]) and HVA ULN 42 mg/g (ARUP 0-2 y [S1]),
so ``x_uln = value / ULN`` and ``elevated`` = ``value > ULN`` (an inclusive "0-x" limit).
Diagnosis DX = 2024-01-01 for every patient.
"""

import math

import pandas as pd
import pytest

from markers.analysis.assess import assess
from markers.analysis.panel import patient_status
from markers.analysis.rules import AssessmentRules

DX = pd.Timestamp("2024-01-01")
MASS = "mg/g creatinine"
ULNS = {"VMA": 27.0, "HVA": 42.0}


def d(days: int) -> pd.Timestamp:
    """DX + days."""
    return DX + pd.Timedelta(days=days)


def samples(patient: str, analyte: str, points: list[tuple[int, float]], **extra) -> pd.DataFrame:
    uln = ULNS[analyte]
    frame = pd.DataFrame({
        "patient_id": patient, "analyte": analyte, "value": [float(v) for _, v in points],
        "sample_date": pd.Series([d(day) for day, _ in points], dtype="datetime64[ns]"),
        "unit": MASS, "censor": "", "uln": uln,
    })
    frame["x_uln"] = frame["value"] / uln
    frame["elevated"] = pd.array(frame["value"] > uln, dtype="boolean")
    for name, values in extra.items():
        frame[name] = values
    return frame


def therapy(patient: str, **events: int) -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": patient, "event": list(events), "event_label": list(events),
        "event_date": pd.Series([d(v) for v in events.values()], dtype="datetime64[ns]"),
    })


def patients(*ids: str, diagnosis: bool = True) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": list(ids),
                         "diagnosis_date": pd.Series([DX if diagnosis else pd.NaT] * len(ids),
                                                     dtype="datetime64[ns]")})


def one(measurements, events, people=None, rules=None) -> pd.Series:
    people = people if people is not None else patients(measurements["patient_id"].iloc[0])
    result = assess(measurements, therapy=events, patients=people, rules=rules)
    assert len(result) == 1
    return result.iloc[0]


def b(value):
    return pd.NA if value is pd.NA else bool(value)


# -- 1. baseline ------------------------------------------------------------------------------


def test_upfront_resection_keeps_the_diagnosis_sample_as_baseline():
    # 7.7x ULN at diagnosis (207.9 / 27 = 7.7); surgery on day 5, chemotherapy from day 40.
    # The first treatment of any kind is the surgery (day 5), so the window closes there and
    # the day -2 sample is the baseline: informative. (The old rule closed at therapy start and
    # took the normal day-20 post-operative sample: "not informative".)
    m = samples("R1", "VMA", [(-2, 207.9), (20, 10), (60, 12)])
    row = one(m, therapy("R1", surgery=5, therapy_start=40))
    assert row["baseline_date"] == d(-2)
    assert row["baseline_x_uln"] == pytest.approx(7.7)
    assert b(row["informative"]) is True
    # surgery milestone: first post-operative sample within 30 days = day 20, normal
    assert row["status_surgery"] == "normal"
    # days 20 and 60 are two consecutive normals: confirmed on day 20 = 15 days after surgery (day 5)
    assert b(row["normalized"]) is True and row["days_to_normalization"] == 15


def test_preoperative_elevated_sample_never_speaks_for_a_postoperative_milestone():
    # Day 87: 40.5 = 1.5x ULN, three days before resection (day 90). End of induction on day 92:
    # nearest sample is day 87 (5 days) but it is pre-operative; day 100 (8 days, normal) speaks.
    # Surgery milestone: first sample after day 90 within 30 days = day 100, normal.
    # CR on day 180: day 180 normal -> persistent False.
    m = samples("R2", "VMA", [(0, 100), (87, 40.5), (100, 10), (130, 9), (180, 8)])
    row = one(m, therapy("R2", therapy_start=7, surgery=90, end_of_induction=92, complete_remission=180))
    assert row["status_surgery"] == "normal"
    assert row["status_end_of_induction"] == "normal"
    assert row["status_complete_remission"] == "normal"
    assert b(row["persistent"]) is False
    assert row["normalized_date"] == d(100)


def test_persistence_is_judged_at_complete_remission_by_default():
    # Elevated at end of induction (day 100: 54 = 2x), normal at CR (day 200): Matser 2025 found
    # only positivity in CR associated with outcome, so persistent is False; the EOI status stays.
    m = samples("R3", "VMA", [(0, 100), (100, 54), (170, 10), (200, 9)])
    events = therapy("R3", therapy_start=7, end_of_induction=100, complete_remission=200)
    row = one(m, events)
    assert row["status_end_of_induction"] == "elevated"
    assert b(row["persistent"]) is False
    # the milestones used are a rule: judged at end of induction too, the patient is persistent there
    rules = AssessmentRules(persistence_milestones=("end_of_induction", "complete_remission"))
    row = one(m, events, rules=rules)
    assert b(row["persistent"]) is True and row["persistent_at"] == "end_of_induction"


def test_late_normal_baseline_leaves_informativeness_unknown():
    # No pre-treatment urine: the first sample is on day 10 of chemotherapy (therapy start day 7,
    # sample day 17, within the 14-day late window), normal: the truth is unknown, not "no".
    row = one(samples("R4", "VMA", [(17, 10), (50, 9)]), therapy("R4", therapy_start=7))
    assert bool(row["baseline_late"]) is True
    assert row["informative"] is pd.NA
    assert row["summary"].startswith("informativeness unknown (normal late baseline")


def test_late_elevated_baseline_is_informative():
    row = one(samples("R5", "VMA", [(17, 81), (50, 9)]), therapy("R5", therapy_start=7))
    assert b(row["informative"]) is True and bool(row["baseline_late"]) is True


def test_no_dates_at_all_takes_the_first_sample_as_an_assumed_baseline():
    m = samples("R6", "VMA", [(0, 81), (30, 10), (60, 9)])
    with pytest.warns(UserWarning, match="assumed baseline"):
        row = one(m, therapy("R6").iloc[0:0], patients("R6", diagnosis=False))
    assert bool(row["baseline_assumed"]) is True and row["baseline_date"] == d(0)
    assert b(row["informative"]) is True
    assert "assumed baseline" in row["summary"]
    # without any date the summary names dates, not days after treatment
    assert "normalized on 2024-01-31" in row["summary"]


def test_assumed_normal_baseline_is_unknown_not_negative():
    with pytest.warns(UserWarning):
        row = one(samples("R7", "VMA", [(0, 10), (30, 9)]), therapy("R7").iloc[0:0],
                  patients("R7", diagnosis=False))
    assert row["informative"] is pd.NA


# -- normalization and re-elevation ----------------------------------------------------------------


def test_single_normal_last_sample_is_unconfirmed():
    # 200, 100 elevated; 20 normal only at the last sample: one normal is not two.
    row = one(samples("N1", "VMA", [(0, 200), (37, 100), (67, 20)]), therapy("N1", therapy_start=7))
    assert b(row["normalized"]) is False
    assert row["normalization"] == "unconfirmed"
    assert pd.isna(row["normalized_date"])
    # Updated for issue 14: the summary counts days since diagnosis (sample on DX + 67), as the report does.
    assert "normal at last sample (day 67 since diagnosis), unconfirmed" in row["summary"]


def test_single_3_5x_rise_is_an_unconfirmed_rise():
    # normalized by days 60 and 90 (20 < 27); day 120: 94.5 = 3.5x ULN alone, day 150 normal again.
    m = samples("E1", "VMA", [(0, 200), (60, 20), (90, 20), (120, 94.5), (150, 20)])
    row = one(m, therapy("E1", therapy_start=7))
    assert b(row["reelevation"]) is False
    assert row["unconfirmed_rise_date"] == d(120)
    assert row["unconfirmed_rise_x_uln"] == pytest.approx(3.5)
    # Updated for issue 14: the summary counts days since diagnosis (sample on DX + 120), as the report does.
    assert "unconfirmed rise on day 120 since diagnosis (3.5x ULN): not confirmed" in row["summary"]


def test_single_rise_at_the_last_sample_asks_for_a_repeat():
    m = samples("E2", "VMA", [(0, 200), (60, 20), (90, 20), (120, 94.5)])
    row = one(m, therapy("E2", therapy_start=7))
    assert b(row["reelevation"]) is False
    assert row["summary"].endswith("(3.5x ULN): repeat advised")


def test_two_consecutive_elevated_samples_confirm_a_reelevation():
    m = samples("E3", "VMA", [(0, 200), (60, 20), (90, 20), (120, 40), (150, 45)])
    row = one(m, therapy("E3", therapy_start=7))
    assert b(row["reelevation"]) is True and row["reelevation_date"] == d(120)
    assert pd.isna(row["unconfirmed_rise_date"])


def test_single_sample_rule_is_an_option_not_the_default():
    m = samples("E4", "VMA", [(0, 200), (60, 20), (90, 20), (120, 94.5), (150, 20)])
    row = one(m, therapy("E4", therapy_start=7), rules=AssessmentRules(reelevation_single_x_uln=3.0))
    assert b(row["reelevation"]) is True and row["reelevation_date"] == d(120)


# -- 2. patient-level panel status -------------------------------------------------------------------


def test_hva_only_secretion_makes_the_patient_informative_and_positive():
    # VMA 10 (< 27) at baseline, HVA 126 = 3x 42. At CR (day 200): VMA 10 normal, HVA 84 = 2x elevated.
    m = pd.concat([samples("H1", "VMA", [(0, 10), (100, 10), (200, 10)]),
                   samples("H1", "HVA", [(0, 126), (100, 84), (200, 84)])], ignore_index=True)
    events = therapy("H1", therapy_start=7, end_of_induction=100, complete_remission=200)
    assessment = assess(m, therapy=events, patients=patients("H1"))
    vma = assessment[assessment["analyte"] == "VMA"].iloc[0]
    assert b(vma["informative"]) is False  # the per-analyte table keeps its columns
    panel = patient_status(assessment)
    assert list(panel.columns) == [
        "patient_id", "informative", "informative_markers", "status_surgery", "status_end_of_induction",
        "status_complete_remission", "status_end_of_therapy", "persistent", "reelevation",
        "unconfirmed_rise_date", "summary"]
    row = panel.iloc[0]
    assert b(row["informative"]) is True
    assert row["informative_markers"] == "HVA"
    # only the informative marker counts: HVA elevated at EOI and CR -> positive
    assert row["status_end_of_induction"] == "positive"
    assert row["status_complete_remission"] == "positive"
    assert row["status_surgery"] == "unknown"  # no surgery in the timeline
    assert b(row["persistent"]) is True
    # VMA/HVA mass ratio 10 / 126 = 0.0794 < 1.5, interpreted because HVA is elevated at baseline
    assert vma["vma_hva_ratio_mass"] == pytest.approx(10 / 126)
    assert b(vma["low_vma_hva_ratio"]) is True
    assert "weak source" in vma["vma_hva_ratio_note"]


def test_panel_negative_unknown_and_not_informative():
    m = pd.concat([
        samples("A", "VMA", [(0, 100), (60, 10), (90, 10), (200, 9)]),      # informative, normal at CR
        samples("B", "VMA", [(0, 10), (200, 9)]),                           # normal at baseline
        samples("C", "VMA", [(17, 10), (200, 9)]),                          # normal late baseline
    ], ignore_index=True)
    events = pd.concat([therapy(p, therapy_start=7, complete_remission=200) for p in "ABC"], ignore_index=True)
    panel = patient_status(assess(m, therapy=events, patients=patients("A", "B", "C"))).set_index("patient_id")
    assert panel.loc["A", "status_complete_remission"] == "negative"
    assert b(panel.loc["A", "persistent"]) is False
    assert b(panel.loc["B", "informative"]) is False
    assert panel.loc["B", "status_complete_remission"] == "unknown"
    assert panel.loc["C", "informative"] is pd.NA
    assert panel.loc["C", "summary"] == "informativeness unknown"


def test_panel_reports_the_unconfirmed_rise():
    m = samples("U", "VMA", [(0, 200), (60, 20), (90, 20), (120, 94.5)])
    panel = patient_status(assess(m, therapy=therapy("U", therapy_start=7), patients=patients("U")))
    assert panel["unconfirmed_rise_date"].iloc[0] == d(120)
    assert b(panel["reelevation"].iloc[0]) is False
    assert panel["summary"].iloc[0].endswith("unconfirmed rise on 2024-04-30: repeat advised")


# -- 4. ratio and kinetics ---------------------------------------------------------------------------


def test_both_markers_normal_gives_no_ratio_interpretation():
    m = pd.concat([samples("Q", "VMA", [(0, 10), (60, 9)]), samples("Q", "HVA", [(0, 20), (60, 19)])],
                  ignore_index=True)
    result = assess(m, therapy=therapy("Q", therapy_start=7), patients=patients("Q"))
    assert result["low_vma_hva_ratio"].isna().all()
    assert set(result["vma_hva_ratio_note"]) == {"not interpreted: neither VMA nor HVA elevated at baseline"}


def test_half_life_hand_fitted_from_baseline_to_first_normal():
    # Points used: days 0, 10, 20 (elevated) and 30 (first normal, 20 < 27); the plateau after it
    # (days 60, 90) is left out. OLS of ln(value) on day, by hand:
    #   x = 0, 10, 20, 30 (mean 15, Sxx = 225 + 25 + 25 + 225 = 500)
    #   y = ln 100 = 4.605170, ln 60 = 4.094345, ln 30 = 3.401197, ln 20 = 2.995732
    #   Sxy = -15(4.605170) - 5(4.094345) + 5(3.401197) + 15(2.995732) = -27.607310
    #   slope = -27.607310 / 500 = -0.0552146 per day; half-life = ln 2 / 0.0552146 = 12.554 days
    m = samples("K", "VMA", [(0, 100), (10, 60), (20, 30), (30, 20), (60, 22), (90, 21)])
    row = one(m, therapy("K", therapy_start=1))
    assert row["k_per_day"] == pytest.approx(0.0552146, rel=1e-5)
    assert row["half_life_days"] == pytest.approx(12.554, rel=1e-4)
    assert row["half_life_n"] == 4
    assert row["half_life_points"] == "2024-01-01; 2024-01-11; 2024-01-21; 2024-01-31"


def test_half_life_samples_can_be_excluded_by_column_or_rule():
    # a doubtful day-10 sample (300) left out: 100, 30, 20 at days 0, 20, 30 by hand:
    #   x mean 50/3; Sxx = (50/3)^2 + (10/3)^2 + (40/3)^2 = 4200/9 = 466.667
    #   Sxy = -(50/3)(4.605170) + (10/3)(3.401197) + (40/3)(2.995732)
    #       = -76.752833 + 11.337323 + 39.943093 = -25.472417
    #   slope = -25.472417 / 466.667 = -0.0545838; half-life = ln 2 / 0.0545838 = 12.699 days
    m = samples("X", "VMA", [(0, 100), (10, 300), (20, 30), (30, 20)],
                exclude_from_kinetics=[False, True, False, False])
    row = one(m, therapy("X", therapy_start=1))
    assert row["half_life_n"] == 3
    assert row["half_life_days"] == pytest.approx(math.log(2) / 0.0545838, rel=1e-4)
    by_rule = AssessmentRules(kinetics_exclude=(("X", "VMA", "2024-01-11"),))
    row = one(m.drop(columns="exclude_from_kinetics"), therapy("X", therapy_start=1), rules=by_rule)
    assert row["half_life_n"] == 3
    assert "2024-01-11" not in row["half_life_points"]


def test_half_life_exclusion_from_the_config_file(tmp_path):
    # The same course as test_half_life_samples_can_be_excluded_by_column_or_rule, through the pipeline:
    # the doubtful day-10 sample (2024-01-11) left out by [kinetics] exclude gives the 3-point fit
    # (days 0, 20, 30): half-life ln 2 / 0.0545838 = 12.699 days.
    from workbooks import write_workbook

    from markers.pipeline import analyse

    dt_ = pd.Timestamp
    book = write_workbook(tmp_path / "k.xlsx", {
        "Samples": [["Patient ID", "Date of birth", "Diagnosis date", "Sample date", "VMA (mg/g creat)"],
                    *[["X", dt_("2023-06-01").to_pydatetime(), DX.to_pydatetime(), d(day).to_pydatetime(), v]
                      for day, v in ((0, 100), (10, 300), (20, 30), (30, 20))]]})
    config = tmp_path / "markers.toml"
    config.write_text('[kinetics]\nexclude = [["X", "VMA", "2024-01-11"]]\n', encoding="utf-8")
    # the diagnosis date comes from the measurement sheet; with no treatment event the window closes
    # at diagnosis, so the day-0 sample is the baseline and all four samples up to the first normal fit
    plain = analyse([book]).assessment.iloc[0]
    assert plain["baseline_date"] == DX and plain["half_life_n"] == 4
    row = analyse([book], config=config).assessment.iloc[0]
    assert row["half_life_n"] == 3
    assert row["half_life_days"] == pytest.approx(math.log(2) / 0.0545838, rel=1e-4)
