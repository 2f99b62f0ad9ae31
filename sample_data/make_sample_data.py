"""Write markers' synthetic sample data, byte for byte reproducibly.

The data are SYNTHETIC: invented patients whose urinary VMA/HVA values were
designed as multiples of the ARUP 3018863 age-specific upper reference limits
(ULN) so that each patient's marker course tells one unambiguous story.

Usage::

    python make_sample_data.py [OUTPUT_DIR]

``OUTPUT_DIR`` defaults to the folder of this script. Files written:

- ``study_workbook.xlsx``  hand-kept study workbook (Patients, Samples, Treatment)
- ``lab_export_eu.csv``    European lab export (cp1252, ``;``, decimal comma, CRLF)
- ``expected_outcomes.csv`` designed outcome per patient x analyte
- ``expected_issues.csv``  the deliberately messy cells and their issue codes
- ``expected_counts.csv``  rows read / kept / rejected / skipped per file and sheet
- ``courses_workbook.xlsx`` six more patients, each showing one course the assessment rules
  were written for (``docs/clinical-rules.md``), with ``expected_courses.csv`` and
  ``expected_courses_issues.csv``

Only numpy, openpyxl and the standard library are used, with a fixed seed,
fixed workbook metadata and fixed ZIP entry timestamps, so two runs give
identical bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

SEED = 7
#: Workbook creation/modification time written into docProps/core.xml.
FIXED_TIME = dt.datetime(2025, 2, 3, 9, 0, 0)
#: Timestamp of every ZIP entry (the earliest a ZIP can hold).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CREATOR = "markers sample data"
SYNTHETIC = "Synthetic data — not real patients"

WORKBOOK = "study_workbook.xlsx"
LAB_CSV = "lab_export_eu.csv"
OUTCOMES_CSV = "expected_outcomes.csv"
ISSUES_CSV = "expected_issues.csv"
COUNTS_CSV = "expected_counts.csv"
COURSES_WORKBOOK = "courses_workbook.xlsx"
COURSES_OUTCOMES_CSV = "expected_courses.csv"
COURSES_ISSUES_CSV = "expected_courses_issues.csv"
OUTCOME_HEADER = ["patient_id", "analyte", "informative", "normalized", "persistent", "reelevation", "notes"]

# -- molar masses from the formulas with IUPAC standard atomic weights ---------------
_WEIGHTS = {"C": 12.011, "H": 1.008, "N": 14.007, "O": 15.999}
M_VMA = 9 * _WEIGHTS["C"] + 10 * _WEIGHTS["H"] + 5 * _WEIGHTS["O"]  # C9H10O5 = 198.174
M_HVA = 9 * _WEIGHTS["C"] + 10 * _WEIGHTS["H"] + 4 * _WEIGHTS["O"]  # C9H10O4 = 182.175
M_CREATININE = 4 * _WEIGHTS["C"] + 7 * _WEIGHTS["H"] + 3 * _WEIGHTS["N"] + _WEIGHTS["O"]  # C4H7N3O = 113.12
MOLAR_MASS = {"VMA": M_VMA, "HVA": M_HVA}
LOINC_MOLAR_RATIO = {"VMA": "14948-4", "HVA": "22708-2"}
TEST_NAME = {"VMA": "Vanillylmandelic acid", "HVA": "Homovanillic acid"}

#: ARUP 3018863 upper limits, mg/g creatinine, by band 0-2 y, 3-5 y, 6-17 y, >=18 y [S1].
ULN_MG_G = {"VMA": (27.0, 13.0, 9.0, 6.0), "HVA": (42.0, 22.0, 15.0, 8.0)}

# Design margins: a "normal" sample is at most 0.7 x ULN and an "elevated" one
# at least 1.5 x ULN, so no rounding or unit conversion can flip a status.
NORMAL_MAX = 0.7
ELEVATED_MIN = 1.5
#: The one designed mild rise (1.5-2 x ULN) in remission: (patient, day, analyte).
MILD_RISES = {("NB-010", 520, "VMA")}
#: Samples designed as flat values across a birthday where the limit steps down (NB-019's VMA after its
#: 3rd birthday: about 17 mg/g, 0.63 x the 0-2 y limit 27 and 1.31 x the 3-5 y limit 13). They are
#: exempt from the margin check: 17 mg/g is far from both limits, so no rounding can flip a status.
LIMIT_STEP_SAMPLES = {("NB-019", day, "VMA") for day in (190, 265, 432, 520, 610)}
# Designed multiples are jittered by at most this fraction (seeded).
JITTER = 0.07

SAMPLES_HEADER = [
    "Study ID",
    "Sample date",
    "VMA (mg/g creat)",
    "HVA (mg/g creat)",
    "Creatinine (mmol/L)",
    "Comment",
]
SAMPLES_TITLE = "Urinary catecholamine metabolites — study NB-SYN"
PATIENTS_HEADER = ["Study ID", "Sex", "Date of birth", "Date of diagnosis", "Diagnosis"]
TREATMENT_HEADER = ["Study ID", "Event", "Date", "Notes"]
CSV_TITLES = ["Labor XY — Befundexport", "Export 03.02.2025"]
CSV_HEADER = [
    "Patient ID",
    "Birth date",
    "Collection date",
    "Test",
    "LOINC",
    "Result",
    "Unit",
    "Flag",
    "Reference range",
]
CSV_UNIT = "µmol/mmol creat"
CSV_FOOTER = "End of report"

# Standard high-risk schedule, days from the start of induction (day 0).
STANDARD_EVENTS = [
    ("Start of induction chemotherapy", 0, "induction chemotherapy"),
    ("Surgery (resection)", 100, "primary tumour resection"),
    ("End of induction", 150, ""),
    ("HDC/ASCT", 185, "high-dose chemotherapy with stem-cell rescue"),
    ("Complete remission", 200, "response evaluation"),
    ("Radiotherapy", 230, "to the primary tumour bed"),
    ("Start maintenance (anti-GD2)", 260, ""),
    ("End of therapy", 430, ""),
]
STANDARD_DAYS = [-3, 21, 49, 77, 110, 152, 190, 265, 432, 520, 610]


@dataclass
class Sample:
    """One designed urine sample: day from therapy start and ULN multiples."""

    day: int
    vma: float  # designed multiple of the age-specific ULN
    hva: float
    source: str = "wb"  # "wb" (workbook) or "csv" (lab export)


@dataclass
class Patient:
    """One synthetic patient and the designed course of the markers."""

    pid: str
    sex: str
    dob: dt.date
    diagnosis: dt.date
    start_offset: int  # days from diagnosis to the start of induction
    story: str
    samples: list[Sample]
    events: list[tuple[str, int, str]] = field(default_factory=lambda: list(STANDARD_EVENTS))
    outcomes: dict[str, tuple[bool, bool, bool, bool, str]] = field(default_factory=dict)

    @property
    def start(self) -> dt.date:
        return self.diagnosis + dt.timedelta(days=self.start_offset)

    def date(self, day: int) -> dt.date:
        return self.start + dt.timedelta(days=day)


def _series(days: list[int], vma: list[float], hva: list[float], *, csv_from: int | None = None) -> list[Sample]:
    if not len(days) == len(vma) == len(hva):
        raise ValueError("days, vma and hva must have equal lengths")
    return [
        Sample(d, v, h, "csv" if csv_from is not None and i >= csv_from else "wb")
        for i, (d, v, h) in enumerate(zip(days, vma, hva, strict=True))
    ]


def age_years(dob: dt.date, on: dt.date) -> int:
    """Completed years of age on a date."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def band(dob: dt.date, on: dt.date) -> int:
    """ARUP band index: 0 = 0-2 y (to the day before the 3rd birthday), 1 = 3-5 y, 2 = 6-17 y, 3 = >=18 y."""
    years = age_years(dob, on)
    return 0 if years < 3 else 1 if years < 6 else 2 if years < 18 else 3


def uln(analyte: str, dob: dt.date, on: dt.date) -> float:
    return ULN_MG_G[analyte][band(dob, on)]


# Outcome tuples: (informative, normalized, persistent, reelevation, notes)
def _responder(what: str) -> tuple[bool, bool, bool, bool, str]:
    return (True, True, False, False, what)


# Not informative: normalized, persistent and re-elevation do not apply (written as empty cells).
NOT_INFORMATIVE = (False, None, None, None, "normal at baseline: not informative, so never normalized or persistent")


def cohort() -> list[Patient]:
    """The designed synthetic cohort (14 patients)."""
    classic_vma = [9, 3.2, 1.8, 0.5, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3, 0.3]
    classic_hva = [5, 2.5, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3]
    patients = [
        Patient(
            "NB-001", "M", dt.date(2021, 4, 20), dt.date(2022, 4, 4), 4,
            "Classic responder, 11 months at diagnosis (0-2 y band throughout). Both markers high at "
            "diagnosis and normal from day 77 on. The VMA of the day-265 sample is 'QNS' (rejected).",
            _series(STANDARD_DAYS, classic_vma, classic_hva),
        ),
        Patient(
            "NB-002", "F", dt.date(2018, 9, 11), dt.date(2022, 2, 21), 4,
            "Classic responder, 3 years at diagnosis (3-5 y band throughout). The day-190 sample is very "
            "dilute (creatinine 0.9 mmol/L) but its ratios are plausible and normal. Two later follow-ups "
            "(normal) come from the lab export.",
            _series(STANDARD_DAYS + [700, 790], classic_vma + [0.3, 0.3], classic_hva + [0.3, 0.3], csv_from=11),
        ),
        Patient(
            "NB-003", "M", dt.date(2016, 7, 8), dt.date(2022, 10, 17), 5,
            "Classic responder, 6 years at diagnosis (6-17 y band). The VMA of the day-520 sample is "
            "below the limit of quantitation, written '<0.5' (censored, kept, normal).",
            _series(STANDARD_DAYS, classic_vma, classic_hva),
        ),
        Patient(
            "NB-004", "F", dt.date(2020, 8, 15), dt.date(2021, 11, 8), 4,
            "Slow responder, 15 months at diagnosis (0-2 y band). Both markers stay elevated through "
            "induction (last pre-operative sample on day 95, 35 days before surgery on day 130) and are "
            "normal from the first post-operative sample (day 136) on. The only sample within 30 days "
            "of surgery is the normal day-136 one, so the markers are not persistent at surgery. "
            "The day-165 row is entered twice (exact duplicate).",
            _series(
                [-5, 21, 49, 77, 95, 136, 165, 200, 280, 440, 530],
                [11, 7, 4.5, 3.2, 2.4, 0.55, 0.45, 0.4, 0.35, 0.3, 0.3],
                [6, 4, 3, 2.2, 1.9, 0.5, 0.45, 0.4, 0.35, 0.3, 0.3],
            ),
            events=[
                ("Start of induction chemotherapy", 0, "induction chemotherapy"),
                ("Surgery (resection)", 130, "delayed resection"),
                ("End of induction", 160, ""),
                ("HDC/ASCT", 190, ""),
                ("Complete remission", 210, "response evaluation"),
                ("Radiotherapy", 235, ""),
                ("Start maintenance (anti-GD2)", 265, ""),
                ("End of therapy", 435, ""),
            ],
        ),
        Patient(
            "NB-005", "M", dt.date(2016, 2, 22), dt.date(2022, 6, 13), 4,
            "Persistent disease, 6 years at diagnosis (6-17 y band). VMA falls but never normalises: "
            "still about 2 x ULN at end of induction (day 152) and at the complete-remission milestone "
            "(day 190 sample, CR declared day 200) and at the last sample. HVA normalises by day 49.",
            _series(
                STANDARD_DAYS,
                [12, 6, 4, 3, 2.6, 2.3, 2.1, 1.9, 1.8, 2.0, 1.9],
                [4, 1.8, 0.55, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3],
            ),
        ),
        Patient(
            "NB-006", "F", dt.date(2019, 2, 10), dt.date(2023, 3, 6), 3,
            "Non-secreting tumour, 4 years at diagnosis (3-5 y band). VMA and HVA are normal at "
            "diagnosis and throughout: the markers are not informative for this patient.",
            _series(
                [-2, 21, 77, 152, 265, 432],
                [0.5, 0.45, 0.4, 0.45, 0.4, 0.35],
                [0.55, 0.5, 0.45, 0.4, 0.45, 0.4],
            ),
        ),
        Patient(
            "NB-007", "M", dt.date(2023, 1, 25), dt.date(2023, 5, 29), 3,
            "Infant, 4 months (124 days) at diagnosis (0-2 y band: VMA ULN 27, HVA ULN 42 mg/g). "
            "Shorter, intermediate-risk therapy (no end-of-induction milestone): chemotherapy, "
            "surgery on day 90, end of therapy day 120. Normal from day 49 on.",
            _series(
                [-2, 21, 49, 84, 98, 125, 160, 250, 340, 430],
                [5, 2.2, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3],
                [3.5, 1.8, 0.55, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3],
            ),
            events=[
                ("Start of induction chemotherapy", 0, "chemotherapy"),
                ("Surgery (resection)", 90, ""),
                ("End of therapy", 120, ""),
                ("Complete remission", 150, "response evaluation"),
            ],
        ),
        Patient(
            "NB-008", "F", dt.date(2020, 9, 18), dt.date(2023, 2, 13), 4,
            "Crosses the 3rd birthday during therapy (2 y 5 m at diagnosis; 3rd birthday on day 213, "
            "between the day-190 and day-265 samples). The normal samples before the birthday sit at "
            "about 0.6 x the 0-2 y limits (VMA ~16, HVA ~25 mg/g), which would be above the 3-5 y "
            "limits (13, 22): only the ULN for the age at each sample gives the right answer. After "
            "the birthday the values are normal against the 3-5 y limits.",
            _series(
                STANDARD_DAYS,
                [8, 3, 1.8, 0.6, 0.6, 0.58, 0.6, 0.45, 0.4, 0.4, 0.35],
                [5, 2.5, 0.6, 0.6, 0.6, 0.58, 0.6, 0.45, 0.4, 0.4, 0.35],
            ),
        ),
        Patient(
            "NB-009", "M", dt.date(2014, 3, 27), dt.date(2021, 9, 20), 4,
            "Relapse, 7 years at diagnosis (6-17 y band). Normal from day 77 through end of therapy, "
            "then two consecutive elevated samples (days 610 and 640, each 1.8-2.8 x ULN, below 3 x) "
            "and a 'Relapse' event on day 655: a confirmed re-elevation. Two later samples in the lab "
            "export (relapse therapy) stay elevated.",
            _series(
                STANDARD_DAYS + [640, 700, 760],
                [10, 3.5, 1.8, 0.5, 0.4, 0.4, 0.35, 0.3, 0.3, 0.35, 2.0, 2.6, 4.0, 2.5],
                [6, 2.4, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 1.8, 2.4, 3.2, 2.0],
                csv_from=12,
            ),
            events=list(STANDARD_EVENTS) + [("Relapse", 655, "metastatic relapse")],
        ),
        Patient(
            "NB-010", "F", dt.date(2017, 12, 12), dt.date(2021, 5, 17), 4,
            "Single mild rise in remission, 3 years at diagnosis (3-5 y band). The baseline HVA is "
            "written '45.2 H' (a trailing high flag: 45.2 mg/g = 2.05 x ULN 22). Normal from day 77; "
            "one VMA of about 1.7 x ULN on day 520, followed by normal samples (day 610 and two in the "
            "lab export): not a re-elevation.",
            _series(
                STANDARD_DAYS + [700, 790],
                [7, 2.8, 1.7, 0.5, 0.4, 0.4, 0.35, 0.35, 0.3, 1.7, 0.35, 0.3, 0.3],
                [2.05, 1.8, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3, 0.3, 0.3],
                csv_from=11,
            ),
        ),
        Patient(
            "NB-011", "M", dt.date(2021, 8, 30), dt.date(2022, 8, 8), 4,
            "HVA-only secretor, 11 months at diagnosis (0-2 y band). VMA is normal throughout "
            "(not informative); HVA is high at diagnosis and normal from day 49.",
            _series(
                STANDARD_DAYS,
                [0.55, 0.5, 0.45, 0.45, 0.4, 0.4, 0.35, 0.35, 0.4, 0.35, 0.3],
                [4.5, 2.2, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3],
            ),
        ),
        Patient(
            "NB-012", "F", dt.date(2015, 4, 18), dt.date(2023, 8, 21), 4,
            "Late baseline, 8 years at diagnosis (6-17 y band). No sample before therapy; the first "
            "sample is 7 days after the start of induction and counts as a late baseline (elevated). "
            "Normal from day 56.",
            _series(
                [7, 28, 56, 84, 110, 152, 190, 265, 432],
                [8, 3, 0.6, 0.5, 0.4, 0.4, 0.35, 0.35, 0.3],
                [5, 2, 0.55, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3],
            ),
        ),
        Patient(
            "NB-013", "F", dt.date(2008, 10, 14), dt.date(2022, 5, 9), 4,
            "Teenager, 13 years at diagnosis (6-17 y band: VMA ULN 9, HVA ULN 15 mg/g). Classic "
            "responder. The day-49 sample's date was typed with the year 2002 instead of 2022, before "
            "the date of birth (rejected). Two later follow-ups come from the lab export; the last VMA "
            "there is '<0,5' µmol/mmol (censored, normal).",
            _series(STANDARD_DAYS + [700, 790], classic_vma + [0.3, 0.3], classic_hva + [0.3, 0.3], csv_from=11),
        ),
        Patient(
            "0042", "M", dt.date(2020, 12, 3), dt.date(2022, 1, 24), 4,
            "Classic responder whose study ID '0042' is stored as text and must stay '0042' (not 42), "
            "13 months at diagnosis (0-2 y band). The day-190 HVA is the text '12,5' (decimal comma "
            "in a text cell: 12.5 mg/g, normal). Two later follow-ups come from the lab export.",
            _series(
                STANDARD_DAYS[:10] + [580, 650],
                classic_vma[:10] + [0.3, 0.3],
                classic_hva[:10] + [0.3, 0.3],
                csv_from=10,
            ),
        ),
    ]
    responder = "baseline elevated; normal from day {d} on (two consecutive normal samples); normal at every milestone"
    for p in patients:
        p.outcomes = {
            "VMA": _responder(responder.format(d=77)),
            "HVA": _responder(responder.format(d=77)),
        }
    by_id = {p.pid: p for p in patients}
    by_id["NB-001"].outcomes = {
        "VMA": _responder(responder.format(d=77) + "; the day-265 VMA 'QNS' is rejected"),
        "HVA": _responder(responder.format(d=49)),
    }
    for pid in ("NB-002", "NB-003", "NB-013", "0042"):
        by_id[pid].outcomes["HVA"] = _responder(responder.format(d=49))
    by_id["NB-004"].outcomes = {
        a: _responder(
            "slow responder: elevated until the last pre-operative sample (day 95); normal from the "
            "first post-operative sample (day 136, nearest to surgery) on; normal at every milestone"
        )
        for a in ("VMA", "HVA")
    }
    by_id["NB-005"].outcomes = {
        "VMA": (
            True, False, True, False,
            "persistent: still elevated (about 2 x ULN) at end of induction and at the complete-remission "
            "milestone; never normal, last sample elevated",
        ),
        "HVA": _responder(responder.format(d=49)),
    }
    by_id["NB-006"].outcomes = {"VMA": NOT_INFORMATIVE, "HVA": NOT_INFORMATIVE}
    by_id["NB-007"].outcomes = {a: _responder("infant (0-2 y limits); " + responder.format(d=49)) for a in ("VMA", "HVA")}
    by_id["NB-008"].outcomes = {
        a: _responder(
            "crosses the 3rd birthday on day 213; "
            + responder.format(d=77 if a == "VMA" else 49)
            + " against the limit for the age at each sample"
        )
        for a in ("VMA", "HVA")
    }
    relapse = (
        "normal from day {d} (two consecutive normal samples) through end of therapy; then two consecutive "
        "elevated samples (days 610 and 640) before the Relapse event: confirmed re-elevation"
    )
    by_id["NB-009"].outcomes = {
        "VMA": (True, True, False, True, relapse.format(d=77)),
        "HVA": (True, True, False, True, relapse.format(d=49)),
    }
    by_id["NB-010"].outcomes = {
        "VMA": (
            True, True, False, False,
            "normal from day 77; one mild rise (about 1.7 x ULN) on day 520 followed by normal samples: "
            "not a re-elevation",
        ),
        "HVA": _responder("baseline '45.2 H' = 2.05 x ULN; " + responder.format(d=49)),
    }
    by_id["NB-011"].outcomes = {
        "VMA": (False, None, None, None, "HVA-only secretor: VMA normal at baseline and throughout: not informative"),
        "HVA": _responder("HVA-only secretor; " + responder.format(d=49)),
    }
    by_id["NB-012"].outcomes = {
        a: _responder(
            "late baseline: first sample 7 days after the start of induction is elevated; "
            + responder.format(d=56)
        )
        for a in ("VMA", "HVA")
    }
    by_id["NB-013"].outcomes = {
        "VMA": _responder(responder.format(d=77) + "; the day-49 sample is rejected (dated before birth)"),
        "HVA": _responder(
            responder.format(d=77) + "; the day-49 sample (designed normal) is rejected (dated before birth)"
        ),
    }
    return patients


def courses() -> list[Patient]:
    """Patients showing the courses the assessment rules were written for (docs/clinical-rules.md).

    They go to their own workbook (``courses_workbook.xlsx``), drawn from their own seed, so the main
    cohort's files stay as they were.
    """
    patients = [
        Patient(
            "NB-014", "M", dt.date(2020, 5, 2), dt.date(2022, 3, 7), 4,
            "Upfront resection, 22 months at diagnosis (0-2 y band). VMA about 7.7 x ULN at diagnosis "
            "(day -3); surgery first (day 0), chemotherapy from day 40. The first post-operative "
            "sample (day 20) is already normal. The baseline window closes at the first treatment of "
            "any kind, the surgery, so the diagnosis sample is the baseline: informative.",
            _series(
                [-3, 20, 49, 77, 152, 190, 265, 432],
                [7.7, 0.5, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3],
                [4.0, 0.5, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3],
            ),
            events=[
                ("Surgery (resection)", 0, "upfront resection"),
                ("Start of induction chemotherapy", 40, "chemotherapy after surgery"),
                ("End of induction", 150, ""),
                ("Complete remission", 200, "response evaluation"),
                ("End of therapy", 430, ""),
            ],
        ),
        Patient(
            "NB-015", "F", dt.date(2017, 3, 14), dt.date(2022, 9, 5), 4,
            "Pre-operative sample, 5 years at diagnosis (3-5 y band). Still about 1.7 x ULN on day 97, "
            "three days before surgery (day 100), normal from the first post-operative sample (day "
            "110) on. The surgery milestone takes the first post-operative sample, so the patient is "
            "not persistent at surgery; normal in complete remission.",
            _series(
                [-3, 21, 49, 77, 97, 110, 152, 190, 265, 432],
                [9, 4, 2.5, 2.0, 1.7, 0.5, 0.4, 0.35, 0.3, 0.3],
                [5, 3, 2.2, 1.9, 1.7, 0.5, 0.4, 0.35, 0.3, 0.3],
            ),
        ),
        Patient(
            "NB-016", "M", dt.date(2016, 11, 20), dt.date(2023, 1, 9), 4,
            "Late normal baseline, 6 years at diagnosis (6-17 y band). No urine before treatment; the "
            "first sample, on day 10 of chemotherapy, is normal. Whether the tumour secreted cannot "
            "be told: informativeness unknown (empty), not 'no'.",
            _series(
                [10, 49, 110, 190, 265],
                [0.5, 0.45, 0.4, 0.4, 0.35],
                [0.55, 0.5, 0.45, 0.4, 0.35],
            ),
        ),
        Patient(
            "NB-017", "F", dt.date(2019, 7, 3), dt.date(2023, 4, 17), 4,
            "Normal only at the last sample, 3 years at diagnosis (3-5 y band). Elevated through "
            "induction, normal for the first time at the last sample (day 152, end of induction); "
            "no later urine and no complete remission yet. One normal sample is not a confirmed "
            "normalization: normal at last sample, unconfirmed (repeat advised).",
            _series(
                [-3, 21, 49, 77, 110, 152],
                [9, 5, 3, 2.2, 1.8, 0.5],
                [5, 3.5, 2.5, 2.0, 1.7, 0.5],
            ),
            events=[
                ("Start of induction chemotherapy", 0, "induction chemotherapy"),
                ("Surgery (resection)", 100, "primary tumour resection"),
                ("End of induction", 150, ""),
            ],
        ),
        Patient(
            "NB-018", "M", dt.date(2015, 1, 28), dt.date(2021, 11, 15), 4,
            "Single 3.5 x rise in remission, 6 years at diagnosis (6-17 y band). Normal from day 77; "
            "VMA about 3.5 x ULN on day 520 (the comment names labetalol, a known interference), "
            "normal again on day 610: an unconfirmed rise, not a re-elevation.",
            _series(
                STANDARD_DAYS,
                [10, 3.5, 1.8, 0.5, 0.4, 0.4, 0.35, 0.3, 0.3, 3.5, 0.35],
                [6, 2.4, 0.6, 0.45, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3, 0.3],
            ),
        ),
        Patient(
            "NB-019", "F", dt.date(2020, 6, 1), dt.date(2022, 12, 9), 4,
            "Birthday limit step, 2 years 6 months at diagnosis. VMA normal from day 49 at about "
            "17 mg/g (0.63 x the 0-2 y limit 27) and flat after the 3rd birthday (2023-06-01, between "
            "the day-152 and day-190 samples), where the 3-5 y limit is 13: the same values flag "
            "elevated. The limit, not the value, changed, so this is neither persistence in complete "
            "remission nor a re-elevation. HVA is a classic responder.",
            _series(
                STANDARD_DAYS,
                [8, 3, 0.63, 0.63, 0.63, 0.63, 1.31, 1.31, 1.31, 1.31, 1.31],
                [5, 2.5, 0.6, 0.45, 0.4, 0.4, 0.4, 0.35, 0.35, 0.3, 0.3],
            ),
        ),
    ]
    course_outcomes({p.pid: p for p in patients})
    return patients


def course_outcomes(by_id: dict[str, Patient]) -> None:
    """The outcomes of :func:`courses`, worked out by hand from docs/clinical-rules.md."""
    responder = "baseline elevated; normal from day {d} on (two consecutive normal samples); normal at every milestone"
    by_id["NB-014"].outcomes = {
        a: _responder("upfront resection: baseline is the diagnosis sample (before surgery, the first treatment); "
                      + responder.format(d=20))
        for a in ("VMA", "HVA")
    }
    by_id["NB-015"].outcomes = {
        a: _responder("elevated on day 97, three days before surgery; the surgery milestone takes the first "
                      "post-operative sample (day 110, normal); " + responder.format(d=110))
        for a in ("VMA", "HVA")
    }
    unknown = (None, None, None, None, "normal late baseline (day 10 of chemotherapy): informativeness unknown")
    by_id["NB-016"].outcomes = {"VMA": unknown, "HVA": unknown}
    by_id["NB-017"].outcomes = {
        a: (True, False, None, False,
            "normal only at the last sample (day 152): unconfirmed, not normalized; no complete remission in "
            "the timeline, so persistence is not judged; never normalized, so no re-elevation")
        for a in ("VMA", "HVA")
    }
    by_id["NB-018"].outcomes = {
        "VMA": (True, True, False, False,
                "normal from day 77; one sample of about 3.5 x ULN on day 520, normal again on day 610: "
                "unconfirmed rise, not a re-elevation"),
        "HVA": _responder(responder.format(d=49)),
    }
    by_id["NB-019"].outcomes = {
        "VMA": (True, True, None, False,
                "normal from day 49 (0-2 y limit 27); flat values elevated only by the 3-5 y limit 13 after the "
                "3rd birthday: not persistence (complete-remission status from a limit step: unknown) and not "
                "a re-elevation"),
        "HVA": _responder(responder.format(d=49)),
    }


# -- designed values ----------------------------------------------------------------------


@dataclass
class Value:
    """One designed result in mg/g creatinine with its ULN."""

    pid: str
    date: dt.date
    analyte: str
    mg_g: float
    uln: float
    source: str
    mild: bool


def design_values(patients: list[Patient], rng: np.random.Generator) -> dict[tuple[str, int, str], Value]:
    """Value (mg/g, 2 decimals) of every designed sample, jittered within the design margins.

    Raises ValueError when a jittered value leaves its margin (a design mistake).
    """
    values: dict[tuple[str, int, str], Value] = {}
    for p in patients:
        for s in p.samples:
            on = p.date(s.day)
            for analyte, multiple in (("VMA", s.vma), ("HVA", s.hva)):
                limit = uln(analyte, p.dob, on)
                jitter = rng.uniform(1 - JITTER, 1 + JITTER)
                x = multiple * jitter
                mild = (p.pid, s.day, analyte) in MILD_RISES
                if mild and not ELEVATED_MIN <= x < 2:
                    raise ValueError(f"{p.pid} day {s.day} {analyte}: {x:.2f} x ULN is not a mild rise")
                if NORMAL_MAX < x < ELEVATED_MIN and (p.pid, s.day, analyte) not in LIMIT_STEP_SAMPLES:
                    raise ValueError(f"{p.pid} day {s.day} {analyte}: {x:.2f} x ULN is inside the margin")
                values[(p.pid, s.day, analyte)] = Value(
                    p.pid, on, analyte, round(x * limit, 2), limit, s.source, mild
                )
    return values


# -- the workbook --------------------------------------------------------------------------


@dataclass
class SampleRow:
    """One row of the Samples sheet as written."""

    pid: object
    date: dt.date
    vma: object
    hva: object
    creatinine: float
    comment: str


def _creatinine(rng: np.random.Generator) -> float:
    # Well above any dilute-urine threshold, so only the designed dilute sample warns.
    return round(float(rng.uniform(3.0, 11.0)), 2)


def samples_rows(
    patients: list[Patient], values: dict[tuple[str, int, str], Value], rng: np.random.Generator,
    *, missing_id_row: bool = True,
) -> tuple[list[SampleRow], list[tuple[str, str, int, str]]]:
    """Rows of the Samples sheet (messy cells included) and the issues as (code, column, row index, note)."""
    rows: list[SampleRow] = []
    issues: list[tuple[str, str, int, str]] = []  # (code, column letter, index into rows, what)
    comments = {-5: "at diagnosis", -3: "at diagnosis", -2: "at diagnosis", 7: "first sample, on chemo"}
    for p in patients:
        for s in p.samples:
            if s.source != "wb":
                continue
            vma = values[(p.pid, s.day, "VMA")].mg_g
            hva = values[(p.pid, s.day, "HVA")].mg_g
            row = SampleRow(p.pid, p.date(s.day), vma, hva, _creatinine(rng), comments.get(s.day, ""))
            index = len(rows)
            key = (p.pid, s.day)
            if key == ("NB-001", 265):
                row.vma = "QNS"
                row.comment = "insufficient volume for VMA"
                issues.append(("non-numeric-result", "C", index, "text result 'QNS' (quantity not sufficient): rejected"))
            elif key == ("NB-002", 190):
                row.creatinine = 0.9
                row.comment = "very dilute"
                # The messy cell is E (creatinine); the warning belongs to each result it qualifies.
                for column in ("C", "D"):
                    issues.append(("dilute-urine", column, index, "creatinine 0.9 mmol/L (E): dilute urine, ratio kept with a warning"))
            elif key == ("NB-003", 520):
                row.vma = "<0.5"
                issues.append(("", "C", index, "censored result '<0.5': kept as < 0.5 mg/g, normal; no issue"))
            elif key == ("NB-010", -3):
                row.hva = "45.2 H"
                issues.append(("", "D", index, "result with a trailing high flag '45.2 H': kept as 45.2 mg/g; no issue"))
            elif key == ("0042", 190):
                row.hva = "12,5"
                issues.append(("", "D", index, "number stored as text with a decimal comma '12,5': kept as 12.5 mg/g; no issue"))
            elif key == ("NB-018", 520):
                row.comment = "started labetalol last week"
                issues.append(("interfering-substance", "F", index, "comment names labetalol: kept with a warning"))
            elif key == ("NB-013", 49):
                row.date = row.date.replace(year=2002)
                row.comment = ""
                issues.append(("sample-before-birth", "B", index, "year typed 2002 instead of 2022, before the date of birth (2008-10-14): row rejected"))
            rows.append(row)
            if key == ("NB-004", 165):
                rows.append(SampleRow(row.pid, row.date, row.vma, row.hva, row.creatinine, row.comment))
                for column in ("C", "D"):
                    issues.append(("duplicate-result", column, index + 1, "exact duplicate of the row above: kept once"))
    if missing_id_row:
        # A row whose study ID was never filled in (the last row of the sheet).
        rows.append(SampleRow(None, dt.date(2023, 11, 6), 4.1, 6.3, _creatinine(rng), "ID?"))
        issues.append(("missing-patient-id", "A", len(rows) - 1, "study ID missing: row rejected"))
    return rows, issues


SAMPLES_FIRST_DATA_ROW = 5  # 2 title lines, a blank line, the header on row 4


def write_workbook(
    path: Path,
    patients: list[Patient],
    sample_rows: list[SampleRow],
) -> None:
    """Write the study workbook with fixed metadata and fixed ZIP entry timestamps."""
    wb = Workbook()
    bold = Font(bold=True)

    ws = wb.active
    ws.title = "Patients"
    ws.append(PATIENTS_HEADER)
    for p in patients:
        ws.append([p.pid, p.sex, p.dob, p.diagnosis, "Neuroblastoma"])
    for row in ws.iter_rows(min_row=2):
        row[0].number_format = "@"  # study IDs are text ("0042" must stay "0042")
        row[2].number_format = "yyyy-mm-dd"
        row[3].number_format = "yyyy-mm-dd"
    for cell in ws[1]:
        cell.font = bold
    for letter, width in zip("ABCDE", (10, 6, 14, 17, 16), strict=True):
        ws.column_dimensions[letter].width = width

    ws = wb.create_sheet("Samples")
    ws["A1"] = SAMPLES_TITLE
    ws["A2"] = SYNTHETIC
    ws["A1"].font = Font(bold=True, size=13)
    last = get_column_letter(len(SAMPLES_HEADER))
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    for column, title in enumerate(SAMPLES_HEADER, start=1):
        ws.cell(row=4, column=column, value=title).font = bold
    for offset, r in enumerate(sample_rows):
        row = SAMPLES_FIRST_DATA_ROW + offset
        ws.cell(row=row, column=1, value=r.pid).number_format = "@"
        ws.cell(row=row, column=2, value=r.date).number_format = "yyyy-mm-dd"
        for column, value in ((3, r.vma), (4, r.hva), (5, r.creatinine)):
            cell = ws.cell(row=row, column=column, value=value)
            cell.number_format = "0.00" if isinstance(value, float) else "@"
        if r.comment:
            ws.cell(row=row, column=6, value=r.comment)
    for letter, width in zip("ABCDEF", (10, 12, 17, 17, 19, 28), strict=True):
        ws.column_dimensions[letter].width = width

    ws = wb.create_sheet("Treatment")
    ws.append(TREATMENT_HEADER)
    for p in patients:
        for label, day, notes in treatment_events(p):
            ws.append([p.pid, label, p.date(day), notes or None])
    for row in ws.iter_rows(min_row=2):
        row[0].number_format = "@"
        row[2].number_format = "yyyy-mm-dd"
    for cell in ws[1]:
        cell.font = bold
    for letter, width in zip("ABCD", (10, 32, 12, 44), strict=True):
        ws.column_dimensions[letter].width = width

    wb.properties.creator = CREATOR
    wb.properties.title = SYNTHETIC
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = CREATOR

    # ExcelWriter directly: openpyxl's save() would stamp the current time as "modified".
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    path.write_bytes(_fixed_zip(buffer.getvalue()))


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a ZIP with fixed entry timestamps/attributes, stored uncompressed.

    Stored (not deflated) entries keep the bytes independent of the zlib build;
    sorted names put ``[Content_Types].xml`` first, where readers expect it.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0
            info.external_attr = 0
            target.writestr(info, source.read(name))
    return out.getvalue()


def treatment_events(p: Patient) -> list[tuple[str, int, str]]:
    """Diagnosis, the therapy events and the last follow-up, as (label, day, notes)."""
    last_day = max(s.day for s in p.samples)
    events = [("Diagnosis", -p.start_offset, "")] + list(p.events)
    events.append(("Last follow-up", last_day + 14, "alive"))
    return sorted(events, key=lambda e: e[1])


# -- the lab export -----------------------------------------------------------------------


def _comma(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def molar(mg_g: float, analyte: str) -> float:
    """mg/g creatinine -> mmol/mol (= µmol/mmol) creatinine, 1 decimal: x 113.12 / M."""
    return round(mg_g * M_CREATININE / MOLAR_MASS[analyte], 1)


def lab_rows(patients: list[Patient], values: dict[tuple[str, int, str], Value]) -> list[list[str]]:
    """Data lines of the lab export: one per (patient, sample, analyte)."""
    rows = []
    for p in patients:
        for s in p.samples:
            if s.source != "csv":
                continue
            on = p.date(s.day)
            for analyte in ("VMA", "HVA"):
                v = values[(p.pid, s.day, analyte)]
                result = molar(v.mg_g, analyte)
                limit = molar(v.uln, analyte)
                flag = "H" if result > limit else ""
                text = _comma(result) + (" H" if flag else "")
                if (p.pid, s.day, analyte) == ("NB-013", 790, "VMA"):
                    text = "<0,5"  # below the lab's limit of quantitation
                rows.append(
                    [
                        p.pid,
                        p.dob.strftime("%d.%m.%Y"),
                        on.strftime("%d.%m.%Y"),
                        TEST_NAME[analyte],
                        LOINC_MOLAR_RATIO[analyte],
                        text,
                        CSV_UNIT,
                        flag,
                        "<" + _comma(limit),
                    ]
                )
    return rows


def write_lab_csv(path: Path, rows: list[list[str]]) -> int:
    """Write the export (cp1252, ';', CRLF); return the number of lines written."""
    lines = list(CSV_TITLES) + [";".join(CSV_HEADER)] + [";".join(r) for r in rows] + ["", CSV_FOOTER]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return len(lines)


# -- expectations ---------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _bool(x: bool | None) -> str:
    """``true``/``false``; an empty cell where the outcome does not apply (not informative)."""
    if x is None:
        return ""
    return "true" if x else "false"


def main(argv: list[str] | None = None) -> Path:
    """Write every sample file.

    Parameters
    ----------
    argv : list of str, optional
        ``[OUTPUT_DIR]``; the command-line arguments when None. Without an
        output directory the files go to this script's folder.

    Returns
    -------
    Path
        The folder written to.

    Raises
    ------
    ValueError
        When a designed value falls inside the 0.7-1.5 x ULN margin (a design mistake).

    Examples
    --------
    >>> main(["sample_out"])  # doctest: +SKIP
    """
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    patients = cohort()
    values = design_values(patients, rng)
    sample_rows, issues = samples_rows(patients, values, rng)
    write_workbook(out / WORKBOOK, patients, sample_rows)
    csv_rows = lab_rows(patients, values)
    csv_lines = write_lab_csv(out / LAB_CSV, csv_rows)

    _write_outcomes(out / OUTCOMES_CSV, patients)
    _write_issues(out / ISSUES_CSV, issues)

    # Row accounting by construction. Rejected: rows with an error and no usable
    # result (the missing-ID row, the row dated before birth). Skipped: the 4 rows
    # above the data and the exact duplicate row, whose results are merged into
    # the row above so it produces nothing of its own (and has only warnings).
    n_events = sum(len(treatment_events(p)) for p in patients)
    rejected = len({index for code, _, index, _ in issues if code in ("missing-patient-id", "sample-before-birth")})
    duplicates = len({index for code, _, index, _ in issues if code == "duplicate-result"})
    samples_read = SAMPLES_FIRST_DATA_ROW - 1 + len(sample_rows)
    samples_skipped = SAMPLES_FIRST_DATA_ROW - 1 + duplicates
    counts = [
        [WORKBOOK, "Patients", 1 + len(patients), len(patients), 0, 1],
        [WORKBOOK, "Samples", samples_read, samples_read - rejected - samples_skipped, rejected, samples_skipped],
        [WORKBOOK, "Treatment", 1 + n_events, n_events, 0, 1],
        [LAB_CSV, "", csv_lines, len(csv_rows), 0, csv_lines - len(csv_rows)],
    ]
    _write_csv(out / COUNTS_CSV, ["file", "sheet", "read", "kept", "rejected", "skipped"], counts)
    write_courses(out)
    return out


def _write_outcomes(path: Path, patients: list[Patient]) -> None:
    _write_csv(path, OUTCOME_HEADER, [[p.pid, a, *(_bool(x) for x in p.outcomes[a][:4]), p.outcomes[a][4]]
                                      for p in patients for a in ("VMA", "HVA")])


def _write_issues(path: Path, issues: list[tuple[str, str, int, str]]) -> None:
    _write_csv(path, ["code", "sheet", "cell"],
               [[code, "Samples", f"{column}{SAMPLES_FIRST_DATA_ROW + index}"] for code, column, index, _ in issues
                if code])


def write_courses(out: Path) -> None:
    """The courses workbook and its expectations, from a seed of their own (the main files do not move)."""
    rng = np.random.default_rng(SEED + 1)
    patients = courses()
    values = design_values(patients, rng)
    rows, issues = samples_rows(patients, values, rng, missing_id_row=False)
    write_workbook(out / COURSES_WORKBOOK, patients, rows)
    _write_outcomes(out / COURSES_OUTCOMES_CSV, patients)
    _write_issues(out / COURSES_ISSUES_CSV, issues)


if __name__ == "__main__":
    main()
