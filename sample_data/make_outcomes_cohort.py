"""Write ``outcomes_cohort.xlsx``: a synthetic cohort of 100 patients with follow-up, for survival analysis.

Synthetic data only (no real patient). Designed so that marker positivity at complete remission
carries a higher relapse hazard; the design is in ``README.md`` ("outcomes_cohort.xlsx").

    python sample_data/make_outcomes_cohort.py [OUTPUT_DIR]

Only numpy, openpyxl and the standard library; byte-for-byte reproducible (seed 2025, fixed
workbook metadata, ZIP entries stored in sorted order with a fixed timestamp).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import sys
import zipfile
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

SEED = 2025
N_PATIENTS = 100
CUTOFF = dt.date(2025, 6, 30)  # data cut-off: administrative censoring
FIXED = dt.datetime(2025, 7, 1, 9, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
YEAR = 365.25
# Design targets: 3-year EFS from complete remission 80% when marker-negative and 38% when positive
# (the figures Matser et al. 2025 report; used here only as a plausible shape for synthetic data).
# Constant hazards: lambda = -ln(S(3 y)) / 3 y.
HAZARD_CR_NEGATIVE = -math.log(0.80) / (3 * YEAR)
HAZARD_CR_POSITIVE = -math.log(0.38) / (3 * YEAR)
HAZARD_NO_CR = -math.log(0.30) / (3 * YEAR)
# ARUP 3018863 upper limits (mg/g creatinine) by age band, as in markers/data/reference_limits.csv
ULN = {"VMA": [(36, 27.0), (72, 13.0), (216, 9.0), (10**6, 6.0)],
       "HVA": [(36, 42.0), (72, 22.0), (216, 15.0), (10**6, 8.0)]}


def uln(analyte: str, age_months: float) -> float:
    return next(limit for upper, limit in ULN[analyte] if age_months < upper)


def months(dob: dt.date, on: dt.date) -> float:
    return (on - dob).days / 30.4375


def patient(i: int, rng: np.random.Generator) -> dict:
    """One patient's story: dates of diagnosis, milestones, marker status and outcome."""
    pid = f"NB-{i:03d}"
    age_dx = rng.uniform(2, 17) if rng.random() < 0.35 else rng.uniform(18, 96)  # months
    diagnosis = dt.date(2015, 1, 5) + dt.timedelta(days=int(rng.integers(0, 5 * 365)))
    dob = diagnosis - dt.timedelta(days=int(age_dx * 30.4375))
    p = {"pid": pid, "dob": dob, "diagnosis": diagnosis, "sex": "F" if rng.random() < 0.45 else "M",
         "stage": "4" if rng.random() < 0.75 else "3", "mycn": "amplified" if rng.random() < 0.35 else "not amplified",
         "informative": rng.random() < 0.9, "events": [("Diagnosis", 0), ("Start of induction", 3)]}
    eoi = int(rng.normal(140, 8))
    cr = eoi + int(rng.normal(90, 15))
    p["eoi_positive"] = p["informative"] and rng.random() < 0.45
    # CR positivity follows EOI positivity: 45% of EOI-positive, 12% of EOI-negative patients
    p["cr_positive"] = p["informative"] and rng.random() < (0.45 if p["eoi_positive"] else 0.12)
    early = rng.random() < 0.07  # progression during induction: excluded at every landmark
    reaches_cr = not early and rng.random() < 0.88
    if early:
        event_day, event = int(rng.uniform(40, eoi - 10)), "Progression"
    else:
        p["events"].append(("End of induction", eoi))
        start, hazard = (cr, HAZARD_CR_POSITIVE if p["cr_positive"] else HAZARD_CR_NEGATIVE) if reaches_cr \
            else (eoi, HAZARD_NO_CR)
        if reaches_cr:
            p["events"].append(("Complete remission", cr))
        event_day = start + int(rng.exponential(1 / hazard))
        event = "Relapse" if reaches_cr else "Progression"
        if rng.random() < 0.03:
            event_day, event = start + int(rng.uniform(700, 2500)), "Second malignancy"
    censor_day = (CUTOFF - diagnosis).days
    if rng.random() < 0.08:  # lost to follow-up
        censor_day = int(rng.uniform(200, censor_day))
    p["end_day"] = min(event_day, censor_day)
    p["event"] = event if event_day <= censor_day else None
    p["death_day"] = None
    if p["event"] is not None:
        p["events"].append((event, event_day))
        if rng.random() < 0.6:
            death = event_day + int(rng.exponential(300))
            if death <= censor_day:
                p["death_day"] = death
                p["events"].append(("Death", death))
    if p["death_day"] is None:
        p["events"].append(("Last follow-up", censor_day))  # alive: followed to the cut-off or until lost
    p["eoi"], p["cr"] = (None if early else eoi), (cr if reaches_cr else None)
    return p


def samples(p: dict, rng: np.random.Generator) -> list[list]:
    """Spot-urine VMA/HVA (mg/g creatinine): elevated = 2-6 × ULN, normal = 0.2-0.7 × ULN."""
    rows = []
    days = [0, 35, 90]
    if p["eoi"] is not None:
        days.append(p["eoi"])
    if p["cr"] is not None:
        days.append(p["cr"])
        days += [d for d in range(p["cr"] + 180, p["end_day"], 180)][:6]
    for day in sorted(set(d for d in days if d <= p["end_day"])):
        if day == 0:
            elevated = p["informative"]
        elif p["eoi"] is not None and day == p["eoi"]:
            elevated = p["eoi_positive"]
        elif p["cr"] is not None and day >= p["cr"]:
            elevated = p["cr_positive"] and day < p["cr"] + 200
        else:
            elevated = p["informative"] and day < 60
        when = p["diagnosis"] + dt.timedelta(days=day)
        age = months(p["dob"], when)
        values = []
        for analyte in ("VMA", "HVA"):
            factor = rng.uniform(2.0, 6.0) if elevated else rng.uniform(0.2, 0.7)
            values.append(round(factor * uln(analyte, age), 1))
        rows.append([p["pid"], when, *values])
    return rows


def _fixed_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(name))
    return out.getvalue()


def main(argv: list[str] | None = None) -> Path:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path(__file__).parent
    rng = np.random.default_rng(SEED)
    cohort = [patient(i + 1, rng) for i in range(N_PATIENTS)]
    # three patients whose follow-up was never entered: reported as missing-follow-up, not censored
    for p in cohort[-3:]:
        p["events"] = [e for e in p["events"] if e[0] != "Last follow-up"]
    wb = Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(["Patient ID", "Sex", "Date of birth", "Date of diagnosis", "INSS stage", "MYCN status"])
    for p in cohort:
        ws.append([p["pid"], p["sex"], p["dob"], p["diagnosis"], p["stage"], p["mycn"]])
    ws = wb.create_sheet("Samples")
    ws.append(["Patient ID", "Sample date", "VMA (mg/g creat)", "HVA (mg/g creat)"])
    for p in cohort:
        for row in samples(p, rng):
            ws.append(row)
    ws = wb.create_sheet("Treatment")
    ws.append(["Patient ID", "Event", "Date"])
    for p in cohort:
        for label, day in p["events"]:
            ws.append([p["pid"], label, p["diagnosis"] + dt.timedelta(days=day)])
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = wb.properties.lastModifiedBy = "markers sample data"
    wb.properties.created = wb.properties.modified = FIXED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    path = folder / "outcomes_cohort.xlsx"
    path.write_bytes(_fixed_zip(buffer.getvalue()))
    return path


if __name__ == "__main__":
    print(main())
