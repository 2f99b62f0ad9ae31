"""Deterministic benchmark inputs: long-layout lab exports with realistic messiness.

Every file is a function of ``(rows, seed)`` only, so it is cached under the
cache directory and regenerated only when missing. The layout is the one a lab
information system exports: one result per row, 13 columns::

    Patient ID | Sex | Date of birth | Collection date | Test | LOINC | Result |
    Unit | Creatinine | Creatinine unit | Comment | Laboratory | Accession

Messiness mirrors real exports: result cells are mostly numbers, some are
censored text (``"<0.5"``), some carry a lab flag (``"45.2 H"``), a few are
``"QNS"`` (quantity not sufficient); test names are spelled several ways; a
few patient IDs are zero-padded digits (``"0042"``) that must stay text;
comments are mostly empty. The xlsx has a title line and a blank line above the
header, as LIS exports often do; dates are date cells in the workbook and ISO
text in the CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import pathlib

import numpy as np

HEADER = [
    "Patient ID", "Sex", "Date of birth", "Collection date", "Test", "LOINC", "Result",
    "Unit", "Creatinine", "Creatinine unit", "Comment", "Laboratory", "Accession",
]
SAMPLES_PER_PATIENT = 10  # two results (VMA, HVA) per sample -> 20 rows per patient
_TESTS = {
    "VMA": (["Vanillylmandelic acid", "VMA", "VMA/Creatinine"], "3124-5"),
    "HVA": (["Homovanillic acid", "HVA", "HVA/Creatinine"], "11146-8"),
}
_COMMENTS = ["", "", "", "", "", "", "", "", "haemolysed", "repeat requested", "spot urine, morning"]
_EPOCH = np.datetime64("1970-01-01", "D")


def _courses(rows: int, patients: int | None) -> tuple[int, np.ndarray, np.ndarray]:
    """(number of patients, patient of each sample, rank of each sample within its patient).

    Without ``patients``: the registry shape, ``SAMPLES_PER_PATIENT`` samples each. With it:
    the samples spread evenly over that many patients (so 100,000 rows on 33,000 patients
    gives one or two samples each, 1,000,000 rows on 2,000 patients 250 each).
    """
    n_samples = -(-rows // 2)
    if patients is None:
        n_patients = max(1, -(-n_samples // SAMPLES_PER_PATIENT))
        patient_of_sample = np.repeat(np.arange(n_patients), SAMPLES_PER_PATIENT)[:n_samples]
        sample_no = np.tile(np.arange(SAMPLES_PER_PATIENT), n_patients)[:n_samples]
        return n_patients, patient_of_sample, sample_no
    n_patients = max(1, min(patients, n_samples))
    patient_of_sample = (np.arange(n_samples, dtype=np.int64) * n_patients) // n_samples
    starts = np.searchsorted(patient_of_sample, np.arange(n_patients))
    return n_patients, patient_of_sample, np.arange(n_samples) - starts[patient_of_sample]


def _columns(rows: int, seed: int, patients: int | None = None) -> dict[str, np.ndarray]:
    """All 13 columns as numpy arrays (dates as datetime64[D]), deterministic in (rows, seed, patients)."""
    rng = np.random.default_rng(seed)
    n_samples = -(-rows // 2)
    n_patients, patient_of_sample, sample_no = _courses(rows, patients)

    # patient attributes
    ids = np.array([f"NB-{i:06d}" for i in range(n_patients)], dtype=object)
    padded = rng.random(n_patients) < 0.01
    ids[padded] = [f"00{i:02d}" for i in np.flatnonzero(padded)]  # digits with leading zeros stay text
    sex = rng.choice(np.array(["M", "F", "m", "female"], dtype=object), n_patients, p=[0.45, 0.45, 0.05, 0.05])
    if patients is None:
        dob = np.datetime64("2004-01-01", "D") + rng.integers(0, 18 * 365, n_patients).astype("timedelta64[D]")
        # first sample within 1-3 years after birth, then one every ~60 days (distinct dates per patient)
        first = dob + rng.integers(365, 3 * 365, n_patients).astype("timedelta64[D]")
        step = rng.integers(30, 90, n_samples).astype("timedelta64[D]")
        sample_date = first[patient_of_sample] + (sample_no * 60).astype("timedelta64[D]") + step
    else:
        # a course of at most ~5 years whatever its length: one sample every `spacing` days, jittered
        # within the interval so dates stay distinct and increasing
        spacing = max(2, min(60, 1800 // max(1, int(sample_no.max()) + 1)))
        dob = np.datetime64("2004-01-01", "D") + rng.integers(0, 12 * 365, n_patients).astype("timedelta64[D]")
        first = dob + rng.integers(365, 3 * 365, n_patients).astype("timedelta64[D]")
        step = rng.integers(0, spacing, n_samples).astype("timedelta64[D]")
        sample_date = first[patient_of_sample] + (sample_no * spacing).astype("timedelta64[D]") + step
    creat = np.round(rng.uniform(0.8, 15.0, n_samples), 2)

    # expand samples to rows: row 2k is VMA, 2k+1 is HVA
    sample_of_row = np.arange(rows) // 2
    analyte = np.where(np.arange(rows) % 2 == 0, "VMA", "HVA")
    spelling = rng.integers(0, 3, rows)
    test = np.array([_TESTS[a][0][s] for a, s in zip(analyte, spelling, strict=True)], dtype=object)
    loinc = np.where(analyte == "VMA", _TESTS["VMA"][1], _TESTS["HVA"][1]).astype(object)
    values = np.round(rng.lognormal(1.5, 0.8, rows), 1)
    kind = rng.random(rows)
    result = values.astype(object)
    censored = kind < 0.05
    result[censored] = "<0.5"
    flagged = (kind >= 0.05) & (kind < 0.15)
    result[flagged] = [f"{v:.1f} H" for v in values[flagged]]
    result[kind > 0.998] = "QNS"
    comment = rng.choice(np.array(_COMMENTS, dtype=object), rows)
    accession = np.array([f"A{8_000_000 + i:08d}" for i in range(n_samples)], dtype=object)
    p = patient_of_sample[sample_of_row]
    return {
        "Patient ID": ids[p],
        "Sex": sex[p],
        "Date of birth": dob[p],
        "Collection date": sample_date[sample_of_row],
        "Test": test,
        "LOINC": loinc,
        "Result": result,
        "Unit": np.full(rows, "mg/g creat", dtype=object),
        "Creatinine": creat[sample_of_row],
        "Creatinine unit": np.full(rows, "mmol/L", dtype=object),
        "Comment": comment,
        "Laboratory": np.full(rows, "Central Lab", dtype=object),
        "Accession": accession[sample_of_row],
    }


def _to_dates(values: np.ndarray) -> list[dt.date]:
    days = (values - _EPOCH).astype(int)
    base = dt.date(1970, 1, 1)
    cache: dict[int, dt.datetime] = {}
    out = []
    for d in days.tolist():
        got = cache.get(d)
        if got is None:
            got = cache[d] = dt.datetime.combine(base + dt.timedelta(days=d), dt.time())
        out.append(got)
    return out


def write_csv(path: pathlib.Path, *, rows: int, seed: int, patients: int | None = None) -> None:
    """Write the CSV version (comma-separated, UTF-8, ISO dates)."""
    cols = _columns(rows, seed, patients)
    dob = np.datetime_as_string(cols["Date of birth"], unit="D")
    sample = np.datetime_as_string(cols["Collection date"], unit="D")
    result = [v if isinstance(v, str) else f"{v:.1f}" for v in cols["Result"].tolist()]
    creat = [f"{v:.2f}" for v in cols["Creatinine"].tolist()]
    tmp = path.with_name(path.name + ".tmp")  # csv and xlsx of one size never share it
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Central Lab - urine catecholamine metabolites export"])
        writer.writerow(HEADER)
        writer.writerows(
            zip(cols["Patient ID"], cols["Sex"], dob, sample, cols["Test"], cols["LOINC"], result, cols["Unit"],
                creat, cols["Creatinine unit"], cols["Comment"], cols["Laboratory"], cols["Accession"], strict=True)
        )
    os.replace(tmp, path)


def write_xlsx(path: pathlib.Path, *, rows: int, seed: int, patients: int | None = None) -> None:
    """Write the xlsx version with openpyxl's write-only mode (streams rows; dates as date cells)."""
    import openpyxl

    cols = _columns(rows, seed, patients)
    dob = _to_dates(cols["Date of birth"])
    sample = _to_dates(cols["Collection date"])
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Results")
    sheet.append(["Central Lab - urine catecholamine metabolites export"])
    sheet.append([])
    sheet.append(HEADER)
    comment = [c or None for c in cols["Comment"].tolist()]
    for row in zip(cols["Patient ID"].tolist(), cols["Sex"].tolist(), dob, sample, cols["Test"].tolist(),
                   cols["LOINC"].tolist(), cols["Result"].tolist(), cols["Unit"].tolist(),
                   cols["Creatinine"].tolist(), cols["Creatinine unit"].tolist(), comment,
                   cols["Laboratory"].tolist(), cols["Accession"].tolist(), strict=True):
        sheet.append(row)
    tmp = path.with_name(path.name + ".tmp")  # csv and xlsx of one size never share it
    book.save(tmp)
    os.replace(tmp, path)


def ensure(cache: pathlib.Path, *, rows: int, fmt: str, seed: int = 20240, patients: int | None = None
           ) -> pathlib.Path:
    """Return the cached input file for ``(rows, fmt, seed, patients)``, generating it when missing.

    ``patients=None`` is the registry shape (``SAMPLES_PER_PATIENT`` samples per patient).
    """
    cache.mkdir(parents=True, exist_ok=True)
    path = path_for(cache, rows=rows, fmt=fmt, seed=seed, patients=patients)
    if not path.exists():
        (write_xlsx if fmt == "xlsx" else write_csv)(path, rows=rows, seed=seed, patients=patients)
    return path


def path_for(cache: pathlib.Path, *, rows: int, fmt: str, seed: int = 20240, patients: int | None = None
             ) -> pathlib.Path:
    """Where :func:`ensure` keeps the input for ``(rows, fmt, seed, patients)``."""
    shape = "" if patients is None else f"_p{patients}"
    return cache / f"long_{rows}{shape}_seed{seed}.{fmt}"
