"""Small hand-made tables shaped like the flagged, timed measurements, therapy events,
patients and assessment that the pipeline produces; shared by the plotting, cohort
and report tests.

Patient P1 (born 2020-04-06, diagnosed 2022-12-01, day 0) has VMA and HVA samples on
days 0, 60, 150 and 240. The ARUP VMA limit is 27 mg/g up to age 2 y (the "0–2 y" band)
and 13 mg/g from 3 y [S1]; P1's 3rd birthday, 2023-04-06, is day 126
(Dec 31 + Jan 31 + Feb 28 + Mar 31 = 121 days to 1 April, + 5 = 126).
"""

from __future__ import annotations

import pandas as pd

from markers.ingest.dataset import Dataset
from markers.plot.table import GridTable

UNIT = "mg/g creatinine"


def _grade(x: float) -> str:
    if pd.isna(x):
        return "no_reference"
    if x <= 1.0:
        return "normal"
    if x < 2.0:
        return "mild"
    if x < 3.0:
        return "moderate"
    return "marked"


def _rows(patient: str, dob: str, dx: str, samples: list[tuple]) -> list[dict]:
    """samples: (day, analyte, value, censor, uln)."""
    birth, origin = pd.Timestamp(dob), pd.Timestamp(dx)
    out = []
    for i, (day, analyte, value, censor, uln) in enumerate(samples):
        date = origin + pd.Timedelta(days=day)
        x = value / uln
        out.append({
            "patient_id": patient, "sample_date": date, "analyte": analyte, "value": float(value),
            "unit": UNIT, "censor": censor, "age_days": (date - birth).days, "uln": float(uln),
            "x_uln": x, "elevated": x > 1.0 if censor != "<" or x <= 1.0 else pd.NA,
            "grade": _grade(x) if censor != "<" or x <= 1.0 else "indeterminate",
            "day": day, "phase": "", "source_cell": f"C{i + 2}",
        })
    return out


def make_data() -> pd.DataFrame:
    rows = []
    rows += _rows("P1", "2020-04-06", "2022-12-01", [
        (0, "VMA", 270.0, "", 27.0), (60, "VMA", 54.0, "", 27.0),
        (150, "VMA", 13.0, "", 13.0), (240, "VMA", 5.0, "<", 13.0),
        (0, "HVA", 126.0, "", 42.0), (60, "HVA", 63.0, "", 42.0),
        (150, "HVA", 33.0, "", 22.0), (240, "HVA", 11.0, "", 22.0),
    ])
    rows += _rows("P2", "2023-01-10", "2023-05-15", [
        (0, "VMA", 81.0, "", 27.0), (45, "VMA", 20.0, "", 27.0), (120, "VMA", 10.0, "", 27.0),
        (0, "HVA", 84.0, "", 42.0), (45, "HVA", 30.0, "", 42.0), (120, "HVA", 21.0, "", 42.0),
    ])
    rows += _rows("P3", "2018-06-01", "2022-03-01", [
        (0, "VMA", 65.0, "", 13.0), (90, "VMA", 12.0, "", 13.0), (200, "VMA", 39.0, "", 13.0),
        (0, "HVA", 88.0, "", 22.0), (90, "HVA", 20.0, "", 22.0), (200, "HVA", 70.0, "", 22.0),
    ])
    rows += _rows("P4", "2021-02-01", "2022-08-01", [
        (0, "VMA", 10.0, "", 27.0), (100, "VMA", 9.0, "", 27.0),
        (0, "HVA", 20.0, "", 42.0), (100, "HVA", 15.0, "", 42.0),
    ])
    frame = pd.DataFrame(rows)
    frame["age_days"] = frame["age_days"].astype("Int64")
    frame["day"] = frame["day"].astype("Int64")
    frame["elevated"] = frame["elevated"].astype("boolean")
    return frame


def make_patients() -> pd.DataFrame:
    frame = pd.DataFrame({
        "patient_id": ["P1", "P2", "P3", "P4"],
        "sex": ["F", "M", "M", "F"],
        "date_of_birth": pd.to_datetime(["2020-04-06", "2023-01-10", "2018-06-01", "2021-02-01"]),
        "diagnosis_date": pd.to_datetime(["2022-12-01", "2023-05-15", "2022-03-01", "2022-08-01"]),
    })
    frame["age_at_diagnosis_days"] = (frame["diagnosis_date"] - frame["date_of_birth"]).dt.days.astype("Int64")
    return frame


def make_therapy() -> pd.DataFrame:
    events = [
        ("P1", "diagnosis", "2022-12-01"), ("P1", "therapy_start", "2022-12-05"),
        ("P1", "surgery", "2023-03-01"), ("P1", "end_of_induction", "2023-03-20"),
        ("P1", "consolidation", "2023-04-10"), ("P1", "maintenance", "2023-06-01"),
        ("P1", "complete_remission", "2023-07-01"),
        ("P2", "diagnosis", "2023-05-15"), ("P2", "therapy_start", "2023-05-20"),
        ("P2", "surgery", "2023-06-20"), ("P2", "complete_remission", "2023-08-01"),
        ("P3", "diagnosis", "2022-03-01"), ("P3", "therapy_start", "2022-03-03"),
        ("P3", "complete_remission", "2022-06-01"), ("P3", "relapse", "2022-09-10"),
        ("P4", "diagnosis", "2022-08-01"), ("P4", "therapy_start", "2022-08-02"),
    ]
    frame = pd.DataFrame(events, columns=["patient_id", "event", "event_date"])
    frame["event_label"] = frame["event"].str.replace("_", " ")
    frame["event_date"] = pd.to_datetime(frame["event_date"])
    return frame[["patient_id", "event", "event_label", "event_date"]]


def make_assessment() -> pd.DataFrame:
    """Hand-written assessment rows (the values follow from make_data by inspection)."""
    nat = pd.NaT
    rows = [
        # patient, analyte, informative, baseline day, baseline value, x, nadir day, value, x, normalized day
        ("P1", "VMA", True, 0, 270.0, 10.0, 240, 5.0, 5 / 13, 150),
        ("P1", "HVA", True, 0, 126.0, 3.0, 240, 11.0, 0.5, 240),
        ("P2", "VMA", True, 0, 81.0, 3.0, 120, 10.0, 10 / 27, 45),
        ("P2", "HVA", True, 0, 84.0, 2.0, 120, 21.0, 0.5, 45),
        ("P3", "VMA", True, 0, 65.0, 5.0, 90, 12.0, 12 / 13, 90),
        ("P3", "HVA", True, 0, 88.0, 4.0, 90, 20.0, 20 / 22, 90),
        ("P4", "VMA", False, 0, 10.0, 10 / 27, 100, 9.0, 9 / 27, None),
        ("P4", "HVA", False, 0, 20.0, 20 / 42, 100, 15.0, 15 / 42, None),
    ]
    dx = make_patients().set_index("patient_id")["diagnosis_date"]
    start = make_therapy().query("event == 'therapy_start'").set_index("patient_id")["event_date"]
    last = make_data().groupby("patient_id")["sample_date"].max()
    out = []
    for pid, analyte, informative, bday, bval, bx, nday, nval, nx, normday in rows:
        origin = dx[pid]
        norm_date = origin + pd.Timedelta(days=normday) if normday is not None else nat
        out.append({
            "patient_id": pid, "analyte": analyte, "informative": informative,
            "baseline_date": origin + pd.Timedelta(days=bday), "baseline_value": bval, "baseline_x_uln": bx,
            "baseline_late": False,
            "nadir_date": origin + pd.Timedelta(days=nday), "nadir_value": nval, "nadir_x_uln": nx,
            "normalized": normday is not None and informative, "normalized_date": norm_date if informative else nat,
            "days_to_normalization": (norm_date - start[pid]).days if informative and normday is not None else None,
            "status_surgery": "elevated" if pid in ("P1", "P2") else "no sample",
            "status_end_of_induction": "normal" if pid == "P1" else "",
            "status_complete_remission": "elevated" if pid == "P3" else ("normal" if pid != "P4" else ""),
            "status_end_of_therapy": "",
            "persistent": False, "persistent_at": "",
            "reelevation": pid == "P3", "reelevation_date": origin + pd.Timedelta(days=200) if pid == "P3" else nat,
            "last_sample_date": last[pid], "half_life_days": 21.0 if informative else float("nan"),
            "summary": (f"{analyte} elevated at diagnosis ({bx:.1f}× ULN); normal from day {normday}."
                        if informative else f"{analyte} normal at diagnosis: not informative."),
        })
    frame = pd.DataFrame(out)
    frame["days_to_normalization"] = frame["days_to_normalization"].astype("Int64")
    for col in ("informative", "normalized", "persistent", "reelevation"):
        frame[col] = frame[col].astype("boolean")
    return frame


def make_dataset() -> Dataset:
    data = make_data()
    issues = pd.DataFrame([
        {"code": "non-numeric-result", "severity": "error", "file": "results.xlsx", "sheet": "Samples",
         "cell": "D14", "row": 14, "column": "VMA", "value": "QNS", "message": "Result is text, not a number",
         "hint": ""},
        {"code": "dilute-urine", "severity": "warning", "file": "results.xlsx", "sheet": "Samples",
         "cell": "E9", "row": 9, "column": "Creatinine", "value": "0.9", "message": "Dilute urine", "hint": ""},
    ])
    rows = pd.DataFrame({"file": ["results.xlsx"] * 40, "sheet": ["Samples"] * 40, "row": range(1, 41),
                         "status": ["skipped"] + ["kept"] * 38 + ["rejected"], "reason": [""] * 40})
    files = pd.DataFrame({"file": ["results.xlsx"], "path": ["results.xlsx"],
                          "sha256": ["ab" * 32], "format": ["xlsx"]})
    return Dataset(measurements=data, patients=make_patients(), therapy=make_therapy(), issues=issues,
                   rows=rows, files=files, unit=UNIT)


KEY = bytes(range(32))


def make_pseudonymized():
    """(dataset, data, assessment) of the tiny cohort after pseudonymisation: no dates, hashed IDs."""
    from markers.pipeline import Analysis, pseudonymize_analysis

    analysis = Analysis(dataset=make_dataset(), measurements=make_data(), assessment=make_assessment(),
                        limits=pd.DataFrame(), reference_set="test")
    shared = pseudonymize_analysis(analysis, key=KEY)
    return shared.dataset, shared.measurements, shared.assessment


def pseudonym_of(patient: str) -> str:
    from markers.privacy.pseudonym import pseudonym

    return pseudonym(patient, key=KEY)


def tables_of(fig) -> list[GridTable]:
    """The tables drawn on a page, in the order they were added."""
    return [a for a in fig.artists if isinstance(a, GridTable)]
