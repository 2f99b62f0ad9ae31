"""The assessment on the day axis of date-free sources (days since diagnosis, no calendar dates).

One hand-built course, given twice: with days since diagnosis only, and with calendar dates
(diagnosis DX = 2024-01-01, each sample on DX + its day). Both must give the same per-analyte
answers; the date-free one has empty date columns and filled day columns.

Worked by hand (the limits are inputs of the flagged table, chosen for round numbers):
- therapy start on day 7, complete remission (CR) on day 200.
- VMA, ULN 27 mg/g: day 0 80 (2.96x), day 30 40 (1.48x), day 60 20 (normal), day 90 15 (normal),
  day 200 10 (normal). Baseline: the last sample from day -30 to the first treatment (day 7) = day 0,
  elevated -> informative. Two consecutive normals from day 60 -> normalized on day 60 since diagnosis,
  53 days after the first treatment. Normal at CR -> not persistent. Nadir: lowest x ULN after the
  baseline = day 200. Half-life from the baseline to the first normal: 80, 40, 20 every 30 days =
  exactly 30 days (r2 = 1, 3 points).
- HVA, ULN 22 mg/g: day 0 66 (3x), day 60 44 (2x), day 120 33 (1.5x), day 200 30 (1.36x): never
  normal -> not normalized; elevated at the CR sample (day 200) -> persistent at complete remission.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from markers.analysis.assess import DAY_COLUMNS, assess

DX = pd.Timestamp("2024-01-01")
MASS = "mg/g creatinine"
COURSE = {"VMA": (27.0, [(0, 80), (30, 40), (60, 20), (90, 15), (200, 10)]),
          "HVA": (22.0, [(0, 66), (60, 44), (120, 33), (200, 30)])}
EVENTS = [("therapy_start", 7), ("complete_remission", 200)]
DATES = ("baseline_date", "nadir_date", "first_normal_date", "normalized_date", "reelevation_date",
         "unconfirmed_rise_date", "last_sample_date")


def _measurements(patient: str, *, dated: bool) -> pd.DataFrame:
    rows = []
    for analyte, (uln, points) in COURSE.items():
        for day, value in points:
            rows.append({"patient_id": patient, "sample_date": DX + pd.Timedelta(days=day) if dated else pd.NaT,
                         "day": day, "days_since_diagnosis": pd.NA if dated else day, "analyte": analyte,
                         "value": float(value), "unit": MASS, "censor": "", "uln": uln, "x_uln": value / uln,
                         "elevated": value > uln})
    frame = pd.DataFrame(rows)
    frame["sample_date"] = pd.to_datetime(frame["sample_date"]).astype("datetime64[ns]")
    frame["elevated"] = frame["elevated"].astype("boolean")
    frame["day"] = frame["day"].astype("Int64")
    frame["days_since_diagnosis"] = frame["days_since_diagnosis"].astype("Int64")
    return frame


def _therapy(patient: str, *, dated: bool) -> pd.DataFrame:
    if dated:
        return pd.DataFrame({"patient_id": [patient] * 2, "event": [e for e, _ in EVENTS],
                             "event_date": [DX + pd.Timedelta(days=d) for _, d in EVENTS]})
    return pd.DataFrame({"patient_id": [patient] * 2, "event": [e for e, _ in EVENTS],
                         "event_day": [d for _, d in EVENTS]})


def _patients(patient: str) -> pd.DataFrame:
    return pd.DataFrame({"patient_id": [patient], "diagnosis_date": [DX]})


def _date_free(patient: str = "C1") -> pd.DataFrame:
    return assess(_measurements(patient, dated=False), therapy=_therapy(patient, dated=False),
                  patients=pd.DataFrame())


def _dated(patient: str = "C1") -> pd.DataFrame:
    return assess(_measurements(patient, dated=True), therapy=_therapy(patient, dated=True),
                  patients=_patients(patient))


def _row(frame: pd.DataFrame, patient: str, analyte: str) -> pd.Series:
    return frame[(frame["patient_id"] == patient) & (frame["analyte"] == analyte)].iloc[0]


def test_date_free_course_is_assessed_on_days_since_diagnosis():
    result = _date_free()
    vma, hva = _row(result, "C1", "VMA"), _row(result, "C1", "HVA")
    assert bool(vma["informative"]) and bool(hva["informative"])
    assert [vma[c] for c in DAY_COLUMNS] == [0, 200, 60, 60, pd.NA, pd.NA, 200]
    assert bool(vma["normalized"]) and vma["normalization"] == "confirmed"
    assert vma["days_to_normalization"] == 53  # day 60 - therapy start on day 7
    assert vma["status_complete_remission"] == "normal" and not bool(vma["persistent"])
    assert vma["half_life_days"] == pytest.approx(30.0)
    assert vma["k_per_day"] == pytest.approx(math.log(2) / 30)
    assert vma["half_life_n"] == 3
    assert vma["half_life_points"] == "day 0; day 30; day 60"
    assert vma["summary"] == "informative; normalized on day 60 since diagnosis"
    assert not bool(hva["normalized"]) and hva["normalization"] == "none"
    assert bool(hva["persistent"]) and hva["persistent_at"] == "complete_remission"
    assert hva["status_complete_remission"] == "elevated"
    assert hva["baseline_day"] == 0 and hva["last_sample_day"] == 200
    assert hva["summary"] == "informative; not normalized; persistent at complete remission"
    # outputs speak in days: no date is made up
    assert result[list(DATES)].isna().all().all()


def test_dated_and_date_free_courses_give_the_same_answers():
    free, dated = _date_free(), _dated()
    same = [c for c in free.columns if c not in DATES and c != "half_life_points"]
    pd.testing.assert_frame_equal(free[same], dated[same])
    # the dated course's dates are the diagnosis date plus the same days
    vma = _row(dated, "C1", "VMA")
    assert vma["normalized_date"] == DX + pd.Timedelta(days=60)
    assert vma["baseline_date"] == DX
    assert vma["half_life_points"] == "2024-01-01; 2024-01-31; 2024-03-01"


def test_dated_and_date_free_patients_in_one_run_are_assessed_each_on_its_own_axis():
    measurements = pd.concat([_measurements("A-dated", dated=True), _measurements("B-free", dated=False)],
                             ignore_index=True)
    therapy = pd.concat([_therapy("A-dated", dated=True), _therapy("B-free", dated=False)], ignore_index=True)
    both = assess(measurements, therapy=therapy, patients=_patients("A-dated"))
    alone = pd.concat([_dated("A-dated"), _date_free("B-free")], ignore_index=True)
    pd.testing.assert_frame_equal(both, alone)
    assert both["normalized_day"].tolist() == [60, pd.NA, 60, pd.NA]


def test_a_date_free_sample_without_a_day_is_not_assessed():
    m = _measurements("C1", dated=False)
    m["day"] = m["day"].mask(m["analyte"] == "HVA")
    m["days_since_diagnosis"] = m["days_since_diagnosis"].mask(m["analyte"] == "HVA")
    result = assess(m, therapy=_therapy("C1", dated=False), patients=pd.DataFrame())
    assert result["analyte"].tolist() == ["VMA"]
    assert result["baseline_x_uln"].iloc[0] == pytest.approx(80 / 27)


def test_without_a_diagnosis_date_the_summary_counts_from_the_first_treatment():
    # dated course, therapy start on DX + 7, no diagnosis date: day 60 since DX is day 53 of treatment,
    # and day 0 of the timeline is the therapy start (day columns count from it)
    m = _measurements("C1", dated=True).drop(columns=["day", "days_since_diagnosis"])
    therapy = _therapy("C1", dated=True).iloc[:1]
    vma = _row(assess(m, therapy=therapy, patients=pd.DataFrame()), "C1", "VMA")
    assert vma["summary"].startswith("informative; normalized on day 53 after first treatment")
    assert vma["normalized_day"] == 53 and vma["days_to_normalization"] == 53


def test_the_report_rewords_the_days_since_diagnosis_as_its_day_count():
    from markers.plot.days import reword_days

    said = "informative; normalized on day 81 since diagnosis; re-elevated on day 614 since diagnosis"
    assert reword_days(said, normalized_day=81, reelevation_day=614) == (
        "informative; normalized on day 81; re-elevated on day 614")


DATE_FREE = ("subject_id,sex,age_at_collection_days,days_from_diagnosis,lab_test,result,unit\n"
             "C1,F,400,0,VMA,60,mg/g creat\n"
             "C1,F,430,30,VMA,20,mg/g creat\n"
             "C2,M,2000,,HVA,<5,mg/g creat\n")


def test_a_date_free_table_is_assessed_end_to_end(tmp_path):
    import datetime as dt

    from markers.pipeline import analyse

    path = tmp_path / "commons.csv"
    path.write_text(DATE_FREE, encoding="utf-8")
    with pytest.warns(UserWarning, match="3 results without calendar dates .* 1 without a day since diagnosis"):
        analysis = analyse(path, today=dt.date(2026, 1, 1))
    # C1: 60 mg/g at 400 days of age, ULN 27 (0-2 y) -> 2.22x, elevated baseline on day 0; 20 on day 30
    # is normal but alone: unconfirmed. C2 has an age but no day: flagged, not assessed.
    a = analysis.assessment
    assert a[["patient_id", "analyte"]].values.tolist() == [["C1", "VMA"]]
    row = a.iloc[0]
    assert bool(row["informative"]) and row["normalization"] == "unconfirmed"
    assert row["baseline_day"] == 0 and row["first_normal_day"] == 30 and row["last_sample_day"] == 30
    assert pd.isna(row["baseline_date"]) and pd.isna(row["last_sample_date"])
    assert row["summary"] == ("informative; normal at last sample (day 30 since diagnosis), unconfirmed: "
                              "repeat advised; persistence not judged (no complete remission in the timeline)")


def test_the_panel_names_a_date_free_unconfirmed_rise_by_its_day():
    from markers.analysis.panel import patient_status

    # VMA normalizes (days 60, 90), then one rise to 54 (2x ULN 27) at the last sample, day 250:
    # an unconfirmed rise, repeat advised; the panel has no date to name, so it names the day
    m = _measurements("C1", dated=False)
    m = m[m["analyte"] == "VMA"]
    extra = m.iloc[[-1]].assign(day=250, days_since_diagnosis=250, value=54.0, x_uln=2.0, elevated=True)
    m = pd.concat([m, extra], ignore_index=True)
    m["elevated"] = m["elevated"].astype("boolean")
    result = assess(m, therapy=_therapy("C1", dated=False), patients=pd.DataFrame())
    assert result["unconfirmed_rise_day"].tolist() == [250]
    panel = patient_status(result)
    assert pd.isna(panel["unconfirmed_rise_date"].iloc[0])
    assert panel["summary"].iloc[0].endswith("unconfirmed rise on day 250 since diagnosis: repeat advised")
