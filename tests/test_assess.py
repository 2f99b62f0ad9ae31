"""Per-patient assessment: each rule pinned on small hand-built patients.

Dates: diagnosis DX = 2024-01-01 and therapy start = DX + 7 days for every
patient unless a test says otherwise; samples are placed by *therapy day*
(days since therapy start). VMA ULN 27 mg/g (ARUP 0–2 y [S1]) is only a
divisor here: ``x_uln = value / 27``. ``elevated`` is set the way flagging
marks it: uncensored ``value > ULN``; ``<x`` with x ≤ ULN is normal; the rest
of the censored values are indeterminate unless a test overrides it.
"""

import math

import pandas as pd
import pytest

from markers.analysis.assess import ASSESSMENT_COLUMNS, AssessmentRules, assess
from markers.errors import ConfigError, MissingColumnError, UnknownUnitError

DX = pd.Timestamp("2024-01-01")
START = DX + pd.Timedelta(days=7)
ULN = 27.0
MASS = "mg/g creatinine"
MOLAR = "mmol/mol creatinine"
# molar masses from the formulas with IUPAC weights (see tests/test_units.py for the sums)
M_VMA, M_HVA, M_CREA = 198.174, 182.175, 113.120
NOCR = "persistence not judged (no complete remission in the timeline)"


def _day(therapy_day: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=therapy_day)


def _series(patient: str, analyte: str, points: list[tuple], *, uln: float = ULN, unit: str = MASS) -> pd.DataFrame:
    """points: (therapy day, value) or (therapy day, value, censor) or (day, value, censor, elevated)."""
    rows = []
    for point in points:
        day, value = point[0], float(point[1])
        censor = point[2] if len(point) > 2 else ""
        if len(point) > 3:
            elevated = point[3]
        elif censor == "":
            elevated = value > uln
        elif censor == "<" and value <= uln:
            elevated = False
        else:
            elevated = pd.NA
        rows.append(
            {
                "patient_id": patient,
                "sample_date": _day(day),
                "analyte": analyte,
                "value": value,
                "unit": unit,
                "censor": censor,
                "age_days": 400,
                "uln": uln,
                "x_uln": value / uln,
                "elevated": elevated,
                "grade": "",
                "source_file": "lab.xlsx",
                "source_sheet": "Results",
                "source_cell": "D2",
            }
        )
    frame = pd.DataFrame(rows)
    frame["sample_date"] = frame["sample_date"].astype("datetime64[ns]")
    frame["elevated"] = frame["elevated"].astype("boolean")
    frame["age_days"] = frame["age_days"].astype("Int64")
    return frame


def _therapy(patient: str, **events: int) -> pd.DataFrame:
    """therapy_start at therapy day 0 plus events at the given therapy days."""
    events = {"therapy_start": 0, **events}
    return pd.DataFrame(
        {
            "patient_id": [patient] * len(events),
            "event": list(events),
            "event_label": list(events),
            "event_date": pd.Series([_day(d) for d in events.values()], dtype="datetime64[ns]"),
        }
    )


def _patients(*patients: str, diagnosis: pd.Timestamp = DX) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": list(patients),
            "sex": ["F"] * len(patients),
            "date_of_birth": pd.Series([pd.Timestamp("2023-01-01")] * len(patients), dtype="datetime64[ns]"),
            "diagnosis_date": pd.Series([diagnosis] * len(patients), dtype="datetime64[ns]"),
            "age_at_diagnosis_days": pd.array([365] * len(patients), dtype="Int64"),
        }
    )


def _b(value: object) -> object:
    """A boolean cell as True / False / pd.NA (row access gives numpy bools)."""
    return pd.NA if value is pd.NA else bool(value)


def _one(measurements: pd.DataFrame, therapy: pd.DataFrame, patients: pd.DataFrame | None = None,
         rules: AssessmentRules | None = None) -> pd.Series:
    patient = measurements["patient_id"].iloc[0]
    result = assess(measurements, therapy=therapy, patients=patients if patients is not None else _patients(patient),
                    rules=rules)
    assert len(result) == 1
    return result.iloc[0]


# -- informativeness ------------------------------------------------------------------------------------


def test_non_informative_patient():
    # baseline 10 mg/g < ULN 27: normal at baseline
    row = _one(_series("P1", "VMA", [(-3, 10), (30, 12), (60, 30), (90, 31)]), _therapy("P1"))
    assert _b(row["informative"]) is False
    assert row["baseline_date"] == _day(-3)
    assert row["baseline_value"] == 10.0
    assert _b(row["normalized"]) is pd.NA
    assert _b(row["persistent"]) is pd.NA
    assert _b(row["reelevation"]) is pd.NA
    assert row["summary"] == "not marker-informative (normal at baseline)"
    assert row["half_life_note"] == "not informative"
    assert math.isnan(row["half_life_days"])
    # samples are still described: last sample 31 > 27 is elevated
    assert row["last_status"] == "elevated"
    assert row["n_samples"] == 4


def test_indeterminate_baseline():
    row = _one(_series("P1", "VMA", [(0, 40, ">", pd.NA), (30, 10)]), _therapy("P1"))
    assert _b(row["informative"]) is pd.NA
    assert _b(row["normalized"]) is pd.NA
    assert row["summary"] == "informativeness unknown (baseline indeterminate)"


def test_responder_normalizes_with_half_life():
    # 200, 100, 50 (elevated), 25, 20 (normal, < 27) at therapy days 0, 30, 60, 90, 120.
    # Two consecutive normals from day 90: normalized_date = day 90, days_to_normalization = 90.
    # Fit from baseline to the first normal sample: 200, 100, 50, 25 halve every 30 days exactly
    # -> half-life 30.0 d, r² 1 (issue 13: the fit no longer uses a days-0-100 window).
    row = _one(_series("P1", "VMA", [(0, 200), (30, 100), (60, 50), (90, 25), (120, 20)]), _therapy("P1"))
    assert _b(row["informative"]) is True
    assert row["baseline_date"] == _day(0)  # the therapy start day is inside the baseline window
    assert _b(row["baseline_late"]) is False
    assert row["baseline_x_uln"] == pytest.approx(200 / 27)
    assert _b(row["normalized"]) is True
    assert row["normalized_date"] == _day(90)
    assert row["first_normal_date"] == _day(90)
    assert row["days_to_normalization"] == 90
    assert row["nadir_date"] == _day(120)
    assert row["nadir_value"] == 20.0
    assert row["nadir_x_uln"] == pytest.approx(20 / 27)
    assert row["half_life_days"] == pytest.approx(30.0)
    assert row["k_per_day"] == pytest.approx(math.log(2) / 30)
    assert row["half_life_r2"] == pytest.approx(1.0)
    assert row["half_life_n"] == 4
    assert _b(row["reelevation"]) is False
    # Updated for issue 13: persistence is judged at complete remission (Matser 2025); with no CR in
    # the timeline it is not judged (the old "last sample decides" fallback was a guess).
    assert _b(row["persistent"]) is pd.NA
    assert [row[f"status_{m}"] for m in ("surgery", "end_of_induction", "complete_remission", "end_of_therapy")] == [
        "", "", "", ""]
    assert row["last_sample_date"] == _day(120)
    assert row["last_status"] == "normal"
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == "informative; normalized on day 97 since diagnosis; persistence not judged (no complete remission in the timeline)"


def test_normal_last_sample_alone_is_unconfirmed():
    # Updated for issue 13: a single normal last sample is its own state (unconfirmed), not "normalized".
    row = _one(_series("P1", "VMA", [(0, 200), (30, 100), (60, 20)]), _therapy("P1"))
    assert _b(row["normalized"]) is False
    assert row["normalization"] == "unconfirmed"
    assert row["normalized_date"] is pd.NaT


def test_single_normal_between_elevated_is_not_normalization():
    row = _one(_series("P1", "VMA", [(0, 200), (30, 20), (60, 40)]), _therapy("P1"))
    assert _b(row["normalized"]) is False
    assert row["normalized_date"] is pd.NaT
    assert row["first_normal_date"] == _day(30)
    assert _b(row["days_to_normalization"]) is pd.NA
    # Updated for issue 13: no complete remission in the timeline, so persistence is not judged
    # (the old rule let an elevated last sample make the patient persistent).
    assert _b(row["persistent"]) is pd.NA
    assert _b(row["reelevation"]) is False  # never normalized, so nothing re-elevated
    assert row["summary"] == "informative; not normalized; persistence not judged (no complete remission in the timeline)"


def test_informative_without_follow_up_sample():
    row = _one(_series("P1", "VMA", [(0, 200)]), _therapy("P1"))
    assert _b(row["informative"]) is True
    assert _b(row["normalized"]) is pd.NA
    assert _b(row["persistent"]) is pd.NA
    assert row["summary"] == "informative; no sample after baseline"


def test_indeterminate_sample_breaks_a_normal_run():
    # normal, indeterminate, normal, then elevated: no two consecutive normals, last not normal
    points = [(0, 200), (30, 20), (45, 30, ">", pd.NA), (60, 20), (90, 40)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert _b(row["normalized"]) is False


def test_censored_below_limit_counts_as_normal_and_as_nadir():
    # "<5" flags normal (5 <= 27); it is the lowest x_uln after baseline: 5/27
    row = _one(_series("P1", "VMA", [(0, 200), (30, 5, "<"), (60, 10)]), _therapy("P1"))
    assert _b(row["normalized"]) is True
    assert row["normalized_date"] == _day(30)
    assert row["nadir_date"] == _day(30)
    assert row["nadir_x_uln"] == pytest.approx(5 / 27)


def test_greater_than_censored_is_not_a_nadir():
    row = _one(_series("P1", "VMA", [(0, 200), (30, 30, ">", True), (60, 40)]), _therapy("P1"))
    assert row["nadir_date"] == _day(60)


# -- persistence and milestones ------------------------------------------------------------------------


def test_persistent_at_end_of_induction():
    # Updated for issue 13: the surgery milestone takes the first post-operative sample (day 118,
    # 30 > 27, elevated), not the pre-operative day 88; persistence at end of induction is an
    # option now (the default judges it at complete remission).
    # End of induction at day 150: sample on day 150 (35 > 27, elevated).
    points = [(0, 100), (88, 20), (118, 30), (150, 35)]
    rules = AssessmentRules(persistence_milestones=("end_of_induction",))
    row = _one(_series("P1", "VMA", points), _therapy("P1", surgery=90, end_of_induction=150), rules=rules)
    assert row["status_surgery"] == "elevated"
    assert row["status_end_of_induction"] == "elevated"
    assert row["status_complete_remission"] == ""
    assert row["status_end_of_therapy"] == ""
    assert _b(row["persistent"]) is True
    assert row["persistent_at"] == "end_of_induction"
    assert _b(row["normalized"]) is False
    assert row["summary"] == "informative; not normalized; persistent at end of induction"
    default = _one(_series("P1", "VMA", points), _therapy("P1", surgery=90, end_of_induction=150))
    assert _b(default["persistent"]) is pd.NA


def test_persistent_at_the_first_elevated_milestone_in_time():
    # complete remission (day 100) comes before end of induction (day 150) here; both elevated
    points = [(0, 100), (100, 40), (150, 35)]
    rules = AssessmentRules(persistence_milestones=("end_of_induction", "complete_remission"))
    row = _one(_series("P1", "VMA", points), _therapy("P1", end_of_induction=150, complete_remission=100),
               rules=rules)
    assert row["persistent_at"] == "complete_remission"


def test_not_persistent_when_every_milestone_sample_is_normal():
    # Updated for issue 13: persistence milestones are a rule (default: complete remission only)
    points = [(0, 100), (88, 20), (150, 10), (200, 40)]
    rules = AssessmentRules(persistence_milestones=("surgery", "end_of_induction"))
    row = _one(_series("P1", "VMA", points), _therapy("P1", surgery=90, end_of_induction=150), rules=rules)
    # milestones are in the timeline, so the elevated last sample does not count as persistence
    assert _b(row["persistent"]) is False
    assert row["persistent_at"] == ""


def test_milestone_tie_goes_to_later_sample_and_window_edges():
    # surgery at day 100: the first post-operative sample within 30 days, day 110 (normal).
    # end_of_induction at day 200: nearest samples day 110 (90 days) and 231 (31 days) -> "no sample".
    # end_of_therapy at day 261: sample at day 231 is exactly 30 days away -> inside the window.
    points = [(0, 100), (90, 40), (110, 20), (231, 26)]
    therapy = _therapy("P1", surgery=100, end_of_induction=200, end_of_therapy=261)
    row = _one(_series("P1", "VMA", points), therapy)
    assert row["status_surgery"] == "normal"
    assert row["status_end_of_induction"] == "no sample"
    assert row["status_end_of_therapy"] == "normal"


def test_milestone_sample_indeterminate():
    # Updated for issue 13: the surgery milestone takes a sample after the day of surgery (day 101)
    points = [(0, 100), (101, 30, ">", pd.NA)]
    row = _one(_series("P1", "VMA", points), _therapy("P1", surgery=100))
    assert row["status_surgery"] == "indeterminate"
    assert _b(row["persistent"]) is pd.NA


def test_baseline_sample_is_not_evidence_of_persistence():
    # end of induction on day 5 (judged for persistence here): nearest sample is the baseline itself
    # (day 0, elevated). Updated for issue 13: surgery, the old example, now takes post-op samples only.
    rules = AssessmentRules(persistence_milestones=("end_of_induction",))
    row = _one(_series("P1", "VMA", [(0, 100), (60, 10), (90, 10)]), _therapy("P1", end_of_induction=5),
               rules=rules)
    assert row["status_end_of_induction"] == "elevated"
    assert _b(row["persistent"]) is pd.NA
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == (
        "informative; normalized on day 67 since diagnosis; "
        "persistence not assessable (no sample after baseline near end of induction)"
    )


# -- baseline windows ---------------------------------------------------------------------------------


def test_late_baseline_within_14_days_after_start():
    row = _one(_series("P1", "VMA", [(14, 100), (60, 10), (90, 10)]), _therapy("P1"))
    assert row["baseline_date"] == _day(14)
    assert _b(row["baseline_late"]) is True
    assert _b(row["informative"]) is True
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == "informative (late baseline); normalized on day 67 since diagnosis; persistence not judged (no complete remission in the timeline)"


def test_no_baseline_when_first_sample_is_15_days_after_start():
    row = _one(_series("P1", "VMA", [(15, 100), (60, 10)]), _therapy("P1"))
    assert row["baseline_date"] is pd.NaT
    assert _b(row["informative"]) is pd.NA
    assert _b(row["normalized"]) is pd.NA
    assert row["summary"] == "no baseline sample"


@pytest.mark.parametrize(("days_before_diagnosis", "is_baseline"), [(30, True), (31, False)])
def test_baseline_window_opens_30_days_before_diagnosis(days_before_diagnosis, is_baseline):
    # therapy day of DX − n is −7 − n; the only sample: baseline when n = 30 (day −30 in), none when 31
    points = [(-7 - days_before_diagnosis, 100), (60, 10)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert (row["baseline_date"] == DX - pd.Timedelta(days=days_before_diagnosis)) is is_baseline
    assert (row["summary"] == "no baseline sample") is (not is_baseline)


def test_baseline_is_the_last_sample_in_the_window():
    # diagnosis day −7 (100, elevated) and therapy start day 0 (20, normal): the later one is baseline
    row = _one(_series("P1", "VMA", [(-7, 100), (0, 20), (30, 10)]), _therapy("P1"))
    assert row["baseline_date"] == _day(0)
    assert _b(row["informative"]) is False


def test_window_opens_30_days_before_therapy_start_without_diagnosis():
    no_dx = _patients("P1", diagnosis=pd.NaT)
    inside = _one(_series("P1", "VMA", [(-30, 100), (60, 10)]), _therapy("P1"), no_dx)
    outside = _one(_series("P1", "VMA", [(-31, 100), (60, 10)]), _therapy("P1"), no_dx)
    assert inside["baseline_date"] == _day(-30)
    assert outside["baseline_date"] is pd.NaT


def test_no_dates_warns_and_assumes_the_first_sample_as_baseline():
    # Updated for issue 13: without any date the first sample is an assumed baseline (documented
    # fallback), said in the warning and the summary, instead of "no baseline" for everyone.
    measurements = _series("P9", "VMA", [(0, 100), (60, 10)])
    with pytest.warns(UserWarning, match="1 patient\\(s\\) have neither a diagnosis date nor a treatment event"):
        result = assess(measurements, therapy=pd.DataFrame(), patients=pd.DataFrame())
    assert result["baseline_assumed"].tolist() == [True]
    assert result["summary"].tolist() == [
        "informative (assumed baseline: first sample); normal at last sample (2024-03-08), unconfirmed: "
        "repeat advised; persistence not judged (no complete remission in the timeline)"]


# -- re-elevation -----------------------------------------------------------------------------------------


def test_single_mild_rise_is_not_reelevation():
    # normalized at day 60 (two normals); one rise to 40 (1.48x) then normal again
    points = [(0, 200), (60, 20), (90, 20), (120, 40), (150, 20)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert _b(row["normalized"]) is True
    assert _b(row["reelevation"]) is False
    assert row["reelevation_date"] is pd.NaT
    assert row["unconfirmed_rise_date"] == _day(120)
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == (
        f"informative; normalized on day 67 since diagnosis; {NOCR}; "
        "unconfirmed rise on day 127 since diagnosis (1.5x ULN): not confirmed by the next sample")


def test_two_consecutive_elevated_samples_are_reelevation():
    points = [(0, 200), (60, 20), (90, 20), (120, 40), (150, 45), (180, 20)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert _b(row["reelevation"]) is True
    assert row["reelevation_date"] == _day(120)
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == (
        f"informative; normalized on day 67 since diagnosis; {NOCR}; re-elevated on day 127 since diagnosis")


def test_single_sample_at_3x_uln_is_reelevation_only_as_an_option():
    # 81 / 27 = 3.0 exactly: >= 3x ULN. Updated for issue 13: by default a single sample of any grade
    # is an unconfirmed rise; the single-sample rule is a documented option.
    points = [(0, 200), (60, 20), (90, 20), (120, 81), (150, 20)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert _b(row["reelevation"]) is False
    assert row["unconfirmed_rise_date"] == _day(120)
    row = _one(_series("P1", "VMA", points), _therapy("P1"), rules=AssessmentRules(reelevation_single_x_uln=3.0))
    assert _b(row["reelevation"]) is True
    assert row["reelevation_date"] == _day(120)


def test_single_sample_just_below_3x_uln_is_not_reelevation():
    # 80 / 27 = 2.96x ULN
    points = [(0, 200), (60, 20), (90, 20), (120, 80), (150, 20)]
    rules = AssessmentRules(reelevation_single_x_uln=3.0)
    assert _b(_one(_series("P1", "VMA", points), _therapy("P1"), rules=rules)["reelevation"]) is False


def test_unconfirmed_rise_at_last_sample():
    # one elevated sample after normalization, at the end: not (yet) a re-elevation, repeat advised.
    # Updated for issue 13: the last sample no longer makes the patient persistent.
    points = [(0, 200), (60, 20), (90, 20), (120, 40)]
    row = _one(_series("P1", "VMA", points), _therapy("P1"))
    assert _b(row["reelevation"]) is False
    assert _b(row["persistent"]) is pd.NA
    # Updated for issue 14: the summary counts days since diagnosis (DX = therapy day -7), as the report does.
    assert row["summary"] == (
        f"informative; normalized on day 67 since diagnosis; {NOCR}; "
        "unconfirmed rise on day 127 since diagnosis (1.5x ULN): repeat advised"
    )


def test_rules_are_configurable():
    # with 3 consecutive normals required: 60, 90, 120 normalize (day 60). Updated for issue 13:
    # the old example relied on a single normal last sample normalizing.
    points = [(0, 200), (60, 20), (90, 20), (120, 20), (150, 40)]
    rules = AssessmentRules(normalized_consecutive=3, milestones=("surgery",), persistence_milestones=("surgery",))
    result = assess(_series("P1", "VMA", points), therapy=_therapy("P1"), patients=_patients("P1"), rules=rules)
    assert result["normalized_date"].iloc[0] == _day(60)
    assert "status_surgery" in result.columns
    assert "status_end_of_induction" not in result.columns


# -- VMA/HVA ratio -------------------------------------------------------------------------------------------


def test_vma_hva_ratio_mass_and_molar():
    # VMA 30 / HVA 20 mg/g = 1.5 (mass); molar = 1.5 × M_HVA / M_VMA = 1.5 × 182.175 / 198.174 = 1.5 × 0.919268 = 1.37890.
    # 1.5 is not < 1.5: not low.
    measurements = pd.concat([
        _series("P1", "VMA", [(0, 30), (60, 10)]),
        _series("P1", "HVA", [(0, 20), (60, 10)], uln=42.0),
        _series("P1", "DA", [(0, 500)], uln=1290.0),
    ], ignore_index=True)
    result = assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))
    assert result["analyte"].tolist() == ["VMA", "HVA", "DA"]
    assert result["vma_hva_ratio_mass"].iloc[:2].tolist() == pytest.approx([1.5, 1.5])
    assert result["vma_hva_ratio_molar"].iloc[:2].tolist() == pytest.approx([1.5 * M_HVA / M_VMA] * 2)
    assert round(result["vma_hva_ratio_molar"].iloc[0], 5) == 1.37890
    assert result["low_vma_hva_ratio"].iloc[:2].tolist() == [False, False]
    assert math.isnan(result["vma_hva_ratio_mass"].iloc[2])
    assert result["low_vma_hva_ratio"].iloc[2] is pd.NA


def test_low_vma_hva_ratio():
    # 28 / 20 = 1.4 < 1.5
    measurements = pd.concat([_series("P1", "VMA", [(0, 28)]), _series("P1", "HVA", [(0, 20)], uln=42.0)])
    result = assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))
    assert result["vma_hva_ratio_mass"].tolist() == pytest.approx([1.4, 1.4])
    assert result["low_vma_hva_ratio"].tolist() == [True, True]


def test_vma_hva_ratio_from_molar_units():
    # the same samples in mmol/mol: VMA 30 mg/g = 30 × 113.120 / 198.174 = 17.1244 mmol/mol,
    # HVA 20 mg/g = 20 × 113.120 / 182.175 = 12.4189 mmol/mol; back in mg/g the ratio is 1.5 again,
    # and the molar ratio is 17.1244 / 12.4189 = 1.37890 (= 1.5 × 182.175 / 198.174).
    vma = 30 * M_CREA / M_VMA
    hva = 20 * M_CREA / M_HVA
    measurements = pd.concat([
        _series("P1", "VMA", [(0, vma)], uln=27 * M_CREA / M_VMA, unit=MOLAR),
        _series("P1", "HVA", [(0, hva)], uln=42 * M_CREA / M_HVA, unit=MOLAR),
    ])
    result = assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))
    assert result["vma_hva_ratio_mass"].iloc[0] == pytest.approx(1.5)
    assert result["vma_hva_ratio_molar"].iloc[0] == pytest.approx(vma / hva)


def test_no_ratio_from_censored_baseline():
    measurements = pd.concat([_series("P1", "VMA", [(0, 2, "<")]), _series("P1", "HVA", [(0, 20)], uln=42.0)])
    result = assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))
    assert result["vma_hva_ratio_mass"].isna().all()
    assert result["low_vma_hva_ratio"].isna().all()


def test_unknown_unit_for_ratio_raises():
    measurements = pd.concat([_series("P1", "VMA", [(0, 30)], unit="mg/L"), _series("P1", "HVA", [(0, 20)])])
    with pytest.raises(UnknownUnitError, match="patient P1, VMA: unit 'mg/L'"):
        assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))


# -- table shape ----------------------------------------------------------------------------------------------


def test_columns_order_dtypes_and_sorting():
    measurements = pd.concat([
        _series("P2", "HVA", [(0, 100)], uln=42.0),
        _series("P1", "NMN", [(0, 100)], uln=500.0),
        _series("P1", "HVA", [(0, 100)], uln=42.0),
        _series("P1", "VMA", [(0, 100)]),
    ], ignore_index=True)
    therapy = pd.concat([_therapy("P1"), _therapy("P2")])
    result = assess(measurements, therapy=therapy, patients=_patients("P1", "P2"))
    assert list(result.columns) == ASSESSMENT_COLUMNS
    assert list(result[["patient_id", "analyte"]].itertuples(index=False, name=None)) == [
        ("P1", "VMA"), ("P1", "HVA"), ("P1", "NMN"), ("P2", "HVA")]
    for column in ("informative", "normalized", "persistent", "reelevation", "low_vma_hva_ratio"):
        assert str(result[column].dtype) == "boolean", column
    for column in ("baseline_date", "normalized_date", "reelevation_date", "last_sample_date"):
        assert str(result[column].dtype) == "datetime64[ns]", column
    assert str(result["days_to_normalization"].dtype) == "Int64"
    assert str(result["half_life_n"].dtype) == "Int64"
    assert result["baseline_late"].dtype == bool


def test_exact_column_names():
    assert ASSESSMENT_COLUMNS == [
        "patient_id", "analyte", "n_samples", "informative", "baseline_date", "baseline_value", "baseline_x_uln",
        "baseline_late", "baseline_assumed", "nadir_date", "nadir_value", "nadir_x_uln", "first_normal_date",
        "normalized", "normalized_date", "days_to_normalization", "normalization", "status_surgery",
        "status_end_of_induction", "status_complete_remission", "status_end_of_therapy", "persistent",
        "persistent_at", "reelevation", "reelevation_date", "unconfirmed_rise_date", "unconfirmed_rise_x_uln",
        "limit_steps", "last_sample_date", "last_status", "half_life_days", "k_per_day", "half_life_r2",
        "half_life_n", "half_life_points", "half_life_note", "vma_hva_ratio_mass", "vma_hva_ratio_molar",
        "low_vma_hva_ratio", "vma_hva_ratio_note", "summary",
        # Added for issues 14 and 15: each finding's day since diagnosis (day 0), filled for date-free data too
        "baseline_day", "nadir_day", "first_normal_day", "normalized_day", "reelevation_day",
        "unconfirmed_rise_day", "last_sample_day",
    ]


def test_empty_measurements_give_empty_table():
    result = assess(_series("P1", "VMA", [(0, 1)]).iloc[:0], therapy=pd.DataFrame(), patients=pd.DataFrame())
    assert result.empty
    assert list(result.columns) == ASSESSMENT_COLUMNS


def test_inputs_not_mutated():
    measurements = _series("P1", "VMA", [(0, 200), (30, 20), (60, 20)])
    therapy, patients = _therapy("P1", surgery=30), _patients("P1")
    copies = [measurements.copy(), therapy.copy(), patients.copy()]
    assess(measurements, therapy=therapy, patients=patients)
    for original, copy in zip([measurements, therapy, patients], copies, strict=True):
        pd.testing.assert_frame_equal(original, copy)


def test_unflagged_measurements_raise():
    measurements = _series("P1", "VMA", [(0, 200)]).drop(columns=["elevated", "x_uln"])
    with pytest.raises(MissingColumnError, match="lacks column\\(s\\) 'x_uln', 'elevated'.*markers.analysis.flags.flag"):
        assess(measurements, therapy=_therapy("P1"), patients=_patients("P1"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"milestones": ("surgery", "mid-induction")}, "'mid-induction' not event code"),
        ({"milestone_window_days": -1}, "milestone_window_days must be 0 or more"),
        ({"normalized_consecutive": 0}, "normalized_consecutive must be at least 1"),
        ({"kinetics_end": "last"}, "kinetics_end must be 'first_normal' or 'before_first_normal'"),
        ({"persistence_milestones": ("cure",)}, "'cure' not event code"),
    ],
)
def test_invalid_rules_raise(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AssessmentRules(**kwargs)


def test_assumed_baseline_warning_names_the_first_five_ids_in_text_order():
    # IDs given out of order; the warning names the first five in text order ("P10" before "P2")
    ids = ["P7", "P10", "P2", "P1", "P3", "P5", "P4"]
    m = pd.DataFrame({
        "patient_id": ids, "analyte": ["VMA"] * 7,
        "sample_date": pd.to_datetime(["2024-01-01"] * 7),
        "value": [10.0] * 7, "unit": ["mg/g creatinine"] * 7, "censor": [""] * 7, "x_uln": [10 / 27] * 7,
        "elevated": pd.array([False] * 7, dtype="boolean"),
    })
    with pytest.warns(UserWarning, match=r"^7 patient\(s\) have neither .* \(P1, P10, P2, P3, P4, \.\.\.\)"):
        assess(m, therapy=pd.DataFrame(), patients=pd.DataFrame())
